import type { IdpGroup, IdpMember, IdpUser, MemberChanges } from '../../connectors/types.js';
import type { CachedUser } from '../../store/types.js';

/**
 * The pure half of pre-warm: what a run learned from the IdP, compared with the cache it
 * replaces. Nothing here does I/O; `full-run.ts` and `incremental-run.ts` feed it, and
 * `collect-and-apply.ts` writes its results.
 */

export interface SnapshotUser {
  subject: string;
  email: string | null;
  name: string | null;
  /** Distinct names; an array, not a Set: 100,000 users hold ~15 names each, and a Set costs several times the memory. */
  groups: string[];
  /** The names in `groups` the listing said are held only through nesting; left out while there are none. */
  nested?: string[];
}

/** Users by subject, as a walk over groups (and, when the IdP lists them, all users) saw them. */
export class Snapshot {
  readonly users = new Map<string, SnapshotUser>();
  /** Group names whose listing said, member by member, who holds them only through nesting. */
  readonly nestingKnown = new Set<string>();
  memberships = 0;

  addMembers(group: IdpGroup, members: readonly IdpMember[]): void {
    for (const member of members) {
      const user = this.user(member);
      if (member.nested !== undefined) this.nestingKnown.add(group.name);
      if (!user.groups.includes(group.name)) {
        user.groups.push(group.name);
        this.memberships++;
        if (member.nested) (user.nested ??= []).push(group.name);
      } else if (member.nested === false && user.nested) {
        // Two groups share the name and one holds the user directly: the name is held directly.
        user.nested = user.nested.filter((name) => name !== group.name);
      }
    }
  }

  addUsers(users: readonly IdpUser[]): void {
    for (const user of users) this.user(user);
  }

  private user(idp: IdpUser): SnapshotUser {
    let user = this.users.get(idp.subject);
    if (!user) {
      user = { subject: idp.subject, email: idp.email, name: idp.name, groups: [] };
      this.users.set(idp.subject, user);
    }
    return user;
  }
}

export interface CacheChanges {
  /** Cache entries to write. */
  writes: CachedUser[];
  /** Users the run marks absent now (they were present before). */
  absentMarked: number;
  /** IdP group memberships present before and gone now, over users still present. */
  membershipsRemoved: number;
  /** Present users and their group memberships before the run: the guard's denominators. */
  usersBefore: number;
  membershipsBefore: number;
}

/**
 * A complete snapshot against the previous cache. Every user in the snapshot is written fresh.
 * A cached user the snapshot lacks is marked absent when the IdP listed all its users
 * (`usersListed`); otherwise the walk over groups only shows that the user is in no group.
 * Nesting comes from the listing where it said (`Snapshot.nestingKnown`), else from the cache.
 */
export function diffFullSnapshot(
  previous: readonly CachedUser[],
  snapshot: Snapshot,
  options: { connector: string; now: string; usersListed: boolean },
): CacheChanges {
  const { connector, now, usersListed } = options;
  const before = new Map(previous.map((user) => [user.subject, user]));
  const changes: CacheChanges = { writes: [], absentMarked: 0, membershipsRemoved: 0, usersBefore: 0, membershipsBefore: 0 };

  for (const old of previous) {
    if (old.absentSince) continue;
    changes.usersBefore++;
    changes.membershipsBefore += old.groups.length;
  }

  for (const user of snapshot.users.values()) {
    const old = before.get(user.subject);
    const groups = user.groups.sort();
    const held = new Set(groups);
    if (old && !old.absentSince) changes.membershipsRemoved += countRemoved(old.groups, held);
    changes.writes.push({
      connector,
      subject: user.subject,
      email: user.email ?? old?.email ?? null,
      name: user.name ?? old?.name ?? null,
      groups,
      nestedGroups: nestedAfterWalk(user, old, held, snapshot.nestingKnown),
      fetchedAt: now,
      origin: 'prewarm',
      absentSince: null,
    });
  }

  for (const old of previous) {
    if (snapshot.users.has(old.subject)) continue;
    if (usersListed) {
      if (old.absentSince) continue;
      changes.absentMarked++;
      changes.writes.push({ ...old, absentSince: now });
    } else {
      changes.membershipsRemoved += old.absentSince ? 0 : old.groups.length;
      changes.writes.push({ ...old, groups: [], nestedGroups: [], fetchedAt: now, origin: 'prewarm' });
    }
  }
  return changes;
}

/**
 * An incremental feed's answer applied to the cache: each changed group's full member list
 * replaces what the cache said of it (under its old name too, when it was renamed), and deleted
 * groups leave every user. A member's `nested` flag, where the listing gives one, sets or clears
 * the group in `nestedGroups`; without it the cache keeps what it said. Only users whose groups
 * changed are written. Work is proportional to the memberships of the groups involved, after one
 * pass over the cache to index them.
 */
export function applyGroupChanges(
  previous: readonly CachedUser[],
  changed: ReadonlyArray<{ group: IdpGroup; oldName: string | null; members: readonly IdpMember[] }>,
  deletedNames: readonly string[],
  options: { connector: string; now: string },
): CacheChanges {
  const changes: CacheChanges = { writes: [], absentMarked: 0, membershipsRemoved: 0, usersBefore: 0, membershipsBefore: 0 };
  const involved = new Set(deletedNames);
  for (const { group, oldName } of changed) {
    involved.add(group.name);
    if (oldName !== null) involved.add(oldName);
  }
  const bySubject = new Map<string, CachedUser>();
  const holders = new Map<string, Set<string>>([...involved].map((name) => [name, new Set<string>()]));
  for (const user of previous) {
    bySubject.set(user.subject, user);
    if (!user.absentSince) {
      changes.usersBefore++;
      changes.membershipsBefore += user.groups.length;
    }
    for (const name of user.groups) holders.get(name)?.add(user.subject);
  }

  // Copy-on-write: a user is copied the first time the run changes it.
  const touched = new Map<string, CachedUser>();
  const edit = (subject: string, create: () => CachedUser): CachedUser => {
    let user = touched.get(subject);
    if (!user) {
      const old = bySubject.get(subject);
      user = old ? { ...old, groups: [...old.groups], nestedGroups: [...old.nestedGroups] } : create();
      touched.set(subject, user);
    }
    return user;
  };
  const holdersOf = (name: string): Set<string> => {
    let set = holders.get(name);
    if (!set) holders.set(name, (set = new Set()));
    return set;
  };

  const leave = (name: string, keep: ReadonlySet<string>) => {
    const current = holdersOf(name);
    for (const subject of [...current]) {
      if (keep.has(subject)) continue;
      const user = edit(subject, () => {
        throw new Error(`cache holder ${subject} vanished`);
      });
      user.groups = user.groups.filter((g) => g !== name);
      user.nestedGroups = user.nestedGroups.filter((g) => g !== name);
      if (!user.absentSince) changes.membershipsRemoved++;
      current.delete(subject);
    }
  };

  for (const { group, oldName, members } of changed) {
    // A renamed group: its old name leaves everyone, members included, who get the new name
    // (nested under it as they were under the old one, unless the listing says otherwise).
    const nestedBefore = new Set<string>();
    if (oldName !== null && oldName !== group.name) {
      for (const subject of holdersOf(oldName)) {
        if ((touched.get(subject) ?? bySubject.get(subject))?.nestedGroups.includes(oldName)) nestedBefore.add(subject);
      }
      leave(oldName, new Set());
    }
    leave(group.name, new Set(members.map((m) => m.subject)));
    const current = holdersOf(group.name);
    for (const member of members) {
      const existing = touched.get(member.subject) ?? bySubject.get(member.subject);
      const nested = member.nested ?? (nestedBefore.has(member.subject) ? true : undefined);
      const nestingChanged = nested !== undefined && existing?.nestedGroups.includes(group.name) !== nested;
      // Listed as a member: the IdP has this user, absent or not before.
      if (existing && existing.groups.includes(group.name) && !existing.absentSince && !nestingChanged) continue;
      const user = edit(member.subject, () => ({
        connector: options.connector,
        subject: member.subject,
        email: member.email,
        name: member.name,
        groups: [],
        nestedGroups: [],
        fetchedAt: options.now,
        origin: 'prewarm',
        absentSince: null,
      }));
      if (!user.groups.includes(group.name)) user.groups = [...user.groups, group.name].sort();
      if (nested === true && !user.nestedGroups.includes(group.name)) user.nestedGroups = [...user.nestedGroups, group.name].sort();
      if (nested === false) user.nestedGroups = user.nestedGroups.filter((name) => name !== group.name);
      user.absentSince = null;
      current.add(member.subject);
    }
  }
  for (const name of deletedNames) leave(name, new Set());

  for (const user of touched.values()) changes.writes.push({ ...user, fetchedAt: options.now, origin: 'prewarm' });
  return changes;
}

/**
 * Direct member changes of groups outside any nesting, applied user by user. `cached` holds the
 * touched users as the cache (and this run so far) has them; `described` the users it lacked.
 * A subject added but in neither is skipped: the IdP no longer knows it.
 */
export function applyMemberChanges(
  cached: ReadonlyMap<string, CachedUser>,
  groups: readonly MemberChanges[],
  described: ReadonlyMap<string, IdpUser>,
  options: { connector: string; now: string },
): { writes: CachedUser[]; membershipsRemoved: number } {
  const touched = new Map<string, CachedUser>();
  let membershipsRemoved = 0;
  const edit = (subject: string): CachedUser | null => {
    const user = touched.get(subject);
    if (user) return user;
    const old = cached.get(subject);
    const idp = described.get(subject);
    let copy: CachedUser;
    if (old) copy = { ...old, groups: [...old.groups], nestedGroups: [...old.nestedGroups] };
    else if (idp) copy = { connector: options.connector, ...idp, groups: [], nestedGroups: [], fetchedAt: options.now, origin: 'prewarm', absentSince: null };
    else return null;
    touched.set(subject, copy);
    return copy;
  };

  for (const { group, added, removed } of groups) {
    for (const subject of removed) {
      if (!(touched.get(subject) ?? cached.get(subject))?.groups.includes(group.name)) continue;
      const user = edit(subject)!;
      user.groups = user.groups.filter((name) => name !== group.name);
      user.nestedGroups = user.nestedGroups.filter((name) => name !== group.name);
      if (!user.absentSince) membershipsRemoved++;
    }
    for (const subject of added) {
      const user = edit(subject);
      if (!user) continue;
      // Added to a group: the IdP has this user, absent or not before.
      user.absentSince = null;
      if (!user.groups.includes(group.name)) user.groups = [...user.groups, group.name].sort();
      user.nestedGroups = user.nestedGroups.filter((name) => name !== group.name);
    }
  }
  const writes = [...touched.values()].map((user) => ({ ...user, fetchedAt: options.now, origin: 'prewarm' as const }));
  return { writes, membershipsRemoved };
}

export interface Guard {
  reason: string;
  share: number;
  limit: number;
}

/**
 * The removal guard (docs/prewarm.md): a run that would mark more than `limit` of the connector's users
 * absent, or strip more than `limit` of their group memberships, stops for an admin to confirm.
 * An empty cache has nothing to lose and is never guarded.
 */
export function removalGuard(changes: CacheChanges, limit: number): Guard | null {
  const absentShare = changes.usersBefore === 0 ? 0 : changes.absentMarked / changes.usersBefore;
  if (absentShare > limit) {
    return {
      reason: `would mark ${changes.absentMarked} of ${changes.usersBefore} users absent (${percent(absentShare)}, limit ${percent(limit)})`,
      share: absentShare,
      limit,
    };
  }
  const removedShare = changes.membershipsBefore === 0 ? 0 : changes.membershipsRemoved / changes.membershipsBefore;
  if (removedShare > limit) {
    return {
      reason: `would remove ${changes.membershipsRemoved} of ${changes.membershipsBefore} group memberships (${percent(removedShare)}, limit ${percent(limit)})`,
      share: removedShare,
      limit,
    };
  }
  return null;
}

/** What the walk said of nesting; for groups whose listing did not say, what the cache (a live look-up) said. */
function nestedAfterWalk(
  user: SnapshotUser,
  old: CachedUser | undefined,
  held: ReadonlySet<string>,
  known: ReadonlySet<string>,
): string[] {
  const kept = (old?.nestedGroups ?? []).filter((name) => held.has(name) && !known.has(name));
  if (!user.nested?.length) return kept;
  return [...new Set([...user.nested, ...kept])].sort();
}

function countRemoved(before: readonly string[], after: ReadonlySet<string>): number {
  return before.filter((name) => !after.has(name)).length;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
