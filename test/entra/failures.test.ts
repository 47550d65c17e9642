import { afterEach, describe, expect, test } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import type { LoggedRequest } from '../fakes/fake-server.js';
import type { FakeEntra } from '../fakes/entra/fake-entra.js';
import { callOptions, collect, startEntra } from './harness.js';

let fake: FakeEntra | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

const listGroupsCall = (r: LoggedRequest) => r.path === '/v1.0/groups';
const throttled = { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'Too many requests' } } };

describe('entra connector: failures', () => {
  test('a 429 storm with Retry-After ends in success, every retry counted', async () => {
    const started = await startEntra({}, { pageSize: 2, maxRetries: 4 });
    fake = started.fake;
    for (let i = 0; i < 3; i++) fake.directory.addGroup({ displayName: `g${i}` });
    // The second page is throttled twice before it is served.
    let seen = 0;
    fake.server.inject({ match: (r) => listGroupsCall(r) && ++seen >= 2, times: 2, response: throttled });
    const options = callOptions();

    const groups = (await collect(started.connector.listGroups(options))).flat();

    expect(groups.map((g) => g.name).sort()).toEqual(['g0', 'g1', 'g2']);
    expect(options.stats).toEqual({ apiCalls: 4, pages: 2, retries: 2 });
    expect(fake.graphCalls('/v1.0/groups')).toHaveLength(4);
  });

  test('throttling beyond maxRetries is rate_limited and carries the Retry-After wait', async () => {
    const started = await startEntra({}, { maxRetries: 0 });
    fake = started.fake;
    fake.server.inject({ match: listGroupsCall, times: 1, response: { ...throttled, headers: { 'retry-after': '7' } } });

    const error = await collect(started.connector.listGroups(callOptions())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
  });

  test('a wrong client secret is auth_failed, tried once, and no Graph request is sent', async () => {
    const started = await startEntra({}, { clientSecret: 'not-the-secret' });
    fake = started.fake;
    fake.directory.addGroup({ displayName: 'g' });

    const error = await collect(started.connector.listGroups(callOptions())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'auth_failed' });
    expect(error).toMatchObject({ message: expect.stringContaining('AADSTS7000215') });
    expect(error).not.toMatchObject({ message: expect.stringContaining('not-the-secret') });
    expect(fake.server.count((r) => r.path.endsWith('/oauth2/v2.0/token'))).toBe(1);
    expect(fake.graphCalls()).toHaveLength(0);
  });

  test('a busy token endpoint is retried like Graph is', async () => {
    const started = await startEntra({}, { maxRetries: 2 });
    fake = started.fake;
    fake.directory.addGroup({ displayName: 'g' });
    fake.server.inject({
      match: (r) => r.path.endsWith('/oauth2/v2.0/token'),
      times: 1,
      response: { status: 503, body: { error: 'temporarily_unavailable', error_description: 'AADSTS50000: busy' } },
    });
    const options = callOptions();

    const groups = (await collect(started.connector.listGroups(options))).flat();

    expect(groups.map((g) => g.name)).toEqual(['g']);
    expect(options.stats.retries).toBe(1);
  });

  test('a token endpoint slower than timeoutMs is a timeout', async () => {
    const started = await startEntra({}, { timeoutMs: 200, maxRetries: 0 });
    fake = started.fake;
    fake.server.inject({ match: (r) => r.path.includes('/v2.0/'), times: 1, delayMs: 2_000 });

    const error = await collect(started.connector.listGroups(callOptions())).catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'timeout' });
  });

  test('a token Graph rejects (401 InvalidAuthenticationToken) is auth_failed', async () => {
    const started = await startEntra();
    fake = started.fake;
    await collect(started.connector.listGroups(callOptions()));
    fake.revokeTokens();

    const error = await collect(started.connector.listGroups(callOptions())).catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'auth_failed' });
    expect(error).toMatchObject({ message: expect.stringContaining('InvalidAuthenticationToken') });
  });

  test.each([500, 502, 503, 504])('HTTP %i beyond the retries is an error, never an empty list', async (status) => {
    const started = await startEntra({}, { maxRetries: 2 });
    fake = started.fake;
    fake.directory.addGroup({ displayName: 'g' });
    fake.server.inject({ match: listGroupsCall, times: 3, response: { status, body: { error: { code: 'UnknownError', message: 'boom' } } } });
    const options = callOptions();
    const pages: unknown[] = [];

    const error = await (async () => {
      for await (const page of started.connector.listGroups(options)) pages.push(page);
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(pages).toEqual([]);
    expect(options.stats).toMatchObject({ apiCalls: 3, retries: 2 });
  });

  test('a failure after the first page ends the listing with an error', async () => {
    const started = await startEntra({}, { pageSize: 1, maxRetries: 1 });
    fake = started.fake;
    fake.directory.addGroup({ displayName: 'a' });
    fake.directory.addGroup({ displayName: 'b' });
    fake.server.inject({ match: (r) => listGroupsCall(r) && r.query.has('$skiptoken'), times: 2, response: { status: 503, body: { error: { code: 'x', message: 'y' } } } });
    const pages: unknown[] = [];

    const error = await (async () => {
      for await (const page of started.connector.listGroups(callOptions())) pages.push(page);
    })().catch((e: unknown) => e);

    expect(pages).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'unreachable' });
  });

  test('a Graph answer slower than timeoutMs is a timeout', async () => {
    // Room for the first listing's answers, which must come in time on a busy machine too.
    const started = await startEntra({}, { timeoutMs: 1_000, maxRetries: 0 });
    fake = started.fake;
    await collect(started.connector.listGroups(callOptions())); // token fetched, not part of the wait
    fake.server.inject({ match: listGroupsCall, times: 1, delayMs: 2_000 });

    const error = await collect(started.connector.listGroups(callOptions())).catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'timeout' });
  });

  test('the caller aborting ends the call with its abort, not a retry', async () => {
    const started = await startEntra({}, { maxRetries: 4 });
    fake = started.fake;
    fake.server.inject({ match: listGroupsCall, times: 1, delayMs: 2_000 });
    const controller = new AbortController();
    const pending = collect(started.connector.listGroups({ signal: controller.signal })).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 100);

    const error = await pending;

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(fake.graphCalls('/v1.0/groups').length).toBeLessThanOrEqual(1);
  });
});
