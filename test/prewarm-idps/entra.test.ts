import { afterEach, describe, expect, it } from 'vitest';
import { FakeEntra } from '../fakes/entra/fake-entra.js';
import {
  expectedMemberships,
  jitsync,
  sortedMemberships,
  startDaemon,
  summaryOf,
  writeConfig,
  type OrganizationSeed,
  type RunningDaemon,
  type Workspace,
} from './support.js';

const ORGANIZATIONS: OrganizationSeed[] = [
  { key: 'Eng', groups: ['platform', 'backend'] },
  { key: 'Ops', groups: ['ops'] },
];

function entraEntry(fake: FakeEntra): Record<string, unknown> {
  return {
    id: 'entra',
    type: 'entra',
    tenantId: fake.tenantId,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    authorityHost: fake.baseUrl,
    graphUrl: fake.baseUrl,
  };
}

/** platform ⊃ backend (nested group): carol is in platform only through backend. dave: no group. */
function seed(entra: FakeEntra, flatGroups = 0) {
  const d = entra.directory;
  const users = {
    alice: d.addUser({ userPrincipalName: 'alice@example.com', displayName: 'Alice Example' }),
    bob: d.addUser({ userPrincipalName: 'bob@example.com', displayName: 'Bob Example' }),
    carol: d.addUser({ userPrincipalName: 'carol@example.com', displayName: 'Carol Example' }),
    dave: d.addUser({ userPrincipalName: 'dave@example.com', displayName: 'Dave Example' }),
  };
  const backend = d.addGroup({ displayName: 'backend', members: [users.carol.id] });
  const platform = d.addGroup({ displayName: 'platform', members: [users.alice.id, backend.id] });
  const ops = d.addGroup({ displayName: 'ops', members: [users.bob.id] });
  for (let i = 0; i < flatGroups; i++) d.addGroup({ displayName: `team-${i}`, members: [users.dave.id] });
  return { users, groups: { backend, platform, ops } };
}

let fake: FakeEntra | undefined;
let workspace: Workspace | undefined;
let daemon: RunningDaemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await fake?.stop();
  fake = undefined;
  workspace?.remove();
  workspace = undefined;
});

async function startFake(): Promise<FakeEntra> {
  const started = new FakeEntra();
  await started.start();
  return started;
}

const graphPaths = (entra: FakeEntra, pattern: RegExp) => entra.graphCalls().filter((r) => pattern.test(r.path));

describe('pre-warm from Microsoft Entra ID', () => {
  it('jitsync prewarm caches transitive memberships; the next login needs no Graph request', async () => {
    fake = await startFake();
    const { users } = seed(fake);
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });

    const cli = await jitsync(['prewarm', '--config', workspace.configPath]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    // The delta round for the cursor, the group list, each group's transitive members, the users.
    expect(graphPaths(fake, /\/groups\/delta$/)).toHaveLength(1);
    expect(graphPaths(fake, /\/transitiveMembers$/)).toHaveLength(3);
    expect(summaryOf(cli.stdout)).toMatchObject({
      connector: 'entra',
      mode: 'full',
      state: 'succeeded',
      'api calls': String(fake.graphCalls().length),
      retries: '0',
      groups: '3',
      users: '4',
      memberships: '4', // platform: alice, carol; backend: carol; ops: bob
      'marked absent': '0',
    });

    fake.server.resetLog();
    daemon = await startDaemon(workspace.configPath);
    const carol = await daemon.login({ connector: 'entra', subject: users.carol.id, email: 'carol@example.com' });
    expect(carol.status).toBe(200);
    expect(carol.body.groups.source).toBe('cache');
    expect(fake.server.requests).toHaveLength(0); // no token request either
    expect([...carol.body.groups.names].sort()).toEqual(['backend', 'platform']);
    expect(sortedMemberships(carol.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['backend', 'platform']));
    expect(carol.body.organizations).toEqual(['Eng']);

    const bob = await daemon.login({ connector: 'entra', subject: users.bob.id, email: 'bob@example.com' });
    expect(bob.body.groups).toMatchObject({ source: 'cache', names: ['ops'] });
    expect(sortedMemberships(bob.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['ops']));
    expect(fake.server.requests).toHaveLength(0);
  });

  it('recordNesting: pre-warm records who holds a group only through nesting, for one members call per group', async () => {
    fake = await startFake();
    const { users, groups } = seed(fake);
    const directListings = () => graphPaths(fake!, /^\/v1\.0\/groups\/[^/]+\/members$/);

    // Off by default: no direct-member listing, and the run learns nothing of nesting.
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const plain = await daemon.daemon.prewarm.run('entra');
    expect(plain).toMatchObject({ state: 'succeeded', mode: 'full' });
    expect(directListings()).toHaveLength(0);
    expect(plain.figures.apiCalls).toBe(fake.graphCalls().length);
    expect(await daemon.daemon.store.getCachedUser('entra', users.carol.id)).toMatchObject({ nestedGroups: [] });
    await daemon.stop();
    workspace.remove();

    fake.server.resetLog();
    workspace = writeConfig({ connector: { ...entraEntry(fake), recordNesting: true }, organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;
    const nesting = await prewarm.run('entra');
    expect(nesting).toMatchObject({ state: 'succeeded', mode: 'full' });
    // One page of direct members per group (three groups), and nothing else more.
    expect(directListings().map((r) => r.path).sort()).toEqual(
      [groups.backend, groups.platform, groups.ops].map((g) => `/v1.0/groups/${g.id}/members`).sort(),
    );
    expect(nesting.figures.apiCalls).toBe(fake.graphCalls().length);
    expect(nesting.figures.apiCalls).toBe(plain.figures.apiCalls + 3);
    expect(await store.getCachedUser('entra', users.carol.id)).toMatchObject({
      groups: ['backend', 'platform'],
      nestedGroups: ['platform'],
    });
    expect(await store.getCachedUser('entra', users.alice.id)).toMatchObject({ groups: ['platform'], nestedGroups: [] });

    const drift = await daemon.call<{ items: Array<{ user: { email: string }; organization: string; group: string }> }>(
      'GET',
      '/v1/drift?connector=entra&kind=nested_or_overage',
    );
    expect(drift.status).toBe(200);
    expect(drift.body.items.map((i) => `${i.user.email} ${i.organization}/${i.group}`)).toEqual(['carol@example.com Eng/platform']);

    // carol joins platform directly: the incremental run re-lists it and clears the flag.
    fake.directory.addMember(groups.platform.id, users.carol.id);
    expect(await prewarm.run('entra')).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(await store.getCachedUser('entra', users.carol.id)).toMatchObject({ nestedGroups: [] });
  });

  it('a token with group overage, before any pre-warm, is resolved live through Graph, nesting included', async () => {
    fake = await startFake();
    const { users } = seed(fake);
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);

    const login = await daemon.login({
      connector: 'entra',
      subject: users.carol.id,
      email: 'carol@example.com',
      groups: [],
      groupsOverage: true,
    });
    expect(login.status).toBe(200);
    expect(login.body.groups.source).toBe('live');
    expect([...login.body.groups.names].sort()).toEqual(['backend', 'platform']);
    expect(sortedMemberships(login.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['backend', 'platform']));
    expect(graphPaths(fake, /\/users\/[^/]+\/transitiveMemberOf\/microsoft\.graph\.group$/)).toHaveLength(1);

    const cached = await daemon.daemon.store.getCachedUser('entra', users.carol.id);
    expect(cached).toMatchObject({ origin: 'live', nestedGroups: ['platform'] });
    expect([...(cached?.groups ?? [])].sort()).toEqual(['backend', 'platform']);
  });

  it('an incremental run (Graph delta) re-lists only the changed group and its parents', async () => {
    fake = await startFake();
    const { users, groups } = seed(fake, 40);
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;

    const full = await prewarm.run('entra');
    expect(full).toMatchObject({ state: 'succeeded', mode: 'full' });
    expect(full.figures.groups).toBe(43);
    const aliceBefore = await store.getCachedUser('entra', users.alice.id);
    const daveBefore = await store.getCachedUser('entra', users.dave.id);
    expect(aliceBefore?.groups).toEqual(['platform']);

    // bob joins backend, which sits inside platform: he gains both.
    fake.directory.addMember(groups.backend.id, users.bob.id);
    fake.server.resetLog();
    const incremental = await prewarm.run('entra');

    expect(incremental).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(await store.getCachedUser('entra', users.bob.id)).toMatchObject({
      groups: ['backend', 'ops', 'platform'],
      absentSince: null,
    });
    expect(await store.getCachedUser('entra', users.alice.id)).toEqual(aliceBefore);
    expect(await store.getCachedUser('entra', users.dave.id)).toEqual(daveBefore);
    const relisted = graphPaths(fake, /\/transitiveMembers$/).map((r) => r.path).sort();
    expect(relisted).toEqual(
      [`/v1.0/groups/${groups.backend.id}/transitiveMembers`, `/v1.0/groups/${groups.platform.id}/transitiveMembers`].sort(),
    );
    expect(graphPaths(fake, /^\/v1\.0\/(groups|users)$/)).toHaveLength(0); // no full listing
    expect(incremental.figures.apiCalls).toBe(fake.graphCalls().length);
    expect(incremental.figures.apiCalls * 5).toBeLessThan(full.figures.apiCalls);

    // The login that follows reads bob's new groups from the cache.
    fake.server.resetLog();
    const bob = await daemon.login({ connector: 'entra', subject: users.bob.id, email: 'bob@example.com' });
    expect(bob.body.groups).toMatchObject({ source: 'cache' });
    expect(sortedMemberships(bob.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['backend', 'ops', 'platform']));
    expect(fake.server.requests).toHaveLength(0);
  });

  it('an incremental run applies member changes of flat groups as they are, re-listing nothing', async () => {
    fake = await startFake();
    // 12 teams: 16 memberships, so that one removal stays within the removal guard.
    const { users, groups } = seed(fake, 12);
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;
    expect((await prewarm.run('entra')).state).toBe('succeeded');
    const team = (i: number) => fake!.directory.listGroups().find((g) => g.displayName === `team-${i}`)!;
    const carolBefore = await store.getCachedUser('entra', users.carol.id);

    fake.directory.addMember(groups.ops.id, users.alice.id);
    fake.directory.removeMember(team(1).id, users.dave.id);
    const eve = fake.directory.addUser({ userPrincipalName: 'eve@example.com', displayName: 'Eve Example' });
    fake.directory.addMember(team(2).id, eve.id);
    fake.server.resetLog();
    const run = await prewarm.run('entra');

    expect(run).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(graphPaths(fake, /\/transitiveMembers$/)).toHaveLength(0);
    // One delta page, and one getByIds for eve, whom the cache did not know.
    expect(graphPaths(fake, /\/groups\/delta$/)).toHaveLength(1);
    expect(graphPaths(fake, /\/directoryObjects\/getByIds$/)).toHaveLength(1);
    expect(run.figures.apiCalls).toBe(2);
    expect(run.details.membershipsRemoved).toBe(1);
    expect(await store.getCachedUser('entra', users.alice.id)).toMatchObject({ groups: ['ops', 'platform'], nestedGroups: [] });
    const dave = await store.getCachedUser('entra', users.dave.id);
    expect(dave?.groups).toHaveLength(11);
    expect(dave?.groups).not.toContain('team-1');
    expect(await store.getCachedUser('entra', eve.id)).toMatchObject({
      email: 'eve@example.com',
      name: 'Eve Example',
      groups: ['team-2'],
      origin: 'prewarm',
      absentSince: null,
    });
    // carol, whose groups come through nesting, is untouched.
    expect(await store.getCachedUser('entra', users.carol.id)).toEqual(carolBefore);

    fake.server.resetLog();
    const alice = await daemon.login({ connector: 'entra', subject: users.alice.id, email: 'alice@example.com' });
    expect(alice.body.groups).toMatchObject({ source: 'cache' });
    expect(sortedMemberships(alice.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['ops', 'platform']));
    expect(fake.server.requests).toHaveLength(0);
  });

  it('member removals past the removal guard stop an incremental run until confirmed', async () => {
    fake = await startFake();
    const { users, groups } = seed(fake);
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;
    expect((await prewarm.run('entra')).state).toBe('succeeded');

    // 1 of 4 memberships (25%) is past the default 10%.
    fake.directory.removeMember(groups.ops.id, users.bob.id);
    const guarded = await prewarm.run('entra');
    expect(guarded).toMatchObject({ state: 'guarded', mode: 'incremental' });
    expect(guarded.details.guard).toMatchObject({ share: 0.25 });
    expect(await store.getCachedUser('entra', users.bob.id)).toMatchObject({ groups: ['ops'] });

    const confirmed = await prewarm.run('entra', { confirmRemovals: true });
    expect(confirmed).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(await store.getCachedUser('entra', users.bob.id)).toMatchObject({ groups: [] });
  });

  it('when Graph expires the delta token, the next run falls back to a full snapshot and succeeds', async () => {
    fake = await startFake();
    const { users, groups } = seed(fake, 5);
    workspace = writeConfig({ connector: entraEntry(fake), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;
    expect((await prewarm.run('entra')).state).toBe('succeeded');

    fake.expireDeltaTokens();
    fake.directory.addMember(groups.ops.id, users.carol.id);
    const run = await prewarm.run('entra');

    expect(run).toMatchObject({ state: 'succeeded', mode: 'full', error: null });
    expect(run.figures.groups).toBe(8);
    expect(await store.getCachedUser('entra', users.carol.id)).toMatchObject({ groups: ['backend', 'ops', 'platform'] });
    // The new cursor works: a change after it is picked up incrementally.
    fake.directory.removeMember(groups.ops.id, users.carol.id);
    fake.directory.addMember(groups.ops.id, users.alice.id);
    const next = await prewarm.run('entra');
    expect(next).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(await store.getCachedUser('entra', users.alice.id)).toMatchObject({ groups: ['ops', 'platform'] });
  });
});
