import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { OktaDirectory, SEEDED_AT, seedLargeDirectory, type FakeOkta } from '../fakes/okta/index.js';
import type { LoggedRequest } from '../fakes/fake-server.js';
import { onGroupsList, onMembersLists, startFakeOkta } from '../okta/helpers.js';
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
  { key: 'OrgA', groups: ['ENT_ORGA_ADMINS', 'developers', 'Team'] },
  { key: 'OrgB', groups: ['developers', 'sonar-users'] },
];

const onUsersList = (request: LoggedRequest) => request.path === '/api/v1/users';

function oktaEntry(fake: FakeOkta, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'okta', type: 'okta', orgUrl: fake.baseUrl, token: fake.token, ...extra };
}

/** ada: admins + developers; grace: developers + an unmatched group; alan: Team; lin: no group. */
function smallOrg() {
  const directory = new OktaDirectory();
  const user = (login: string, firstName: string, lastName: string) =>
    directory.addUser({ login, firstName, lastName, at: SEEDED_AT });
  const ada = user('ada@example.com', 'Ada', 'Lovelace');
  const grace = user('grace@example.com', 'Grace', 'Hopper');
  const alan = user('alan@example.com', 'Alan', 'Turing');
  const lin = user('lin@example.com', 'Lin', 'Nobody');
  const group = (name: string, members: string[]) => {
    const created = directory.addGroup({ name, at: SEEDED_AT });
    for (const id of members) directory.addMember(created.id, id, SEEDED_AT);
    return created;
  };
  const groups = {
    admins: group('ENT_ORGA_ADMINS', [ada.id]),
    developers: group('developers', [ada.id, grace.id]),
    team: group('Team', [alan.id]),
    other: group('okta-only', [grace.id]),
  };
  return { directory, users: { ada, grace, alan, lin }, groups };
}

let fake: FakeOkta | undefined;
let workspace: Workspace | undefined;
let running: RunningDaemon[] = [];

afterEach(async () => {
  for (const daemon of running) await daemon.stop();
  running = [];
  await fake?.stop();
  fake = undefined;
  workspace?.remove();
  workspace = undefined;
});

async function start(configPath: string): Promise<RunningDaemon> {
  const daemon = await startDaemon(configPath);
  running.push(daemon);
  return daemon;
}

describe('pre-warm from Okta', () => {
  it('jitsync prewarm fills the cache; the next login needs no Okta request', async () => {
    const org = smallOrg();
    fake = await startFakeOkta({ directory: org.directory });
    workspace = writeConfig({ connector: oktaEntry(fake), organizations: ORGANIZATIONS });

    const cli = await jitsync(['prewarm', '--config', workspace.configPath]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const summary = summaryOf(cli.stdout);
    // One request for the org's clock, one page of groups, one per group's members, one of users.
    expect(fake.apiCalls()).toBe(1 + 1 + 4 + 1);
    expect(summary).toMatchObject({
      connector: 'okta',
      mode: 'full',
      state: 'succeeded',
      'api calls': String(fake.apiCalls()),
      retries: '0',
      groups: '4',
      users: '4',
      memberships: '5',
      'marked absent': '0',
      'memberships removed': '0',
    });

    fake.server.resetLog();
    const daemon = await start(workspace.configPath);
    const login = await daemon.login({ connector: 'okta', subject: org.users.ada.id, email: 'ada@example.com' });
    expect(login.status).toBe(200);
    expect(login.body.groups.source).toBe('cache');
    expect(fake.apiCalls()).toBe(0);
    expect([...login.body.groups.names].sort()).toEqual(['ENT_ORGA_ADMINS', 'developers']);
    expect(sortedMemberships(login.body.memberships)).toEqual(
      expectedMemberships(ORGANIZATIONS, ['ENT_ORGA_ADMINS', 'developers']),
    );
    expect(login.body.organizations.sort()).toEqual(['OrgA', 'OrgB']);

    // A user in no group is cached too: known to Okta, with no group, so in no organization.
    const lin = await daemon.login({ connector: 'okta', subject: org.users.lin.id, email: 'lin@example.com' });
    expect(lin.body.groups).toMatchObject({ source: 'cache', names: [] });
    expect(lin.body.memberships).toEqual([]);
    expect(fake.apiCalls()).toBe(0);
  });
});

/**
 * Ten thousand users and about fifty thousand memberships go through the real SDK (hundreds of
 * HTTP pages), the store and the drift model, in a daemon whose background thread compiles its
 * sources first: inherently the biggest test here, and several times slower on a busy 2-core
 * machine than on an idle one. Its budget is sized for the busy machine.
 */
const SCALE_TEST_TIMEOUT_MS = 120_000;

describe('pre-warm from Okta at scale: 10,000 users x 500 groups', () => {
  it('stays within 5% of the fewest API calls the page sizes allow, and caches every user', async () => {
    const directory = new OktaDirectory();
    seedLargeDirectory(directory, { users: 10_000, groups: 500, minGroups: 2, maxGroups: 8 });
    fake = await startFakeOkta({ directory });
    const pageSize = 200;
    const membersPageSize = 100;
    workspace = writeConfig({ connector: oktaEntry(fake, { pageSize, membersPageSize }), organizations: ORGANIZATIONS });
    const { daemon } = await start(workspace.configPath);

    const run = await daemon.prewarm.run('okta');
    expect(run).toMatchObject({ state: 'succeeded', mode: 'full', error: null });

    // The fewest requests Okta's paging allows: the org's clock for the incremental cursor (one),
    // each page of groups, each page of each group's members (an empty group still takes one),
    // and each page of the user list (200 per page at most).
    let minimum = 1 + Math.ceil(500 / pageSize) + Math.ceil(10_000 / 200);
    for (const group of directory.groups()) {
      minimum += Math.max(1, Math.ceil(directory.memberIds(group.id)!.length / membersPageSize));
    }
    expect(minimum).toBeGreaterThan(1 + 3 + 500 + 50); // some groups span pages: the bound is not trivial
    expect(fake.apiCalls()).toBeLessThanOrEqual(Math.floor(minimum * 1.05));
    expect(run.figures.apiCalls).toBe(fake.apiCalls());
    expect(run.figures).toMatchObject({
      retries: 0,
      groups: 500,
      users: 10_000,
      memberships: directory.counts.memberships,
      errors: 0,
    });

    const cached = await daemon.store.listCachedUsers('okta');
    expect(cached).toHaveLength(10_000);
    const bySubject = new Map(cached.map((user) => [user.subject, user]));
    // Each user's entry against Okta's answer, compared in plain code (ten thousand `expect`s
    // cost more than the comparison): the users whose entry differs are listed, none may be.
    const wrong = directory.users().flatMap((user) => {
      const entry = bySubject.get(user.id);
      const expected = {
        email: user.profile.email,
        origin: 'prewarm',
        absentSince: null,
        groups: directory.groupsOf(user.id).map((g) => g.profile.name).sort(),
      };
      const actual = entry && {
        email: entry.email,
        origin: entry.origin,
        absentSince: entry.absentSince,
        groups: [...entry.groups].sort(),
      };
      return isDeepStrictEqual(actual, expected) ? [] : [{ subject: user.id, expected, actual }];
    });
    expect(wrong).toEqual([]);
  }, SCALE_TEST_TIMEOUT_MS);
});

describe('pre-warm from Okta under faults', () => {
  it('waits out a 429 storm and succeeds, counting the retries', async () => {
    const org = smallOrg();
    fake = await startFakeOkta({ directory: org.directory });
    workspace = writeConfig({ connector: oktaEntry(fake, { maxRetries: 3 }), organizations: ORGANIZATIONS });
    const { daemon } = await start(workspace.configPath);

    // The second and third member listings are rate limited once each.
    let seen = 0;
    fake.rateLimitStorm(2, (request) => onMembersLists(request) && ++seen >= 2);
    const run = await daemon.prewarm.run('okta');

    expect(run).toMatchObject({ state: 'succeeded', error: null });
    expect(run.figures.retries).toBe(2);
    expect(run.figures.apiCalls).toBe(fake.apiCalls());
    expect(fake.apiCalls(onMembersLists)).toBe(4 + 2);
    const ada = await daemon.store.getCachedUser('okta', org.users.ada.id);
    expect(ada?.groups).toEqual(['ENT_ORGA_ADMINS', 'developers']);
  });

  it('a 5xx outage mid-run fails the run and leaves the cache as the last good run left it', async () => {
    const org = smallOrg();
    // More groups, so the outage starts after several member pages came back fine.
    const extra = Array.from({ length: 12 }, (_, i) => org.directory.addGroup({ name: `extra-${i}`, at: SEEDED_AT }));
    for (const [i, group] of extra.entries()) {
      org.directory.addMember(group.id, [org.users.ada, org.users.grace, org.users.alan][i % 3]!.id, SEEDED_AT);
    }
    fake = await startFakeOkta({ directory: org.directory });
    workspace = writeConfig({ connector: oktaEntry(fake, { maxRetries: 2 }), organizations: ORGANIZATIONS });
    const daemon = await start(workspace.configPath);
    const store = daemon.daemon.store;

    const first = await daemon.daemon.prewarm.run('okta');
    expect(first.state).toBe('succeeded');
    const before = await store.listCachedUsers('okta');
    const stateBefore = await store.getConnectorState('okta');

    // Okta changes (the first group in paging order loses ada), then its API fails from the
    // sixth member listing on: a run that wrote as it went would already have changed ada.
    org.directory.removeMember(org.groups.admins.id, org.users.ada.id);
    org.directory.addMember(org.groups.team.id, org.users.lin.id);
    fake.server.resetLog();
    let memberLists = 0;
    fake.serverErrors(1_000, { status: 503, match: (request) => onMembersLists(request) && ++memberLists > 5 });
    const second = await daemon.daemon.prewarm.run('okta', { full: true });

    expect(second.state).toBe('failed');
    expect(second.error).toMatch(/E0000009|503|unreachable/i);
    expect(second.figures.errors).toBe(1);
    expect(second.figures.groups).toBe(5); // five groups' members came back before the outage
    expect(second.figures.retries).toBe(2);
    expect(await store.listCachedUsers('okta')).toEqual(before);
    expect(await store.getConnectorState('okta')).toEqual(stateBefore);

    // Okta still failing: the login is answered from the cache the first run left.
    fake.clearFaults();
    fake.serverErrors(1_000, { status: 500 });
    fake.server.resetLog();
    const login = await daemon.login({ connector: 'okta', subject: org.users.ada.id, email: 'ada@example.com' });
    expect(login.status).toBe(200);
    const adaBefore = before.find((user) => user.subject === org.users.ada.id)!;
    expect(adaBefore.groups).toContain('ENT_ORGA_ADMINS');
    expect(login.body.groups).toMatchObject({ source: 'cache', names: adaBefore.groups });
    expect(fake.apiCalls()).toBe(0);

    // The failed run let go of its lease: once Okta recovers, the next run catches up.
    fake.clearFaults();
    const recovered = await daemon.daemon.prewarm.run('okta', { full: true });
    expect(recovered.state).toBe('succeeded');
    expect((await store.getCachedUser('okta', org.users.ada.id))?.groups).not.toContain('ENT_ORGA_ADMINS');
    expect((await store.getCachedUser('okta', org.users.lin.id))?.groups).toEqual(['Team']);

    // And with Okta down altogether, logins are still answered from the cache.
    await fake.stop();
    const again = await daemon.login({ connector: 'okta', subject: org.users.alan.id, email: 'alan@example.com' });
    const alanBefore = before.find((user) => user.subject === org.users.alan.id)!;
    expect(again.body.groups).toMatchObject({ source: 'cache', names: alanBefore.groups });
  });
});

/** `userCount` users dealt round-robin into `groupCount` teams, one team each. */
function teams(userCount: number, groupCount: number) {
  const directory = new OktaDirectory();
  const users = Array.from({ length: userCount }, (_, i) => directory.addUser({ login: `u${i}@example.com`, at: SEEDED_AT }));
  const groups = Array.from({ length: groupCount }, (_, i) => directory.addGroup({ name: `team-${i}`, at: SEEDED_AT }));
  for (const [i, user] of users.entries()) directory.addMember(groups[i % groupCount]!.id, user.id, SEEDED_AT);
  return { directory, users, groups };
}

describe('incremental pre-warm from Okta', () => {
  it('a second run re-lists only the changed group and updates only its users', async () => {
    const { directory, users, groups } = teams(20, 30);
    fake = await startFakeOkta({ directory });
    workspace = writeConfig({ connector: oktaEntry(fake), organizations: ORGANIZATIONS });
    const { daemon } = await start(workspace.configPath);
    const store = daemon.store;

    const full = await daemon.prewarm.run('okta');
    expect(full).toMatchObject({ state: 'succeeded', mode: 'full' });
    const untouchedBefore = await store.getCachedUser('okta', users[5]!.id);
    expect(untouchedBefore?.groups).toEqual(['team-5']);

    directory.addMember(groups[7]!.id, users[0]!.id);
    fake.server.resetLog();
    const incremental = await daemon.prewarm.run('okta');

    expect(incremental).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(await store.getCachedUser('okta', users[0]!.id)).toMatchObject({ groups: ['team-0', 'team-7'], absentSince: null });
    expect(await store.getCachedUser('okta', users[5]!.id)).toEqual(untouchedBefore);
    // The changed-groups query, then team-7's one page of members.
    expect(fake.apiCalls(onGroupsList)).toBe(1);
    expect(fake.apiCalls(onMembersLists)).toBe(1);
    expect(fake.apiCalls(onUsersList)).toBe(0);
    expect(incremental.figures.apiCalls).toBe(2);
    expect(incremental.figures.apiCalls * 10).toBeLessThan(full.figures.apiCalls);
  });
});

describe('incremental pre-warm from Okta with membership events', () => {
  it('applies membership events as they are: no group re-listed, a newcomer looked up once', async () => {
    const { directory, users, groups } = teams(40, 30);
    fake = await startFakeOkta({ directory });
    workspace = writeConfig({ connector: oktaEntry(fake, { membershipEvents: true }), organizations: ORGANIZATIONS });
    const { daemon } = await start(workspace.configPath);
    const store = daemon.store;
    expect(await daemon.prewarm.run('okta')).toMatchObject({ state: 'succeeded', mode: 'full' });
    const untouchedBefore = await store.getCachedUser('okta', users[5]!.id);

    directory.addMember(groups[7]!.id, users[0]!.id);
    directory.removeMember(groups[2]!.id, users[32]!.id);
    const newcomer = directory.addUser({ login: 'new@example.com', firstName: 'Nia', lastName: 'New' });
    directory.addMember(groups[7]!.id, newcomer.id);
    fake.server.resetLog();
    const incremental = await daemon.prewarm.run('okta');

    expect(incremental).toMatchObject({ state: 'succeeded', mode: 'incremental', details: { membershipsRemoved: 1 } });
    expect(await store.getCachedUser('okta', users[0]!.id)).toMatchObject({ groups: ['team-0', 'team-7'] });
    expect(await store.getCachedUser('okta', users[32]!.id)).toMatchObject({ groups: [] });
    expect(await store.getCachedUser('okta', newcomer.id)).toMatchObject({ email: 'new@example.com', name: 'Nia New', groups: ['team-7'] });
    expect(await store.getCachedUser('okta', users[5]!.id)).toEqual(untouchedBefore);
    // The changed-groups query, one page of events, the newcomer: no member list.
    expect(fake.apiCalls(onGroupsList)).toBe(1);
    expect(fake.apiCalls(onMembersLists)).toBe(0);
    expect(fake.apiCalls((r) => r.path === '/api/v1/logs')).toBe(1);
    expect(fake.apiCalls((r) => r.path === `/api/v1/users/${newcomer.id}`)).toBe(1);
    expect(incremental.figures.apiCalls).toBe(3);
  });
});

describe('incremental pre-warm from Okta: a user who comes back', () => {
  it('a user marked absent who is reactivated and joins a group is present again after the incremental run', async () => {
    const { directory, users, groups } = teams(20, 4);
    fake = await startFakeOkta({ directory });
    workspace = writeConfig({ connector: oktaEntry(fake), organizations: ORGANIZATIONS });
    const daemon = await start(workspace.configPath);
    const { prewarm, store } = daemon.daemon;
    expect((await prewarm.run('okta')).state).toBe('succeeded');

    // u1 is deactivated (Okta then lists them no more) and leaves team-1: a full run marks them absent.
    const u1 = users[1]!;
    directory.removeMember(groups[1]!.id, u1.id);
    directory.user(u1.id)!.status = 'DEPROVISIONED';
    const leaving = await prewarm.run('okta', { full: true });
    expect(leaving).toMatchObject({ state: 'succeeded', details: { absentMarked: 1 } });
    expect((await store.getCachedUser('okta', u1.id))?.absentSince).not.toBeNull();

    // Reactivated and added to team-2: the incremental run sees them in team-2's members.
    directory.user(u1.id)!.status = 'ACTIVE';
    directory.addMember(groups[2]!.id, u1.id);
    const back = await prewarm.run('okta');
    expect(back).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(await store.getCachedUser('okta', u1.id)).toMatchObject({ groups: ['team-2'], absentSince: null });

    fake.server.resetLog();
    const login = await daemon.login({ connector: 'okta', subject: u1.id, email: 'u1@example.com' });
    expect(login.body.groups).toMatchObject({ source: 'cache', names: ['team-2'] });
    expect(fake.apiCalls()).toBe(0);
  });
});

/**
 * The connector's timeout in tests that hold an Okta request: the longest the config allows, so
 * the held call never times out (ending the run and freeing its lease) however slow the machine.
 */
const HELD_CALL_TIMEOUT_MS = 600_000;

describe('one pre-warm run per connector across daemons sharing a store', () => {
  it('of two daemons on one SQLite file starting the same connector, one runs and the other gets 409', async () => {
    const org = smallOrg();
    fake = await startFakeOkta({ directory: org.directory });
    workspace = writeConfig({ connector: oktaEntry(fake, { timeoutMs: HELD_CALL_TIMEOUT_MS }), organizations: ORGANIZATIONS });
    const a = await start(workspace.configPath);
    const b = await start(workspace.configPath);
    // Okta holds the winner's first request until both daemons have answered: its run is still
    // going when the other daemon asks, however slowly either request is served.
    const held = fake.server.hold(1);

    const answers = await Promise.all([
      a.call('POST', '/v1/prewarm', { connector: 'okta' }),
      b.call('POST', '/v1/prewarm', { connector: 'okta' }),
    ]);
    held.release();
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([202, 409]);
    const winner = answers.findIndex((answer) => answer.status === 202);
    const loser = answers[1 - winner]!;
    expect(loser.body.error).toMatchObject({ code: 'prewarm_running' });

    const winnerDaemon = [a, b][winner]!;
    const loserDaemon = [a, b][1 - winner]!;
    const runs = answers[winner]!.body.runs as Array<{ id: string }>;
    const runId = runs[0]!.id;
    const finished = await waitForRun(winnerDaemon, runId);
    expect(finished.state).toBe('succeeded');

    // The lease is free again: the other daemon may now run the connector.
    const next = await loserDaemon.call('POST', '/v1/prewarm', { connector: 'okta' });
    expect(next.status).toBe(202);
    const nextId = (next.body.runs as Array<{ id: string }>)[0]!.id;
    expect(nextId).not.toBe(runId);
    expect((await waitForRun(loserDaemon, nextId)).state).toBe('succeeded');
  });
});

describe('jitsync prewarm against a busy or failing connector', () => {
  it('exits 1 with prewarm_running while a served daemon holds the lease on the same store', async () => {
    const org = smallOrg();
    fake = await startFakeOkta({ directory: org.directory });
    workspace = writeConfig({ connector: oktaEntry(fake, { timeoutMs: HELD_CALL_TIMEOUT_MS }), organizations: ORGANIZATIONS });
    const served = await start(workspace.configPath);
    // Okta holds the served daemon's first request, unanswered for as long as the CLI takes: the
    // run stays in flight, holding the lease, until the daemon stops it.
    const held = fake.server.hold(1);
    const { done } = await served.daemon.prewarm.start('okta');
    await held.arrived;

    const cli = await jitsync(['prewarm', '--config', workspace.configPath]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('prewarm_running');
    expect(fake.apiCalls()).toBe(1); // the CLI never reached Okta

    await served.daemon.prewarm.close();
    held.release();
    expect(await done).toMatchObject({ state: 'failed', error: 'stopped: daemon shutting down' });
    expect(await served.daemon.store.listCachedUsers('okta')).toEqual([]);
  });

  it('exits 1 and prints the failed run when Okta answers 5xx throughout', async () => {
    const org = smallOrg();
    fake = await startFakeOkta({ directory: org.directory });
    workspace = writeConfig({ connector: oktaEntry(fake, { maxRetries: 1 }), organizations: ORGANIZATIONS });
    fake.serverErrors(1_000, { status: 503 });

    const cli = await jitsync(['prewarm', '--config', workspace.configPath]);
    expect(cli.code).toBe(1);
    const summary = summaryOf(cli.stdout);
    expect(summary).toMatchObject({ state: 'failed', retries: '1', 'api calls': '2' });
    expect(summary.error).toContain('E0000009');
  });
});

/** Polls `GET /v1/prewarm/:id` until the run leaves `running` (bounded). */
async function waitForRun(daemon: RunningDaemon, runId: string): Promise<{ state: string }> {
  for (let i = 0; i < 200; i++) {
    const answer = await daemon.call<{ state: string }>('GET', `/v1/prewarm/${runId}`);
    expect(answer.status).toBe(200);
    if (answer.body.state !== 'running') return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} still running after 20 s`);
}

describe('incremental pre-warm from Okta: a renamed group', () => {
  it('after a guarded run is confirmed, the old name is gone from every member', async () => {
    const directory = new OktaDirectory();
    const users = Array.from({ length: 20 }, (_, i) => directory.addUser({ login: `u${i}@example.com`, at: SEEDED_AT }));
    const big = directory.addGroup({ name: 'developers', at: SEEDED_AT });
    const small = Array.from({ length: 5 }, (_, i) => directory.addGroup({ name: `team-${i}`, at: SEEDED_AT }));
    for (const [i, user] of users.entries()) {
      if (i < 8) directory.addMember(big.id, user.id, SEEDED_AT);
      directory.addMember(small[i % 5]!.id, user.id, SEEDED_AT);
    }
    fake = await startFakeOkta({ directory });
    workspace = writeConfig({ connector: oktaEntry(fake), organizations: ORGANIZATIONS });
    const daemon = await start(workspace.configPath);
    const { prewarm, store } = daemon.daemon;
    expect((await prewarm.run('okta')).state).toBe('succeeded');

    // 8 of 28 memberships change name: more than the 10% the removal guard lets through.
    directory.renameGroup(big.id, 'developers-renamed');
    const guarded = await prewarm.run('okta');
    expect(guarded).toMatchObject({ state: 'guarded', mode: 'incremental' });
    expect((await store.getCachedUser('okta', users[0]!.id))?.groups).toEqual(['developers', 'team-0']);

    const confirmed = await prewarm.run('okta', { confirmRemovals: true });
    expect(confirmed).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect((await store.getCachedUser('okta', users[0]!.id))?.groups).toEqual(['developers-renamed', 'team-0']);

    // And the login reads the new name only: "developers" no longer grants OrgA/developers.
    const login = await daemon.login({ connector: 'okta', subject: users[0]!.id, email: 'u0@example.com' });
    expect(login.body.groups).toMatchObject({ source: 'cache', names: ['developers-renamed', 'team-0'] });
    expect(login.body.memberships).toEqual([]);
  });
});
