import type { Connector, IdpGroup, IdpUser, IncrementalFeed, MemberChanges } from '../../connectors/types.js';
import type { CachedGroup, CachedUser, Store } from '../../store/types.js';
import type { RunContext, RunOutcome } from './run-types.js';
import { applyGroupChanges, applyMemberChanges, type CacheChanges } from './snapshot.js';

export interface IncrementalRunDeps {
  store: Pick<Store, 'listCachedGroups' | 'listCachedUsers' | 'countCachedMemberships' | 'getCachedUsers'>;
  clock: () => Date;
}

/**
 * What changed since `cursor`, applied to the cache as the feed states it: changed groups
 * re-listed, member changes applied as they are, deleted groups left. Reads only; the caller
 * writes the outcome. Throws `ConnectorError` kind `cursor_expired` from the feed as it came.
 */
export async function incrementalRun(
  deps: IncrementalRunDeps,
  connector: Connector & IncrementalFeed,
  cursor: string,
  context: RunContext,
): Promise<RunOutcome> {
  const { store } = deps;
  const { run, call, progress } = context;
  const feed = await connector.changedGroups(cursor, call);
  const cachedGroups = new Map((await store.listCachedGroups(connector.id)).map((g) => [g.id, g]));
  // Member changes apply as they are only to a group the cache holds under the same name.
  const direct: MemberChanges[] = [];
  const toList = [...feed.changed];
  for (const change of feed.memberChanges ?? []) {
    if (cachedGroups.get(change.group.id)?.name === change.group.name) direct.push(change);
    else toList.push(change.group);
  }
  run.details.groupsTotal = toList.length + direct.length;

  const changed: Array<{ group: IdpGroup; oldName: string | null; members: IdpUser[] }> = [];
  for (const group of toList) {
    const members: IdpUser[] = [];
    for await (const page of connector.listMembers(group, call)) members.push(...page);
    changed.push({ group, oldName: cachedGroups.get(group.id)?.name ?? null, members });
    run.figures.groups++;
    run.figures.memberships += members.length;
    await progress();
  }
  const deletedNames = feed.deleted.flatMap((id) => cachedGroups.get(id)?.name ?? []);
  const now = deps.clock().toISOString();
  const options = { connector: connector.id, now };

  // Re-listing needs every cached holder of a group; member changes only the users they name.
  let changes: CacheChanges;
  let cached: Map<string, CachedUser>;
  if (changed.length > 0 || deletedNames.length > 0) {
    const previous = await store.listCachedUsers(connector.id);
    changes = applyGroupChanges(previous, changed, deletedNames, options);
    cached = new Map(previous.map((user) => [user.subject, user]));
    for (const user of changes.writes) cached.set(user.subject, user);
  } else {
    const subjects = [...new Set(direct.flatMap((c) => [...c.added, ...c.removed]))];
    const totals = await store.countCachedMemberships(connector.id);
    changes = { writes: [], absentMarked: 0, membershipsRemoved: 0, usersBefore: totals.users, membershipsBefore: totals.memberships };
    cached = new Map((await store.getCachedUsers(connector.id, subjects)).map((user) => [user.subject, user]));
  }
  if (direct.length > 0) {
    const unknown = [...new Set(direct.flatMap((c) => c.added))].filter((subject) => !cached.has(subject));
    if (unknown.length > 0 && !connector.describeUsers) {
      throw new Error(`connector ${connector.id} reported member changes but cannot describe new users`);
    }
    const described = unknown.length > 0 ? await connector.describeUsers!(unknown, call) : [];
    const applied = applyMemberChanges(cached, direct, new Map(described.map((user) => [user.subject, user])), options);
    const writes = new Map(changes.writes.map((user) => [user.subject, user]));
    for (const user of applied.writes) writes.set(user.subject, user);
    changes = { ...changes, writes: [...writes.values()], membershipsRemoved: changes.membershipsRemoved + applied.membershipsRemoved };
    run.figures.groups += direct.length;
    for (const change of direct) run.figures.memberships += change.added.length;
  }
  run.figures.users = changes.writes.length;
  const touchedGroups = [...toList, ...direct.map((change) => change.group)];
  return {
    changes,
    groups: {
      replace: null,
      upsert: touchedGroups.map((group): CachedGroup => ({ connector: connector.id, id: group.id, name: group.name, fetchedAt: now })),
      delete: feed.deleted,
    },
    cursor: feed.cursor,
  };
}
