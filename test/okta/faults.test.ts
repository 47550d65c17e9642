import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import { OktaDirectory, SEEDED_AT, type FakeOkta } from '../fakes/okta/index.js';
import { allGroups, callOptions, collect, newStats, oktaConnectorFor, onGroupsList, startFakeOkta } from './helpers.js';

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('Okta connector under faults', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();

  beforeAll(async () => {
    for (let i = 0; i < 25; i++) directory.addGroup({ name: `team-${i}`, at: SEEDED_AT });
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.server.resetLog();
    fake.clearFaults();
  });

  it('waits out a 429 storm as X-Rate-Limit-Reset says, then succeeds, counting the retries', async () => {
    const connector = oktaConnectorFor(fake, { pageSize: 10, maxRetries: 3 });
    // The second page is rate limited twice: the SDK retries that page, not the listing.
    let seen = 0;
    fake.rateLimitStorm(2, (request) => request.path === '/api/v1/groups' && ++seen >= 2);
    const stats = newStats();
    const groups = await allGroups(connector, stats);

    expect(groups.map((g) => g.name)).toEqual(directory.groups().map((g) => g.profile.name));
    expect(fake.apiCalls(onGroupsList)).toBe(3 + 2);
    expect(stats).toEqual({ apiCalls: 5, pages: 3, retries: 2 });
    const retried = fake.server.requests.filter((r) => r.headers['x-okta-retry-count'] !== undefined);
    expect(retried.map((r) => r.headers['x-okta-retry-count'])).toEqual(['1', '2']);
    expect(retried.every((r) => r.query.has('after'))).toBe(true);
  });

  it('waits out a 429 late in a long listing: each page has its own time budget', async () => {
    // The SDK reuses one request object for every page of a collection; were its start time kept,
    // a listing older than the SDK's requestTimeout (here 2 x 1500 ms) could no longer wait out a
    // 429. And the 2 s wait is more than half that budget, which the SDK's own retry mishandles.
    const connector = oktaConnectorFor(fake, { pageSize: 5, timeoutMs: 1500, maxRetries: 1 });
    fake.slowAnswers(4, 400);
    fake.rateLimitStorm(1, () => fake.apiCalls() === 5);
    const stats = newStats();
    expect(await allGroups(connector, stats)).toHaveLength(25);
    expect(stats).toEqual({ apiCalls: 6, pages: 5, retries: 1 });
  });

  it('reports rate_limited with the wait Okta asked for once the SDK retries are spent', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 1 });
    fake.rateLimitStorm(5);
    const stats = newStats();
    const error = await failure(allGroups(connector, stats));

    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(2000);
    expect(fake.apiCalls()).toBe(2);
    expect(stats.retries).toBe(1);
  });

  it('retries a 5xx and succeeds when the org recovers', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 2 });
    fake.serverErrors(2, { status: 503 });
    const stats = newStats();
    expect(await allGroups(connector, stats)).toHaveLength(25);
    expect(fake.apiCalls()).toBe(3);
    expect(stats).toEqual({ apiCalls: 3, pages: 1, retries: 2 });
  });

  it('fails with unreachable, never an empty list, when 5xx outlast the retries', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 2 });
    fake.serverErrors(10);
    const pages: unknown[] = [];
    const error = await failure(
      (async () => {
        for await (const page of connector.listGroups(callOptions())) pages.push(page);
      })(),
    );
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('E0000009');
    expect(pages).toEqual([]);
    expect(fake.apiCalls()).toBe(3);
  });

  it('fails mid-listing without pretending the listing ended', async () => {
    const connector = oktaConnectorFor(fake, { pageSize: 10, maxRetries: 0 });
    fake.serverErrors(1, { match: (request) => request.query.has('after') });
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const page of connector.listGroups(callOptions())) seen.push(...page.map((g) => g.id));
      })(),
    );
    expect(error.kind).toBe('unreachable');
    expect(seen).toHaveLength(10);
  });

  it('maps a wrong token to auth_failed without retrying', async () => {
    const connector = oktaConnectorFor(fake, { token: 'not-the-token', maxRetries: 3 });
    const error = await failure(allGroups(connector));
    expect(error.kind).toBe('auth_failed');
    expect(error.message).toContain('E0000011');
    expect(error.message).not.toContain('not-the-token');
    expect(fake.apiCalls()).toBe(1);
  });

  it('times out a request that does not answer within timeoutMs', async () => {
    const connector = oktaConnectorFor(fake, { timeoutMs: 200, maxRetries: 0 });
    fake.slowAnswers(1, 3000);
    const error = await failure(allGroups(connector));
    expect(error.kind).toBe('timeout');
  });

  it('retries a timed-out request and then succeeds', async () => {
    // Room for the answers that must come in time, on a busy machine too; the slow one never does.
    const connector = oktaConnectorFor(fake, { timeoutMs: 1_000, maxRetries: 1 });
    fake.slowAnswers(1, 3000);
    const stats = newStats();
    expect(await allGroups(connector, stats)).toHaveLength(25);
    expect(stats.retries).toBe(1);
  });

  it('stops when the caller aborts', async () => {
    const connector = oktaConnectorFor(fake, { timeoutMs: 10_000, maxRetries: 3 });
    // Okta holds the request: the abort comes while it is in flight, however slow the machine.
    const held = fake.server.hold(1);
    const controller = new AbortController();
    const pending = collect(connector.listGroups({ signal: controller.signal })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await held.arrived;
    controller.abort(new Error('shutting down'));
    const error = await pending;
    held.release();
    expect(error).toEqual(new Error('shutting down'));
    expect(fake.apiCalls()).toBe(1);
  });

  it('reports an answer that is not Okta-shaped as bad_response', async () => {
    const connector = oktaConnectorFor(fake);
    fake.server.inject({ times: 1, response: { status: 200, body: [{ id: 'x', type: 'OKTA_GROUP' }] } });
    const error = await failure(allGroups(connector));
    expect(error.kind).toBe('bad_response');
  });

  it('reports a 200 that is not JSON as bad_response, and a proxy error page as unreachable', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 0 });
    fake.server.inject({ times: 1, response: { status: 200, body: 'not json' } });
    expect((await failure(allGroups(connector))).kind).toBe('bad_response');
    fake.server.inject({ times: 1, response: { status: 502, body: '<html>Bad Gateway</html>' } });
    expect((await failure(allGroups(connector))).kind).toBe('unreachable');
  });

  it('reports a closed port as unreachable', async () => {
    const closed = await startFakeOkta();
    const connector = oktaConnectorFor(closed, { maxRetries: 1 });
    await closed.stop();
    const error = await failure(allGroups(connector));
    expect(error.kind).toBe('unreachable');
  });
});
