import type { z } from 'zod';
import {
  type CallOptions,
  type Connector,
  type ConnectorDefinition,
  type IdpGroup,
  type IdpMember,
  type IdpUserGroups,
  type MemberChangeFeed,
  type UserListing,
} from '../types.js';
import { entraConfigSchema, type EntraConnectorConfig } from './config.js';
import { createDeltaFeed } from './delta-feed.js';
import { createGraphApi, type GraphApi } from './graph-api.js';
import { directoryObjectSchema, GRAPH_USER_TYPE, groupSchema, userSchema } from './graph-schemas.js';
import { toIdpUser } from './idp-user.js';

export type { EntraConnectorConfig } from './config.js';

/**
 * Microsoft Entra ID through Microsoft Graph v1.0 with app-only (client credentials) access.
 * Needs the application permissions `GroupMember.Read.All` and `User.Read.All`; the delta feed's
 * look-up of new users and unnamed groups (`directoryObjects/getByIds`) is documented with
 * `Directory.Read.All` as its least privileged permission.
 *
 * - `listGroups`: `GET /groups?$select=id,displayName&$top=pageSize`; name = `displayName`.
 * - `listMembers`: `GET /groups/{id}/transitiveMembers`: nested groups resolved by Graph; only
 *   users are returned. Graph does not say which of them are direct members: with
 *   `recordNesting`, the group's direct `GET /groups/{id}/members` is read first (one more call
 *   per page of direct members) and each member comes flagged `nested`.
 * - `listUsers`: `GET /users?$select=id,displayName,mail&$top=pageSize`: every user of the tenant,
 *   disabled accounts and guests included (soft-deleted users are not listed).
 * - `lookupUser` (login-time look-up, and the answer to token group overage): three requests in
 *   parallel: the user, `transitiveMemberOf/microsoft.graph.group` (every group, nesting
 *   included) and `memberOf/microsoft.graph.group` (direct groups). The second listing is the
 *   price of `nestedGroups`: Graph's transitive answer does not say which memberships are direct,
 *   and `$expand=memberOf` stops at 20 items.
 * - Incremental feed: Graph delta queries, with member changes of flat groups applied as they
 *   are (see `delta-feed.ts`).
 */

const ADVANCED_QUERY = { ConsistencyLevel: 'eventual' };
const MEMBER_FIELDS = 'id,displayName,mail,userPrincipalName';

export function createEntraConnector(config: EntraConnectorConfig): Connector & MemberChangeFeed & UserListing {
  const api: GraphApi = createGraphApi(config);
  const feed = createDeltaFeed(api, config.id);

  async function allGroups(path: string, options: CallOptions): Promise<IdpGroup[] | null> {
    const out: IdpGroup[] = [];
    let found = false;
    for await (const page of api.pages(path, groupSchema, options, { headers: ADVANCED_QUERY, nullOnNotFound: true })) {
      found = true;
      for (const group of page) out.push({ id: group.id, name: group.displayName });
    }
    return found ? out : null;
  }

  /** Ids of the group's direct members (users and groups alike: only users are looked up in it). */
  async function directMemberIds(groupPath: string, options: CallOptions): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const page of api.pages(`${groupPath}/members?$select=id&$top=${config.pageSize}`, directoryObjectSchema, options)) {
      for (const object of page) ids.add(object.id);
    }
    return ids;
  }

  return {
    id: config.id,
    type: 'entra',

    async *listGroups(options) {
      for await (const page of api.pages(`/groups?$select=id,displayName&$top=${config.pageSize}`, groupSchema, options)) {
        yield page.map((group) => ({ id: group.id, name: group.displayName }));
      }
    },

    async *listMembers(group, options) {
      const groupPath = `/groups/${encodeURIComponent(group.id)}`;
      const direct = config.recordNesting ? await directMemberIds(groupPath, options) : null;
      const path = `${groupPath}/transitiveMembers?$select=${MEMBER_FIELDS}&$top=${config.pageSize}`;
      for await (const page of api.pages(path, directoryObjectSchema, options)) {
        const users: IdpMember[] = page
          .filter((object) => object['@odata.type'] === GRAPH_USER_TYPE)
          .map((object) => (direct ? { ...toIdpUser(object), nested: !direct.has(object.id) } : toIdpUser(object)));
        if (users.length > 0) yield users;
      }
    },

    async *listUsers(options) {
      for await (const page of api.pages(`/users?$select=id,displayName,mail&$top=${config.pageSize}`, userSchema, options)) {
        yield page.map(toIdpUser);
      }
    },

    async lookupUser(query, options) {
      if (!query.subject) throw new TypeError('lookupUser needs a subject (the Entra object id or UPN)');
      const user = `/users/${encodeURIComponent(query.subject)}`;
      const groupsQuery = `$select=id,displayName&$top=${config.pageSize}&$count=true`;
      const [profile, all, direct] = await Promise.all([
        api.get(`${user}?$select=${MEMBER_FIELDS}`, options, { nullOnNotFound: true }),
        allGroups(`${user}/transitiveMemberOf/microsoft.graph.group?${groupsQuery}`, options),
        allGroups(`${user}/memberOf/microsoft.graph.group?${groupsQuery}`, options),
      ]);
      if (profile === null || all === null || direct === null) return null;
      const found = api.parse(userSchema, profile, 'user');
      return toUserGroups(found, all, direct);
    },

    startCursor: (options) => feed.startCursor(options),
    changedGroups: (cursor, options) => feed.changedGroups(cursor, options),
    describeUsers: (subjects, options) => feed.describeUsers(subjects, options),
  };
}

/** Names as matching uses them; a name counts as nested only when no direct group carries it. */
function toUserGroups(user: z.infer<typeof userSchema>, all: IdpGroup[], direct: IdpGroup[]): IdpUserGroups {
  const directNames = new Set(direct.map((g) => g.name));
  const names = [...new Set([...all, ...direct].map((g) => g.name))];
  return {
    ...toIdpUser(user),
    groups: names,
    nestedGroups: names.filter((name) => !directNames.has(name)),
  };
}

export const entraConnector: ConnectorDefinition<EntraConnectorConfig> = {
  type: 'entra',
  configSchema: entraConfigSchema,
  create: (config) => createEntraConnector(config),
};
