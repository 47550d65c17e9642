import { FakeEntra } from '../test/fakes/entra/fake-entra.js';
import type { DirectoryGroup, DirectoryUser } from '../test/fakes/entra/directory.js';
import { cpuSeconds, peakRssMiB, serveCommands } from './ipc.js';
import { buildDirectory, changeMemberships, groupName, userEmail, userName, type Directory } from './shape.js';

/**
 * The Entra fake (https; the parent set NODE_EXTRA_CA_CERTS and the certificate paths), seeded
 * with the benchmark org, in its own process.
 *
 * Two look-ups of the fake's directory scan every object (`findUser` by UPN and `memberOf`), which
 * makes seeding 100k users and 1.4M memberships quadratic (hours). This worker gives the
 * directory instance indexed versions of both, with the same answers for this org (no nesting).
 * Serving is unchanged.
 */

const DELTA = { pageSize: 100, membersPerObject: 20 };

let fake: FakeEntra | undefined;
let shape: Directory | undefined;
let groups: DirectoryGroup[] = [];
let users: DirectoryUser[] = [];
const groupsOf = new Map<string, DirectoryGroup[]>();

function graphCalls(): number {
  return fake?.graphCalls().length ?? 0;
}

serveCommands({
  async start(args) {
    const started = Date.now();
    shape = buildDirectory({ users: Number(args.users), groups: Number(args.groups) });
    fake = new FakeEntra({ delta: DELTA });
    const directory = fake.directory;
    const byKey = new Map<string, DirectoryUser>();
    directory.findUser = (idOrUpn) => byKey.get(idOrUpn) ?? byKey.get(idOrUpn.toLowerCase());
    directory.memberOf = (objectId) => groupsOf.get(objectId) ?? [];

    users = [];
    for (let u = 0; u < shape.shape.users; u++) {
      const user = directory.addUser({
        userPrincipalName: userEmail(u),
        displayName: userName(u),
        givenName: 'User',
        surname: String(u),
      });
      byKey.set(user.id, user);
      byKey.set(user.userPrincipalName.toLowerCase(), user);
      users.push(user);
    }
    groups = [];
    for (let g = 0; g < shape.shape.groups; g++) {
      const group = directory.addGroup({ displayName: groupName(g) });
      groups.push(group);
      for (const u of shape.groupMembers[g]!) {
        directory.addMember(group.id, users[u]!.id);
        const list = groupsOf.get(users[u]!.id);
        if (list) list.push(group);
        else groupsOf.set(users[u]!.id, [group]);
      }
    }
    await fake.start();
    return {
      url: fake.baseUrl,
      tenantId: fake.tenantId,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      seedSeconds: (Date.now() - started) / 1000,
    };
  },

  /**
   * Fewest Graph calls of a full run as the connector works: the first delta round (the cursor;
   * every group with its members, `membersPerObject` per object, `pageSize` objects per page),
   * group pages, each group's transitive-member pages (≥ 1), user pages.
   */
  async minimum(args) {
    if (!shape) throw new Error('not started');
    const top = Number(args.membersPage);
    let objects = 0;
    let calls = Math.ceil(shape.shape.groups / Number(args.groupsPage)) + Math.ceil(shape.shape.users / Number(args.usersPage));
    for (const members of shape.groupMembers) {
      objects += Math.max(1, Math.ceil(members.length / DELTA.membersPerObject));
      calls += Math.max(1, Math.ceil(members.length / top));
    }
    return calls + Math.max(1, Math.ceil(objects / DELTA.pageSize));
  },

  async calls() {
    return { calls: graphCalls(), cpuSeconds: cpuSeconds(), peakRssMiB: peakRssMiB() };
  },

  async resetCalls() {
    fake?.server.resetLog();
    return null;
  },

  /**
   * Changes `share` of the memberships (logged for delta). Fewest calls of an incremental run:
   * the delta round's pages (one object per changed group, split per `membersPerObject` changes).
   * The groups are flat and every user is known to the cache, so pre-warm applies the member
   * changes as they are: no re-listing, no user look-up.
   */
  async change(args) {
    if (!fake || !shape) throw new Error('not started');
    const changes = changeMemberships(shape, Number(args.share));
    const perGroup = new Map<number, number>();
    for (const change of changes) {
      const group = groups[change.group]!;
      const user = users[change.user]!;
      const list = groupsOf.get(user.id) ?? [];
      if (change.kind === 'add') {
        fake.directory.addMember(group.id, user.id);
        list.push(group);
        groupsOf.set(user.id, list);
      } else {
        fake.directory.removeMember(group.id, user.id);
        list.splice(list.indexOf(group), 1);
      }
      perGroup.set(change.group, (perGroup.get(change.group) ?? 0) + 1);
    }
    let objects = 0;
    for (const count of perGroup.values()) objects += Math.max(1, Math.ceil(count / DELTA.membersPerObject));
    const minimum = Math.max(1, Math.ceil(objects / DELTA.pageSize));
    return { changes: changes.length, groupsTouched: perGroup.size, minimumCalls: minimum };
  },

  async expected() {
    if (!shape) throw new Error('not started');
    return { usersInGroups: shape.userGroups.filter((g) => g.length > 0).length, memberships: shape.memberships };
  },

  async stop() {
    await fake?.stop();
    return { cpuSeconds: cpuSeconds(), peakRssMiB: peakRssMiB() };
  },
});
