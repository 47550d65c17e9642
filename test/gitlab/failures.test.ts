import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, type IdpGroup } from '../../connectors/types.js';
import type { GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import { callOptions, collect, connect, startGitlab } from './harness.js';

/** Node timers and the clock tick in whole milliseconds: a wait may end up to 1 ms early. */
const CLOCK_GRANULARITY_MS = 1;

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('GitLab connector: rate limits and failures', () => {
  let fake: GitlabFake;
  beforeEach(async () => {
    fake = await startGitlab();
    for (let i = 0; i < 25; i++) fake.directory.addGroup(`g${String(i).padStart(2, '0')}`);
    const ada = fake.directory.addUser({ username: 'ada' });
    fake.directory.addMember('g00', ada.id);
  });
  afterEach(() => fake.stop());

  it('honours Retry-After on 429, retrying only the limited page', async () => {
    const onPage2 = (r: { query: URLSearchParams }) => r.query.get('page') === '2';
    fake.server.inject(fake.tooManyRequests({ retryAfterSeconds: 1, match: onPage2 }));
    const options = callOptions();
    const groups = await collect(connect(fake, { pageSize: 10 }).listGroups(options));

    expect(groups).toHaveLength(25);
    expect(options.stats).toEqual({ apiCalls: 4, pages: 3, retries: 1 });
    expect(fake.server.requests.map((r) => r.query.get('page'))).toEqual(['1', '2', '2', '3']);
    const limited = fake.answers.findIndex((a) => a.status === 429);
    const [throttled, retried] = [fake.answers[limited]!, fake.answers[limited + 1]!];
    expect(retried.request.query.get('page')).toBe('2');
    expect(retried.at - throttled.at).toBeGreaterThanOrEqual(1000 - CLOCK_GRANULARITY_MS);
  });

  it('fails with rate_limited when 429s outlast the retries', async () => {
    fake.server.inject(fake.tooManyRequests({ retryAfterSeconds: 0, times: 10 }));
    const options = callOptions();
    const failure = await failureOf(() => collect(connect(fake, { maxRetries: 2 }).listGroups(options)));
    expect(failure).toMatchObject({ kind: 'rate_limited' });
    expect(options.stats).toMatchObject({ apiCalls: 3, retries: 2 });
  });

  it('reports 5xx beyond the retries as unreachable, never as an empty list', async () => {
    fake.server.inject(fake.failing(503, { times: 100 }));
    const connector = connect(fake, { maxRetries: 2 });
    const options = callOptions();
    const seen: IdpGroup[][] = [];
    const failure = await failureOf(async () => {
      for await (const page of connector.listGroups(options)) seen.push(page);
    });
    expect(failure).toBeInstanceOf(ConnectorError);
    expect(failure).toMatchObject({ kind: 'unreachable' });
    expect(seen).toEqual([]);
    expect(options.stats).toMatchObject({ apiCalls: 3, retries: 2, pages: 0 });

    const g00 = fake.directory.findGroupByPath('g00')!;
    await expect(collect(connector.listMembers({ id: String(g00.id), name: 'g00' }, callOptions()))).rejects.toMatchObject({
      kind: 'unreachable',
    });
    const ada = fake.directory.allUsers().find((u) => u.username === 'ada')!;
    await expect(connector.lookupUser({ subject: String(ada.id), email: 'ada@example.com' }, callOptions())).rejects.toMatchObject(
      { kind: 'unreachable' },
    );
  });

  it('recovers from a 502 within the retries', async () => {
    fake.server.inject(fake.failing(502, { times: 1 }));
    const options = callOptions();
    expect(await collect(connect(fake).listGroups(options))).toHaveLength(25);
    expect(options.stats).toMatchObject({ apiCalls: 2, retries: 1 });
  });

  it('maps a bad token to auth_failed for every call', async () => {
    const connector = connect(fake, { token: 'glpat-wrong' });
    await expect(collect(connector.listGroups(callOptions()))).rejects.toMatchObject({ kind: 'auth_failed' });
    await expect(collect(connector.listMembers({ id: '100', name: 'g00' }, callOptions()))).rejects.toMatchObject({
      kind: 'auth_failed',
    });
    await expect(connector.lookupUser({ subject: '1000', email: 'ada@example.com' }, callOptions())).rejects.toMatchObject({
      kind: 'auth_failed',
    });
    // A refused token is not retried.
    expect(fake.server.count()).toBe(3);
  });

  it('times out a slow answer per request, and retries it', async () => {
    // Room for the answers that must come in time, on a busy machine too; the slow ones never do.
    fake.server.inject(fake.slow(5_000, { times: 1 }));
    const options = callOptions();
    expect(await collect(connect(fake, { timeoutMs: 1_000 }).listGroups(options))).toHaveLength(25);
    expect(options.stats).toMatchObject({ apiCalls: 2, retries: 1 });

    fake.server.inject(fake.slow(5_000, { times: 2 }));
    const failure = await failureOf(() => collect(connect(fake, { timeoutMs: 1_000, maxRetries: 1 }).listGroups(callOptions())));
    expect(failure).toMatchObject({ kind: 'timeout' });
  });

  it('stops at once when the caller aborts', async () => {
    fake.server.inject(fake.slow(5_000, { times: 1 }));
    const controller = new AbortController();
    const pending = collect(connect(fake).listGroups(callOptions(controller.signal)));
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a vanished group as bad_response, and an unknown root group as invalid_config', async () => {
    await expect(collect(connect(fake).listMembers({ id: '999999', name: 'gone' }, callOptions()))).rejects.toMatchObject({
      kind: 'bad_response',
    });
    await expect(collect(connect(fake, { rootGroups: ['no-such-group'] }).listGroups(callOptions()))).rejects.toMatchObject({
      kind: 'invalid_config',
    });
  });

  it('rejects a malformed answer as bad_response', async () => {
    fake.server.inject({ times: 1, response: { status: 200, headers: { 'x-next-page': '' }, body: [{ id: 'x' }] } });
    await expect(collect(connect(fake).listGroups(callOptions()))).rejects.toMatchObject({ kind: 'bad_response' });
    fake.server.inject({ times: 1, response: { status: 200, body: [] } });
    // A list without paging headers could be cut short: refused, not read as complete.
    await expect(collect(connect(fake).listGroups(callOptions()))).rejects.toMatchObject({ kind: 'bad_response' });
  });
});
