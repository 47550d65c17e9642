import { GroupMembers, Groups, Users } from '@gitbeaker/rest';
import type { z } from 'zod';
import {
  ConnectorError,
  type CallOptions,
  type Connector,
  type ConnectorDefinition,
  type IdpGroup,
  type IdpMember,
  type IdpUser,
  type IdpUserGroups,
  type UserListing,
} from '../types.js';
import { gitlabConfigSchema, type GitlabConnectorConfig } from './config.js';
import { resolveUserGroups } from './user-groups.js';
import {
  gitlabGroupSchema,
  gitlabMemberSchema,
  gitlabMembershipSchema,
  gitlabUserSchema,
  type GitlabGroup,
  type GitlabMember,
  type GitlabMembership,
  type GitlabUser,
} from './schemas.js';
import { createRequesterFn, GitlabNotFoundError, type TransportSettings } from './transport.js';

export type { GitlabConnectorConfig } from './config.js';

/** Guest (10) and up. Minimal Access (5) grants no access to the group's content. */
const MIN_ACCESS_LEVEL = 10;

/**
 * GitLab through `@gitbeaker/rest`. Group names are full paths (`my-gitlab-group/sub-group`), as
 * SonarQube matches them. GitLab has no feed of membership changes, so this connector offers no
 * `IncrementalFeed`: every pre-warm run is a full listing.
 */
export const gitlabConnector: ConnectorDefinition<GitlabConnectorConfig> = {
  type: 'gitlab',
  configSchema: gitlabConfigSchema,
  create: (config) => createGitlabConnector(config),
};

/** One page at a time, as gitbeaker returns it with `showExpanded`. */
interface ExpandedPage {
  data: unknown;
  paginationInfo: { next: number | null };
}

export function createGitlabConnector(config: GitlabConnectorConfig): Connector & UserListing {
  const transport: TransportSettings = {
    connector: config.id,
    timeoutMs: config.timeoutMs,
    retry: { maxRetries: config.maxRetries },
  };
  const perPage = config.pageSize;
  const paging = { perPage, showExpanded: true, pagination: 'offset' } as const;

  /** gitbeaker resources bound to one call's signal and stats (cheap: no client-side limiters). */
  const client = (call: CallOptions) => {
    const options = {
      host: config.url,
      token: config.token,
      queryTimeout: null,
      requesterFn: createRequesterFn(transport, call),
    };
    return { groups: new Groups(options), members: new GroupMembers(options), users: new Users(options) };
  };

  const bad = (message: string, cause?: unknown) =>
    new ConnectorError('bad_response', config.id, message, cause === undefined ? undefined : { cause });

  const parse = <T>(schema: z.ZodType<T>, data: unknown, what: string): T => {
    const result = schema.safeParse(data);
    if (!result.success) throw bad(`${what}: unexpected answer: ${result.error.issues[0]?.message ?? ''}`, result.error);
    return result.data;
  };

  /** Follows `x-next-page` one page at a time, so pages stream and a retry repeats one page. */
  async function* pages<T>(
    call: CallOptions,
    schema: z.ZodType<T>,
    what: string,
    fetchPage: (page: number) => Promise<ExpandedPage>,
  ): AsyncGenerator<T[]> {
    for (let page = 1; ; ) {
      const { data, paginationInfo } = await fetchPage(page);
      if (!Array.isArray(data)) throw bad(`${what}: expected a list`);
      const rows = data.map((row) => parse(schema, row, what));
      if (call.stats) call.stats.pages++;
      yield rows;
      const { next } = paginationInfo;
      if (next === null) return;
      if (next <= page) throw bad(`${what}: x-next-page went backwards (${page} → ${next})`);
      page = next;
    }
  }

  const orNullIfNotFound = async <T>(run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof GitlabNotFoundError) return null;
      throw error;
    }
  };

  const toIdpGroup = (group: GitlabGroup): IdpGroup => ({ id: String(group.id), name: group.full_path });

  /** A group id as GitLab takes it: numeric, or a full path (gitbeaker encodes it as `a%2Fb`). */
  const groupRef = (id: string): string | number => (/^\d+$/.test(id) ? Number(id) : id);

  async function* descendants(call: CallOptions, groupId: string | number): AsyncGenerator<GitlabGroup[]> {
    const api = client(call);
    yield* pages(call, gitlabGroupSchema, `descendant groups of ${groupId}`, (page) =>
      api.groups.allDescendantGroups(groupId, { ...paging, page, allAvailable: true, orderBy: 'id', sort: 'asc' }),
    );
  }

  async function rootGroup(call: CallOptions, path: string): Promise<GitlabGroup> {
    try {
      const group = await client(call).groups.show(path, { withProjects: false });
      return parse(gitlabGroupSchema, group, `group ${path}`);
    } catch (error) {
      if (error instanceof GitlabNotFoundError) {
        throw new ConnectorError('invalid_config', config.id, `rootGroups: no group "${path}" that the token can see`);
      }
      throw error;
    }
  }

  async function* listGroups(call: CallOptions): AsyncGenerator<IdpGroup[]> {
    if (!config.rootGroups) {
      const api = client(call);
      const all = pages(call, gitlabGroupSchema, 'groups', (page) =>
        api.groups.all({ ...paging, page, allAvailable: true, orderBy: 'id', sort: 'asc' }),
      );
      for await (const page of all) yield page.map(toIdpGroup);
      return;
    }
    for (const path of config.rootGroups) {
      const root = await rootGroup(call, path);
      yield [toIdpGroup(root)];
      for await (const page of descendants(call, root.id)) yield page.map(toIdpGroup);
    }
  }

  async function* listMembers(group: IdpGroup, call: CallOptions): AsyncGenerator<IdpMember[]> {
    const api = client(call);
    const ref = groupRef(group.id);
    const rowsOf = (inherited: boolean) =>
      pages(call, gitlabMemberSchema, `${inherited ? '' : 'direct '}members of ${group.name}`, (page) =>
        api.members.all(ref, { ...paging, page, includeInherited: inherited }),
      );
    try {
      // `members/all` gives one row per user at the highest level, never saying where it comes from.
      let direct: Set<number> | null = null;
      if (config.recordNesting) {
        direct = new Set();
        for await (const page of rowsOf(false)) {
          for (const m of page) if (m.access_level >= MIN_ACCESS_LEVEL) direct.add(m.id);
        }
      }
      for await (const page of rowsOf(true)) {
        const members = page.filter((m) => m.access_level >= MIN_ACCESS_LEVEL);
        yield direct ? members.map((m) => ({ ...memberToIdpUser(m), nested: !direct.has(m.id) })) : members.map(memberToIdpUser);
      }
    } catch (error) {
      if (error instanceof GitlabNotFoundError) throw bad(`group ${group.name} (${group.id}) no longer exists`, error);
      throw error;
    }
  }

  async function lookupUser(query: { subject: string }, call: CallOptions): Promise<IdpUserGroups | null> {
    // GitLab's subject is its numeric user id; anything else names no GitLab user.
    if (!/^\d+$/.test(query.subject)) return null;
    const userId = Number(query.subject);
    const api = client(call);
    const user = await orNullIfNotFound(async () =>
      parse(gitlabUserSchema, await api.users.show(userId), `user ${userId}`),
    );
    if (!user) return null;
    const direct = await orNullIfNotFound(() => directMemberships(call, userId));
    // The user was deleted between the two calls.
    if (!direct) return null;
    const groups = await resolveUserGroups({
      directGroupIds: direct
        .filter((m) => m.source_type === 'Namespace' && m.access_level >= MIN_ACCESS_LEVEL)
        .map((m) => m.source_id),
      descendantsOf: (groupId) =>
        orNullIfNotFound(async () => {
          const all: GitlabGroup[] = [];
          for await (const page of descendants(call, groupId)) all.push(...page);
          return all;
        }),
      group: (groupId) =>
        orNullIfNotFound(async () =>
          parse(gitlabGroupSchema, await api.groups.show(groupId, { withProjects: false }), `group ${groupId}`),
        ),
      rootGroups: config.rootGroups,
    });
    return { ...userToIdpUser(user), ...groups };
  }

  /**
   * Without `rootGroups`: `GET /users?active=true` (blocked and deactivated users cannot sign in),
   * oldest first so users created meanwhile land on later pages. Needs an administrator's token
   * for emails, as `lookupUser` does.
   *
   * With `rootGroups`: everyone with a membership in the roots' trees, Minimal Access included
   * (in scope, though in no group). Membership inherits downwards, so a root's `members/all`
   * already holds its whole tree's inherited members; what it lacks are people added directly in
   * a subgroup, read from each descendant's direct `members`. Every membership row is fetched
   * once: `members/all` per subgroup would re-fetch the inherited rows in every subgroup.
   * Not listed: someone whose only access is a share of an outside group into a subgroup (its
   * `members/all` shows them, so `listMembers` still reports them).
   */
  async function* listUsers(call: CallOptions): AsyncGenerator<IdpUser[]> {
    const api = client(call);
    if (!config.rootGroups) {
      const rows = pages(call, gitlabUserSchema, 'users', (page) =>
        api.users.all({ ...paging, page, active: true, sort: 'asc' }),
      );
      for await (const page of rows) yield page.map(userToIdpUser);
      return;
    }
    const seen = new Set<number>();
    async function* membersOf(group: GitlabGroup, inherited: boolean): AsyncGenerator<IdpUser[]> {
      const rows = pages(call, gitlabMemberSchema, `members of ${group.full_path}`, (page) =>
        api.members.all(group.id, { ...paging, page, includeInherited: inherited }),
      );
      for await (const page of rows) {
        const fresh = page.filter((m) => !seen.has(m.id));
        for (const member of fresh) seen.add(member.id);
        if (fresh.length > 0) yield fresh.map(memberToIdpUser);
      }
    }
    for (const path of config.rootGroups) {
      const root = await rootGroup(call, path);
      yield* membersOf(root, true);
      for await (const groups of descendants(call, root.id)) {
        for (const group of groups) {
          try {
            yield* membersOf(group, false);
          } catch (error) {
            // Deleted since the descendants were listed: it makes no one a member any more.
            if (!(error instanceof GitlabNotFoundError)) throw error;
          }
        }
      }
    }
  }

  /** `GET /users/:id/memberships?type=Namespace`: direct group memberships; administrators only. */
  async function directMemberships(call: CallOptions, userId: number): Promise<GitlabMembership[]> {
    const api = client(call);
    const direct: GitlabMembership[] = [];
    const all = pages(call, gitlabMembershipSchema, `memberships of user ${userId}`, (page) =>
      api.users.allMemberships(userId, { ...paging, page, type: 'Namespace' }),
    );
    try {
      for await (const page of all) direct.push(...page);
    } catch (error) {
      if (error instanceof ConnectorError && error.kind === 'auth_failed') {
        throw new ConnectorError(
          'auth_failed',
          config.id,
          `looking up a user's groups needs an administrator's token (GET /users/${userId}/memberships was refused)`,
          { cause: error },
        );
      }
      throw error;
    }
    return direct;
  }

  return {
    id: config.id,
    type: 'gitlab',
    listGroups: (options) => listGroups(options),
    listMembers: (group, options) => listMembers(group, options),
    lookupUser: (query, options) => lookupUser(query, options),
    listUsers: (options) => listUsers(options),
  };
}

/** The same person reads the same from a member list as from `lookupUser`'s user record. */
function memberToIdpUser(member: GitlabMember): IdpUser {
  return { subject: String(member.id), email: member.email || null, name: member.name ?? null };
}

function userToIdpUser(user: GitlabUser): IdpUser {
  return { subject: String(user.id), email: user.email || user.public_email || null, name: user.name ?? null };
}
