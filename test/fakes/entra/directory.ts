import { randomUUID } from 'node:crypto';

/**
 * The fake Entra tenant's directory: users, groups whose members are users or other groups
 * (nesting), and a change log that Graph delta queries read. Mutations go through the methods
 * so every change is logged in order.
 */

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  givenName: string | null;
  surname: string | null;
  accountEnabled: boolean;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  description: string | null;
  securityEnabled: boolean;
  mailEnabled: boolean;
  /** Direct members (user or group ids), in the order they were added. */
  members: string[];
}

export type DirectoryObject = ({ kind: 'user' } & DirectoryUser) | ({ kind: 'group' } & DirectoryGroup);

/** One logged change to a group, read by delta rounds. `seq` grows by one per change. */
export type GroupChange =
  | { seq: number; groupId: string; kind: 'created' }
  | { seq: number; groupId: string; kind: 'renamed' }
  | {
      seq: number;
      groupId: string;
      kind: 'member-added' | 'member-removed';
      memberId: string;
      memberKind: 'user' | 'group';
    }
  | { seq: number; groupId: string; kind: 'deleted'; permanently: boolean };

export interface SeedUser extends Partial<Omit<DirectoryUser, 'userPrincipalName'>> {
  userPrincipalName: string;
}

export interface SeedGroup {
  id?: string;
  displayName: string;
  description?: string | null;
  /** Member ids (users or groups) or user principal names. */
  members?: string[];
}

export class Directory {
  private readonly users = new Map<string, DirectoryUser>();
  private readonly groups = new Map<string, DirectoryGroup>();
  readonly changes: GroupChange[] = [];

  get lastSeq(): number {
    return this.changes.length;
  }

  addUser(seed: SeedUser): DirectoryUser {
    const [local = seed.userPrincipalName] = seed.userPrincipalName.split('@');
    const user: DirectoryUser = {
      id: seed.id ?? randomUUID(),
      userPrincipalName: seed.userPrincipalName,
      displayName: seed.displayName ?? local,
      mail: seed.mail === undefined ? seed.userPrincipalName : seed.mail,
      givenName: seed.givenName ?? null,
      surname: seed.surname ?? null,
      accountEnabled: seed.accountEnabled ?? true,
    };
    if (this.findUser(user.id) || this.findUser(user.userPrincipalName)) {
      throw new Error(`user ${user.userPrincipalName} exists`);
    }
    this.users.set(user.id, user);
    return user;
  }

  addGroup(seed: SeedGroup): DirectoryGroup {
    const group: DirectoryGroup = {
      id: seed.id ?? randomUUID(),
      displayName: seed.displayName,
      description: seed.description ?? null,
      securityEnabled: true,
      mailEnabled: false,
      members: [],
    };
    if (this.groups.has(group.id) || this.users.has(group.id)) throw new Error(`id ${group.id} taken`);
    this.groups.set(group.id, group);
    this.changes.push({ seq: this.nextSeq, groupId: group.id, kind: 'created' });
    for (const member of seed.members ?? []) this.addMember(group.id, member);
    return group;
  }

  /** `member` is a user id, a user principal name or a group id. */
  addMember(groupId: string, member: string): void {
    const group = this.requireGroup(groupId);
    const memberId = this.resolveMemberId(member);
    if (memberId === groupId || this.isAncestorOrSelf(memberId, groupId)) {
      throw new Error(`adding ${member} to ${groupId} would make a nesting cycle`);
    }
    if (group.members.includes(memberId)) return;
    group.members.push(memberId);
    this.changes.push({ seq: this.nextSeq, groupId, kind: 'member-added', memberId, memberKind: this.kindOf(memberId) });
  }

  removeMember(groupId: string, member: string): void {
    const group = this.requireGroup(groupId);
    const memberId = this.resolveMemberId(member);
    const index = group.members.indexOf(memberId);
    if (index < 0) return;
    group.members.splice(index, 1);
    this.changes.push({ seq: this.nextSeq, groupId, kind: 'member-removed', memberId, memberKind: this.kindOf(memberId) });
  }

  renameGroup(groupId: string, displayName: string): void {
    this.requireGroup(groupId).displayName = displayName;
    this.changes.push({ seq: this.nextSeq, groupId, kind: 'renamed' });
  }

  /**
   * Deletes a group; its memberships in other groups go too (logged as those groups' changes,
   * as Entra does). Graph reports a soft delete as `@removed.reason: "changed"` and a
   * permanent one as `"deleted"`.
   */
  deleteGroup(groupId: string, options: { permanently?: boolean } = {}): void {
    this.requireGroup(groupId);
    for (const parent of this.groups.values()) {
      if (parent.members.includes(groupId)) this.removeMember(parent.id, groupId);
    }
    this.groups.delete(groupId);
    this.changes.push({ seq: this.nextSeq, groupId, kind: 'deleted', permanently: options.permanently ?? false });
  }

  removeUser(userId: string): void {
    const user = this.findUser(userId);
    if (!user) throw new Error(`no user ${userId}`);
    for (const group of this.groups.values()) {
      if (group.members.includes(user.id)) this.removeMember(group.id, user.id);
    }
    this.users.delete(user.id);
  }

  listUsers(): DirectoryUser[] {
    return [...this.users.values()];
  }

  listGroups(): DirectoryGroup[] {
    return [...this.groups.values()];
  }

  findGroup(id: string): DirectoryGroup | undefined {
    return this.groups.get(id);
  }

  /** By id, or by user principal name (case-insensitive), as Graph's `/users/{id|upn}`. */
  findUser(idOrUpn: string): DirectoryUser | undefined {
    const byId = this.users.get(idOrUpn);
    if (byId) return byId;
    const upn = idOrUpn.toLowerCase();
    return [...this.users.values()].find((u) => u.userPrincipalName.toLowerCase() === upn);
  }

  findObject(id: string): DirectoryObject | undefined {
    const user = this.users.get(id);
    if (user) return { kind: 'user', ...user };
    const group = this.groups.get(id);
    return group ? { kind: 'group', ...group } : undefined;
  }

  /** The users and groups `groupId` holds directly, in the order they were added. */
  directMembers(groupId: string): DirectoryObject[] {
    return this.requireGroup(groupId).members.flatMap((id) => this.findObject(id) ?? []);
  }

  /** Every user and group below `groupId`, nesting flattened, each once, breadth first. */
  transitiveMembers(groupId: string): DirectoryObject[] {
    const seen = new Set<string>();
    const out: DirectoryObject[] = [];
    const queue = [...this.requireGroup(groupId).members];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const object = this.findObject(id);
      if (!object) continue;
      out.push(object);
      if (object.kind === 'group') queue.push(...object.members);
    }
    return out;
  }

  /** The groups that hold `objectId` directly. */
  memberOf(objectId: string): DirectoryGroup[] {
    return this.listGroups().filter((g) => g.members.includes(objectId));
  }

  /** The groups that hold `objectId` directly or through nesting, each once. */
  transitiveMemberOf(objectId: string): DirectoryGroup[] {
    const seen = new Set<string>();
    const out: DirectoryGroup[] = [];
    const queue = this.memberOf(objectId);
    while (queue.length > 0) {
      const group = queue.shift()!;
      if (seen.has(group.id)) continue;
      seen.add(group.id);
      out.push(group);
      queue.push(...this.memberOf(group.id));
    }
    return out;
  }

  private isAncestorOrSelf(candidate: string, groupId: string): boolean {
    return candidate === groupId || this.transitiveMemberOf(groupId).some((g) => g.id === candidate);
  }

  private resolveMemberId(member: string): string {
    if (this.groups.has(member)) return member;
    const user = this.findUser(member);
    if (!user) throw new Error(`no user or group ${member}`);
    return user.id;
  }

  private requireGroup(id: string): DirectoryGroup {
    const group = this.groups.get(id);
    if (!group) throw new Error(`no group ${id}`);
    return group;
  }

  private kindOf(id: string): 'user' | 'group' {
    return this.groups.has(id) ? 'group' : 'user';
  }

  private get nextSeq(): number {
    return this.changes.length + 1;
  }
}
