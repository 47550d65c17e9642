import { FakeOkta, OktaDirectory, SEEDED_AT, type OktaUser } from '../test/fakes/okta/index.js';
import { cpuSeconds, peakRssMiB, serveCommands } from './ipc.js';
import { buildDirectory, changeMemberships, groupName, userEmail, type Directory } from './shape.js';

/**
 * The local Okta fake, seeded with the benchmark org, in its own process (its memory and CPU
 * stay out of the pre-warm's figures). Counts the calls it serves and works out the fewest
 * calls the page sizes allow.
 */

/**
 * `users()` of the fake sorts every user on each `/api/v1/users` page (500 pages at 100k users).
 * The benchmark org adds no user after seeding, so the sorted list is kept: the fake's own CPU
 * would otherwise pad the pre-warm's wall time with work real Okta does not do.
 */
class SeededOktaDirectory extends OktaDirectory {
  #sorted: OktaUser[] | undefined;
  override users(): OktaUser[] {
    this.#sorted ??= super.users();
    return this.#sorted;
  }
}

let fake: FakeOkta | undefined;
let shape: Directory | undefined;
let groupIds: string[] = [];
let userIds: string[] = [];

/** Fewest calls: the clock request, group pages, each group's member pages (≥ 1), user pages. */
function minimumFullCalls(groups: number, memberCounts: number[], sizes: { groups: number; members: number; users: number }, users: number) {
  let calls = 1 + Math.max(1, Math.ceil(groups / sizes.groups)) + Math.max(1, Math.ceil(users / sizes.users));
  for (const count of memberCounts) calls += Math.max(1, Math.ceil(count / sizes.members));
  return calls;
}

/** `GET /api/v1/logs`: the largest page. */
const LOGS_PAGE = 1000;

serveCommands({
  async start(args) {
    const started = Date.now();
    shape = buildDirectory({ users: Number(args.users), groups: Number(args.groups) });
    const directory = new SeededOktaDirectory();
    groupIds = [];
    for (let g = 0; g < shape.shape.groups; g++) groupIds.push(directory.addGroup({ name: groupName(g), at: SEEDED_AT }).id);
    userIds = [];
    for (let u = 0; u < shape.shape.users; u++) {
      const user = directory.addUser({ login: userEmail(u), firstName: 'User', lastName: String(u), at: SEEDED_AT });
      userIds.push(user.id);
      for (const g of shape.userGroups[u]!) directory.addMember(groupIds[g]!, user.id, SEEDED_AT);
    }
    fake = new FakeOkta({ directory, rateLimitPerMinute: 1_000_000 });
    const url = await fake.start();
    const counts = directory.counts;
    return { url, token: fake.token, counts, seedSeconds: (Date.now() - started) / 1000 };
  },

  async minimum(args) {
    if (!shape) throw new Error('not started');
    const sizes = { groups: Number(args.groupsPage), members: Number(args.membersPage), users: Number(args.usersPage) };
    return minimumFullCalls(shape.shape.groups, shape.groupMembers.map((m) => m.length), sizes, shape.shape.users);
  },

  /** Calls served since the last `resetCalls`. */
  async calls() {
    return { calls: fake?.apiCalls() ?? 0, cpuSeconds: cpuSeconds(), peakRssMiB: peakRssMiB() };
  },

  async resetCalls() {
    fake?.server.resetLog();
    return null;
  },

  /**
   * Changes `share` of the memberships through the fake (each stamps its group's
   * `lastMembershipUpdated` and logs a System Log event). The fewest calls an incremental run
   * with `membershipEvents` can make: the filtered group list, then the event pages (1,000 per
   * page). Every user is known to the cache: no user look-up.
   */
  async change(args) {
    if (!fake || !shape) throw new Error('not started');
    const changes = changeMemberships(shape, Number(args.share));
    const touched = new Set<number>();
    for (const change of changes) {
      const groupId = groupIds[change.group]!;
      const userId = userIds[change.user]!;
      if (change.kind === 'add') fake.directory.addMember(groupId, userId);
      else fake.directory.removeMember(groupId, userId);
      touched.add(change.group);
    }
    const groupsPage = Number(args.groupsPage);
    const minimum = Math.max(1, Math.ceil(touched.size / groupsPage)) + Math.max(1, Math.ceil(changes.length / LOGS_PAGE));
    return {
      changes: changes.length,
      groupsTouched: touched.size,
      minimumCalls: minimum,
      counts: fake.directory.counts,
    };
  },

  /** Expected cache content, for the correctness check: users in ≥ 1 group and memberships. */
  async expected() {
    if (!shape) throw new Error('not started');
    return { usersInGroups: shape.userGroups.filter((g) => g.length > 0).length, memberships: shape.memberships };
  },

  async stop() {
    await fake?.stop();
    return { cpuSeconds: cpuSeconds(), peakRssMiB: peakRssMiB() };
  },
});
