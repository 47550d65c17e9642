/**
 * The fake Okta org's data: groups, users and memberships, in memory. Tests seed it, then change
 * it through the methods below, which keep Okta's timestamps honest: a membership change bumps
 * the group's `lastMembershipUpdated`, a profile change its `lastUpdated` (the incremental feed
 * filters on both).
 */

export type OktaGroupType = 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';
export type OktaUserStatus =
  | 'STAGED'
  | 'PROVISIONED'
  | 'ACTIVE'
  | 'RECOVERY'
  | 'PASSWORD_EXPIRED'
  | 'LOCKED_OUT'
  | 'SUSPENDED'
  | 'DEPROVISIONED';

export interface OktaGroup {
  id: string;
  created: string;
  lastUpdated: string;
  lastMembershipUpdated: string;
  type: OktaGroupType;
  profile: { name: string; description: string };
}

export interface OktaUser {
  id: string;
  status: OktaUserStatus;
  created: string;
  lastUpdated: string;
  profile: { login: string; email: string; firstName: string | null; lastName: string | null };
}

/** A System Log event of a membership change (`group.user_membership.add` / `.remove`). */
export interface LogEvent {
  uuid: string;
  published: string;
  eventType: 'group.user_membership.add' | 'group.user_membership.remove';
  outcome: { result: 'SUCCESS' };
  target: Array<{ id: string; type: 'User' | 'UserGroup'; alternateId: string; displayName: string }>;
  /** The fake's order, for paging. */
  seq: number;
}

/** When seeded data claims to have last changed: well before any cursor a test takes. */
export const SEEDED_AT = '2024-01-01T00:00:00.000Z';

export interface OktaDirectoryOptions {
  /** The org's clock; mutations stamp objects with it. */
  now?: () => Date;
}

export class OktaDirectory {
  private readonly groupsById = new Map<string, OktaGroup>();
  private readonly usersById = new Map<string, OktaUser>();
  private readonly usersByLogin = new Map<string, OktaUser>();
  /** Member user ids per group, kept sorted so pages and cursors are stable. */
  private readonly members = new Map<string, string[]>();
  private readonly groupsOfUser = new Map<string, Set<string>>();
  private sortedGroupIds: string[] | undefined;
  /** Every page of `/api/v1/users` reads the users in id order: sorted once per change. */
  private sortedUsers: OktaUser[] | undefined;
  /** The System Log: membership changes stamped by the clock (backdated seeding logs nothing). */
  readonly events: LogEvent[] = [];
  private nextGroup = 1;
  private nextUser = 1;
  readonly now: () => Date;

  constructor(options: OktaDirectoryOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  addGroup(input: { name: string; type?: OktaGroupType; description?: string; id?: string; at?: string }): OktaGroup {
    const id = input.id ?? oktaId('00g', this.nextGroup++);
    if (this.groupsById.has(id)) throw new Error(`group ${id} exists`);
    const at = input.at ?? this.now().toISOString();
    const group: OktaGroup = {
      id,
      created: at,
      lastUpdated: at,
      lastMembershipUpdated: at,
      type: input.type ?? 'OKTA_GROUP',
      profile: { name: input.name, description: input.description ?? '' },
    };
    this.groupsById.set(id, group);
    this.members.set(id, []);
    this.sortedGroupIds = undefined;
    return group;
  }

  addUser(input: {
    login: string;
    email?: string;
    firstName?: string | null;
    lastName?: string | null;
    status?: OktaUserStatus;
    id?: string;
    at?: string;
  }): OktaUser {
    const id = input.id ?? oktaId('00u', this.nextUser++);
    const loginKey = input.login.toLowerCase();
    if (this.usersById.has(id)) throw new Error(`user ${id} exists`);
    if (this.usersByLogin.has(loginKey)) throw new Error(`login ${input.login} exists`);
    const at = input.at ?? this.now().toISOString();
    const user: OktaUser = {
      id,
      status: input.status ?? 'ACTIVE',
      created: at,
      lastUpdated: at,
      profile: {
        login: input.login,
        email: input.email ?? input.login,
        firstName: input.firstName ?? null,
        lastName: input.lastName ?? null,
      },
    };
    this.usersById.set(id, user);
    this.usersByLogin.set(loginKey, user);
    this.sortedUsers = undefined;
    this.groupsOfUser.set(id, new Set());
    return user;
  }

  /** Adds a member; `at` backdates the change (seeding), else the clock stamps it. */
  addMember(groupId: string, userId: string, at?: string): void {
    const list = this.membersList(groupId);
    this.requireUser(userId);
    const index = lowerBound(list, userId);
    if (list[index] === userId) return;
    list.splice(index, 0, userId);
    this.groupsOfUser.get(userId)!.add(groupId);
    this.groupsById.get(groupId)!.lastMembershipUpdated = at ?? this.now().toISOString();
    if (at === undefined) this.logMembership('group.user_membership.add', groupId, userId);
  }

  removeMember(groupId: string, userId: string): void {
    const list = this.membersList(groupId);
    const index = lowerBound(list, userId);
    if (list[index] !== userId) return;
    list.splice(index, 1);
    this.groupsOfUser.get(userId)?.delete(groupId);
    this.groupsById.get(groupId)!.lastMembershipUpdated = this.now().toISOString();
    this.logMembership('group.user_membership.remove', groupId, userId);
  }

  private logMembership(eventType: LogEvent['eventType'], groupId: string, userId: string): void {
    const user = this.usersById.get(userId)!;
    const group = this.groupsById.get(groupId)!;
    const seq = this.events.length;
    this.events.push({
      uuid: `evt-${seq}`,
      published: this.now().toISOString(),
      eventType,
      outcome: { result: 'SUCCESS' },
      target: [
        {
          id: user.id,
          type: 'User',
          alternateId: user.profile.login,
          displayName: [user.profile.firstName, user.profile.lastName].filter(Boolean).join(' '),
        },
        { id: group.id, type: 'UserGroup', alternateId: 'unknown', displayName: group.profile.name },
      ],
      seq,
    });
  }

  renameGroup(groupId: string, name: string): void {
    const group = this.requireGroup(groupId);
    group.profile.name = name;
    group.lastUpdated = this.now().toISOString();
  }

  deleteGroup(groupId: string): void {
    const list = this.membersList(groupId);
    for (const userId of list) this.groupsOfUser.get(userId)?.delete(groupId);
    this.members.delete(groupId);
    this.groupsById.delete(groupId);
    this.sortedGroupIds = undefined;
  }

  group(id: string): OktaGroup | undefined {
    return this.groupsById.get(id);
  }

  /** By id, or by login (case-insensitive), as `/api/v1/users/{id|login}` resolves it. */
  user(idOrLogin: string): OktaUser | undefined {
    return this.usersById.get(idOrLogin) ?? this.usersByLogin.get(idOrLogin.toLowerCase());
  }

  /** All groups, ordered by id (the fake's paging order). */
  groups(): OktaGroup[] {
    this.sortedGroupIds ??= [...this.groupsById.keys()].sort();
    return this.sortedGroupIds.map((id) => this.groupsById.get(id)!);
  }

  /** All users, ordered by id. */
  users(): OktaUser[] {
    this.sortedUsers ??= [...this.usersById.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return [...this.sortedUsers];
  }

  /** Member ids of a group in paging order; undefined for an unknown group. */
  memberIds(groupId: string): readonly string[] | undefined {
    return this.members.get(groupId);
  }

  groupsOf(userId: string): OktaGroup[] {
    const ids = [...(this.groupsOfUser.get(userId) ?? [])].sort();
    return ids.map((id) => this.groupsById.get(id)!);
  }

  get counts(): { groups: number; users: number; memberships: number } {
    let memberships = 0;
    for (const list of this.members.values()) memberships += list.length;
    return { groups: this.groupsById.size, users: this.usersById.size, memberships };
  }

  private membersList(groupId: string): string[] {
    const list = this.members.get(groupId);
    if (!list) throw new Error(`unknown group ${groupId}`);
    return list;
  }

  private requireGroup(groupId: string): OktaGroup {
    const group = this.groupsById.get(groupId);
    if (!group) throw new Error(`unknown group ${groupId}`);
    return group;
  }

  private requireUser(userId: string): OktaUser {
    const user = this.usersById.get(userId);
    if (!user) throw new Error(`unknown user ${userId}`);
    return user;
  }
}

/** Okta-shaped ids (`00g…`, `00u…`, 20 characters) that sort in creation order. */
export function oktaId(prefix: '00g' | '00u', n: number): string {
  return prefix + n.toString(36).padStart(17, '0');
}

/** First index whose value is >= `value` in a sorted array. */
export function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A deterministic org for scale tests: `users` users, `groups` groups, each user in between
 * `minGroups` and `maxGroups` groups (spread with a fixed pseudo-random sequence). Everything is
 * stamped `SEEDED_AT`.
 */
export function seedLargeDirectory(
  directory: OktaDirectory,
  shape: { users: number; groups: number; minGroups: number; maxGroups: number },
): void {
  const groupIds: string[] = [];
  for (let g = 0; g < shape.groups; g++) {
    groupIds.push(directory.addGroup({ name: `group-${g}`, at: SEEDED_AT }).id);
  }
  let state = 0x2545f491;
  const random = () => {
    // xorshift32: the same org on every run.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  for (let u = 0; u < shape.users; u++) {
    const user = directory.addUser({
      login: `user${u}@example.com`,
      firstName: 'User',
      lastName: String(u),
      at: SEEDED_AT,
    });
    const count = shape.minGroups + Math.floor(random() * (shape.maxGroups - shape.minGroups + 1));
    for (let k = 0; k < count; k++) {
      directory.addMember(groupIds[Math.floor(random() * groupIds.length)]!, user.id, SEEDED_AT);
    }
  }
}
