/**
 * The data behind the fake GitLab: groups in a tree, users, direct group memberships and access
 * tokens. Full paths and full names are derived from the tree, as GitLab does, so a seeded
 * subgroup always agrees with its parent.
 */

export const AccessLevel = {
  minimal: 5,
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

export interface FakeGroup {
  id: number;
  name: string;
  path: string;
  parentId: number | null;
}

export interface FakeUser {
  id: number;
  username: string;
  name: string;
  email: string;
  state: 'active' | 'blocked';
  admin: boolean;
}

export interface FakeToken {
  /** The user the token belongs to; its rights are that user's. */
  userId: number;
}

export interface GroupSeed {
  /** Full path, e.g. `my-gitlab-group/sub-group`; the parent must exist already. */
  fullPath: string;
  /** Display name; defaults to the last path segment. */
  name?: string;
  id?: number;
}

export interface UserSeed {
  username: string;
  name?: string;
  email?: string;
  state?: 'active' | 'blocked';
  admin?: boolean;
  id?: number;
}

export class GitlabDirectory {
  private readonly groups = new Map<number, FakeGroup>();
  private readonly users = new Map<number, FakeUser>();
  /** groupId → userId → access level (direct memberships only). */
  private readonly members = new Map<number, Map<number, number>>();
  private readonly tokens = new Map<string, FakeToken>();
  /** Indexes, so big seeds stay fast: lower-cased full path → id, parent id → child ids. */
  private readonly byPath = new Map<string, number>();
  private readonly childIds = new Map<number, number[]>();
  private nextGroupId = 100;
  private nextUserId = 1000;

  addGroup(seed: GroupSeed | string): FakeGroup {
    const { fullPath, name, id } = typeof seed === 'string' ? { fullPath: seed, name: undefined, id: undefined } : seed;
    const segments = fullPath.split('/');
    const path = segments.pop();
    if (!path || segments.some((s) => s === '')) throw new Error(`bad group path: ${fullPath}`);
    if (this.findGroupByPath(fullPath)) throw new Error(`group exists: ${fullPath}`);
    let parentId: number | null = null;
    if (segments.length > 0) {
      const parent = this.findGroupByPath(segments.join('/'));
      if (!parent) throw new Error(`parent of ${fullPath} does not exist`);
      parentId = parent.id;
    }
    const group: FakeGroup = { id: id ?? this.nextGroupId++, name: name ?? path, path, parentId };
    if (this.groups.has(group.id)) throw new Error(`group id taken: ${group.id}`);
    this.groups.set(group.id, group);
    this.byPath.set(fullPath.toLowerCase(), group.id);
    if (parentId !== null) {
      const siblings = this.childIds.get(parentId);
      if (siblings) siblings.push(group.id);
      else this.childIds.set(parentId, [group.id]);
    }
    return group;
  }

  addUser(seed: UserSeed): FakeUser {
    const user: FakeUser = {
      id: seed.id ?? this.nextUserId++,
      username: seed.username,
      name: seed.name ?? seed.username,
      email: seed.email ?? `${seed.username}@example.com`,
      state: seed.state ?? 'active',
      admin: seed.admin ?? false,
    };
    if (this.users.has(user.id)) throw new Error(`user id taken: ${user.id}`);
    this.users.set(user.id, user);
    return user;
  }

  /** A direct membership; `group` is an id or a full path. */
  addMember(group: number | string, userId: number, accessLevel: number = AccessLevel.developer): void {
    const target = typeof group === 'number' ? this.groups.get(group) : this.findGroupByPath(group);
    if (!target) throw new Error(`no group ${group}`);
    if (!this.users.has(userId)) throw new Error(`no user ${userId}`);
    let direct = this.members.get(target.id);
    if (!direct) this.members.set(target.id, (direct = new Map()));
    direct.set(userId, accessLevel);
  }

  removeMember(group: number | string, userId: number): void {
    const target = typeof group === 'number' ? this.groups.get(group) : this.findGroupByPath(group);
    if (target) this.members.get(target.id)?.delete(userId);
  }

  addToken(token: string, userId: number): void {
    if (!this.users.has(userId)) throw new Error(`no user ${userId}`);
    this.tokens.set(token, { userId });
  }

  tokenUser(token: string): FakeUser | undefined {
    const entry = this.tokens.get(token);
    return entry ? this.users.get(entry.userId) : undefined;
  }

  allGroups(): FakeGroup[] {
    return [...this.groups.values()];
  }

  allUsers(): FakeUser[] {
    return [...this.users.values()];
  }

  group(id: number): FakeGroup | undefined {
    return this.groups.get(id);
  }

  user(id: number): FakeUser | undefined {
    return this.users.get(id);
  }

  /** GitLab resolves a path id case-insensitively. */
  findGroupByPath(fullPath: string): FakeGroup | undefined {
    const id = this.byPath.get(fullPath.toLowerCase());
    return id === undefined ? undefined : this.groups.get(id);
  }

  fullPath(group: FakeGroup): string {
    return this.lineage(group)
      .map((g) => g.path)
      .join('/');
  }

  fullName(group: FakeGroup): string {
    return this.lineage(group)
      .map((g) => g.name)
      .join(' / ');
  }

  /** The group's ancestors and itself, root first. */
  lineage(group: FakeGroup): FakeGroup[] {
    const chain: FakeGroup[] = [];
    for (let g: FakeGroup | undefined = group; g; g = g.parentId === null ? undefined : this.groups.get(g.parentId)) {
      chain.unshift(g);
    }
    return chain;
  }

  descendants(group: FakeGroup): FakeGroup[] {
    const out: FakeGroup[] = [];
    const queue = [group.id];
    while (queue.length > 0) {
      for (const id of this.childIds.get(queue.shift()!) ?? []) {
        out.push(this.groups.get(id)!);
        queue.push(id);
      }
    }
    return out;
  }

  children(group: FakeGroup): FakeGroup[] {
    return (this.childIds.get(group.id) ?? []).map((id) => this.groups.get(id)!);
  }

  directMembers(group: FakeGroup): Map<number, number> {
    return new Map(this.members.get(group.id) ?? []);
  }

  /** Direct and inherited members, one entry per user with the highest access level. */
  allMembers(group: FakeGroup): Map<number, number> {
    const out = new Map<number, number>();
    for (const g of this.lineage(group)) {
      for (const [userId, level] of this.members.get(g.id) ?? []) {
        out.set(userId, Math.max(level, out.get(userId) ?? 0));
      }
    }
    return out;
  }

  /** The user's direct group memberships: groupId → access level. */
  membershipsOf(userId: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [groupId, direct] of this.members) {
      const level = direct.get(userId);
      if (level !== undefined) out.set(groupId, level);
    }
    return out;
  }
}
