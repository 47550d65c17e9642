import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FakeOkta } from '../fakes/okta/index.js';
import { startFakeOkta } from '../okta/helpers.js';
import { DIRECTORY, startDaemon, type TestDaemon } from '../support/daemon.js';

let d: TestDaemon;
let okta: FakeOkta | undefined;
afterEach(async () => {
  await d?.stop();
  await okta?.stop();
  okta = undefined;
});

/** Starts a run over HTTP and polls it until it ends. */
async function prewarm(body: Record<string, unknown> = { connector: 'demo' }) {
  const started = await d.call('POST', '/v1/prewarm', body);
  expect(started.status).toBe(202);
  const id: string = started.body.runs[0].id;
  for (;;) {
    const run = await d.call('GET', `/v1/prewarm/${id}`);
    if (run.body.state !== 'running') return run.body;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function writeDirectory(directory: unknown) {
  writeFileSync(join(d.dir, 'directory.json'), JSON.stringify(directory));
}

const ada = { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };

describe('pre-warm over HTTP', () => {
  it('fills the cache, so the next login needs no IdP look-up', async () => {
    d = await startDaemon();
    const run = await prewarm();
    expect(run).toMatchObject({
      connector: 'demo',
      mode: 'full',
      state: 'succeeded',
      figures: { groups: 6, users: 4, memberships: 5, errors: 0 },
      details: { groupsTotal: 6, absentMarked: 0, membershipsRemoved: 0, guard: null },
    });
    const cached = await d.daemon.store.listCachedUsers('demo');
    expect(cached.map((u) => [u.subject, u.groups])).toContainEqual(['00u1ada', ['ENT_ORGA_ADMINS', 'developers']]);

    // The IdP goes away; the warm cache still answers.
    unlinkSync(join(d.dir, 'directory.json'));
    const login = await d.login(ada);
    expect(login.body.groups).toMatchObject({ source: 'cache', names: ['ENT_ORGA_ADMINS', 'developers'] });
    expect(login.body.organizations).toEqual(['OrgA', 'OrgB']);
  });

  it('computes what the next login will change into the sync state, and the login applies it', async () => {
    d = await startDaemon();
    const first = await d.login(ada);
    const userId = first.body.user.id;
    writeDirectory({
      ...DIRECTORY,
      users: DIRECTORY.users.map((u) => (u.subject === '00u1ada' ? { ...u, groups: ['ENT_ORGA_ADMINS', 'sonar-users'] } : u)),
    });
    await prewarm();
    const view = await d.call('GET', `/v1/users/${userId}`);
    expect(view.body.syncState[0]).toMatchObject({
      status: 'fresh',
      pendingAdd: [{ organization: 'OrgB', group: 'sonar-users', source: 'sync' }],
      pendingRemove: [
        { organization: 'OrgA', group: 'developers', source: 'sync' },
        { organization: 'OrgB', group: 'developers', source: 'sync' },
      ],
    });
    const login = await d.login(ada);
    expect(login.body.groups.source).toBe('cache');
    expect(login.body.changes.added).toEqual([{ organization: 'OrgB', group: 'sonar-users', source: 'sync' }]);
    const after = await d.call('GET', `/v1/users/${userId}`);
    expect(after.body.syncState[0]).toMatchObject({ pendingAdd: [], pendingRemove: [] });
  });

  it('runs incrementally after a complete run, re-reading only what changed', async () => {
    d = await startDaemon();
    await prewarm();
    const unchanged = await prewarm();
    expect(unchanged).toMatchObject({ mode: 'incremental', state: 'succeeded', figures: { groups: 0, users: 0 } });

    writeDirectory({
      ...DIRECTORY,
      users: DIRECTORY.users.map((u) => (u.subject === '00u3alan' ? { ...u, groups: ['Team', 'developers'] } : u)),
    });
    const changed = await prewarm();
    expect(changed.mode).toBe('incremental');
    expect((await d.daemon.store.getCachedUser('demo', '00u3alan'))?.groups).toEqual(['Team', 'developers']);
  });

  it('a failed run leaves the previous cache exactly as it was', async () => {
    d = await startDaemon();
    await prewarm();
    const before = await d.daemon.store.listCachedUsers('demo');
    writeFileSync(join(d.dir, 'directory.json'), '{"groups": [');
    const failed = await prewarm({ connector: 'demo', full: true });
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/JSON/);
    expect(await d.daemon.store.listCachedUsers('demo')).toEqual(before);
  });

  it('the removal guard stops a run that would mark too many users absent, until confirmed', async () => {
    d = await startDaemon();
    await prewarm();
    const before = await d.daemon.store.listCachedUsers('demo');
    // Half the directory disappears (an IdP answering with a truncated export, say).
    writeDirectory({ ...DIRECTORY, users: DIRECTORY.users.slice(0, 2) });

    const guarded = await prewarm({ connector: 'demo', full: true });
    expect(guarded.state).toBe('guarded');
    expect(guarded.details.guard).toMatchObject({ share: 0.5, limit: 0.1 });
    expect(guarded.error).toContain('would mark 2 of 4 users absent');
    expect(await d.daemon.store.listCachedUsers('demo')).toEqual(before);

    const confirmed = await prewarm({ connector: 'demo', full: true, confirmRemovals: true });
    expect(confirmed).toMatchObject({ state: 'succeeded', details: { absentMarked: 2 } });
    const absent = (await d.daemon.store.listCachedUsers('demo')).filter((u) => u.absentSince);
    expect(absent.map((u) => u.subject).sort()).toEqual(['00u3alan', '00u6sub']);
  });

  it('marks a provisioned user who left the IdP absent in the sync state, and removes nothing', async () => {
    d = await startDaemon({ provisioning: '  maxRemovalShare: 0.5' });
    const grace = await d.login({ subject: '00u2grace', email: 'grace@example.com' });
    writeDirectory({ ...DIRECTORY, users: DIRECTORY.users.filter((u) => u.subject !== '00u2grace') });
    await prewarm({ connector: 'demo', full: true });
    const view = await d.call('GET', `/v1/users/${grace.body.user.id}`);
    expect(view.body.syncState[0]).toMatchObject({ status: 'absent', pendingAdd: [], pendingRemove: [] });
    expect(view.body.memberships).toEqual(grace.body.memberships);
  });

  it('one run per connector at a time: a second start gets 409 while the first holds the lease', async () => {
    // An Okta connector whose first request Okta holds: the first run is still going when the
    // second start comes, however slowly either is served (its timeout is the config's longest).
    okta = await startFakeOkta();
    d = await startDaemon({
      extra: `  - { id: okta, type: okta, orgUrl: "${okta.baseUrl}", token: ${okta.token}, timeoutMs: 600000 }`,
    });
    const held = okta.server.hold(1);
    const [a, b] = await Promise.all([
      d.call('POST', '/v1/prewarm', { connector: 'okta' }),
      d.call('POST', '/v1/prewarm', { connector: 'okta' }),
    ]);
    held.release();
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    expect([a, b].find((r) => r.status === 409)!.body.error.code).toBe('prewarm_running');
  });

  it('pre-warms every connector when none is named, and rejects bad requests', async () => {
    d = await startDaemon({ extra: '  - { id: second, type: file, path: ./directory.json }' });
    const all = await d.call('POST', '/v1/prewarm', {});
    expect(all.status).toBe(202);
    expect(all.body.runs.map((r: { connector: string }) => r.connector).sort()).toEqual(['demo', 'second']);

    expect((await d.call('POST', '/v1/prewarm', { connector: 'nope' })).body.error.code).toBe('unknown_connector');
    expect((await d.call('POST', '/v1/prewarm', { connector: 'demo', full: 'yes' })).status).toBe(400);
    expect((await d.call('GET', '/v1/prewarm/no-such-run')).status).toBe(404);
    expect((await d.call('POST', '/v1/prewarm', {}, 'test-hook-token-0123456789')).status).toBe(401);
  });

  it('runs on the connector’s cron schedule', async () => {
    d = await startDaemon({ demoPrewarm: '* * * * * *' });
    const { store } = d.daemon;
    // A run names itself in the connector state once it has written the cache, but ends (its
    // record `succeeded`) only after the drift summary: wait for that run's end, not for its id.
    const runId = await vi.waitFor(
      async () => {
        const state = await store.getConnectorState('demo');
        if (!state?.lastRunId) throw new Error('no scheduled run has written the cache yet');
        return state.lastRunId;
      },
      { timeout: 25_000, interval: 100 },
    );
    const run = await vi.waitFor(
      async () => {
        const found = await store.getPrewarmRun(runId);
        if (found?.state === 'running') throw new Error(`run ${runId} is still running`);
        return found;
      },
      { timeout: 25_000, interval: 50 },
    );
    expect(run).toMatchObject({ connector: 'demo', state: 'succeeded' });
  });
});
