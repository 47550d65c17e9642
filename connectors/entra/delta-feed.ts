import { z } from 'zod';
import { ConnectorError, type CallOptions, type FeedChanges, type IdpGroup, type MemberChangeFeed, type MemberChanges } from '../types.js';
import type { GraphApi } from './graph-api.js';
import { toIdpUser } from './idp-user.js';
import { collectionSchema, deltaPageSchema, directoryObjectSchema, GRAPH_GROUP_TYPE, GRAPH_USER_TYPE } from './graph-schemas.js';

/**
 * The incremental feed over Graph delta queries (`groups/delta?$select=displayName,members`).
 *
 * The first round lists every group with its direct members; later rounds list only what changed:
 * renamed groups with their new `displayName`, and member additions and removals in
 * `members@delta`. A group may be split over several objects and pages: objects are merged by id.
 *
 * Pre-warm caches transitive memberships, so a direct change is exact only for a group outside
 * any nesting. The feed therefore keeps, in its cursor, every group's name and parent groups
 * (learnt from group-type entries of `members@delta`): a member change of a flat group is
 * returned as a member change (no re-listing); a group created, renamed or inside nesting is
 * returned to be re-listed, with every group above it. No call is spent on `transitiveMemberOf`
 * or on names the cursor already holds. `410 Gone`, or a cursor of another shape, →
 * `cursor_expired`.
 */

const GET_BY_IDS_LIMIT = 1000;
const FIRST_ROUND = '/groups/delta?$select=displayName,members';

/** What a round said about one group, its objects merged. */
interface RoundGroup {
  name: string | undefined;
  removed: boolean;
  /** Direct user members added (true) or removed (false); the last word wins. */
  users: Map<string, boolean>;
  /** Direct group members added (true) or removed (false). */
  children: Map<string, boolean>;
}

const cursorSchema = z.object({
  v: z.literal(1),
  deltaLink: z.string(),
  groups: z.record(z.string(), z.object({ name: z.string(), parents: z.array(z.string()) })),
});
type FeedState = z.infer<typeof cursorSchema>;

export function createDeltaFeed(api: GraphApi, connector: string): MemberChangeFeed {
  /**
   * Follows one delta round from `start` to its deltaLink, merging its objects by group id. The
   * first round lists every membership: `withUsers: false` keeps only the nesting from it.
   */
  async function runRound(
    start: string,
    options: CallOptions,
    withUsers: boolean,
  ): Promise<{ groups: Map<string, RoundGroup>; deltaLink: string }> {
    const groups = new Map<string, RoundGroup>();
    let url = start;
    for (;;) {
      const page = api.parse(deltaPageSchema, await api.get(url, options), 'groups/delta page');
      if (options.stats) options.stats.pages++;
      for (const object of page.value) {
        let merged = groups.get(object.id);
        if (!merged) groups.set(object.id, (merged = { name: undefined, removed: false, users: new Map(), children: new Map() }));
        if (object['@removed']) {
          merged.removed = true;
          continue;
        }
        // Any non-removed object means the group exists at the end of the round (restored, or a
        // later slice of its members).
        merged.removed = false;
        if (typeof object.displayName === 'string') merged.name = object.displayName;
        for (const member of object['members@delta'] ?? []) {
          const present = member['@removed'] === undefined;
          if (member['@odata.type'] === GRAPH_GROUP_TYPE) merged.children.set(member.id, present);
          else if (withUsers && (member['@odata.type'] ?? GRAPH_USER_TYPE) === GRAPH_USER_TYPE) merged.users.set(member.id, present);
        }
      }
      const deltaLink = page['@odata.deltaLink'];
      if (deltaLink !== undefined) return { groups, deltaLink: api.checkLink(deltaLink, 'deltaLink') };
      url = api.checkLink(page['@odata.nextLink']!, 'nextLink');
    }
  }

  async function getByIds<T>(
    ids: string[],
    type: 'group' | 'user',
    options: CallOptions,
    map: (object: z.infer<typeof directoryObjectSchema>) => T,
  ): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < ids.length; i += GET_BY_IDS_LIMIT) {
      const raw = await api.post('/directoryObjects/getByIds', { ids: ids.slice(i, i + GET_BY_IDS_LIMIT), types: [type] }, options);
      for (const object of api.parse(getByIdsSchema, raw, 'getByIds answer').value) out.push(map(object));
    }
    return out;
  }

  /** Names of groups a round did not name (Graph sends only what changed). */
  async function groupNames(ids: string[], options: CallOptions): Promise<Map<string, string | undefined>> {
    return new Map(await getByIds(ids, 'group', options, (o) => [o.id, o.displayName ?? undefined] as const));
  }

  function readCursor(cursor: string): FeedState {
    let state: FeedState;
    try {
      state = cursorSchema.parse(JSON.parse(cursor));
      state.deltaLink = api.checkLink(state.deltaLink, 'cursor');
    } catch (error) {
      throw new ConnectorError('cursor_expired', connector, 'the cursor is not a delta cursor of this connector', { cause: error });
    }
    return state;
  }

  return {
    async startCursor(options) {
      const { groups, deltaLink } = await runRound(FIRST_ROUND, options, false);
      const state: FeedState = { v: 1, deltaLink, groups: {} };
      const unnamed = [...groups].filter(([, g]) => !g.removed && g.name === undefined).map(([id]) => id);
      const names = await groupNames(unnamed, options);
      for (const [id, group] of groups) {
        const name = group.name ?? names.get(id);
        if (!group.removed && name !== undefined) state.groups[id] = { name, parents: [] };
      }
      for (const [id, group] of groups) {
        for (const [child, present] of group.children) if (present && state.groups[child]) state.groups[child].parents.push(id);
      }
      return JSON.stringify(state);
    },

    async changedGroups(cursor, options): Promise<FeedChanges> {
      const state = readCursor(cursor);
      const { groups: round, deltaLink } = await runRound(state.deltaLink, options, true);
      // Entries are replaced, never changed in place: `before` stays as the cursor had it.
      const before = new Map(Object.entries(state.groups));
      const after = new Map(before);

      const deleted: string[] = [];
      // Created or renamed: re-listed so that every holder gets the group's (new) name.
      const relist = new Set<string>();
      // Transitive members changed through nesting: re-listed with every group above them.
      const nestingChanged = new Set<string>();

      const unnamed = [...round].filter(([id, g]) => !g.removed && g.name === undefined && !after.has(id)).map(([id]) => id);
      const names = await groupNames(unnamed, options);

      for (const [id, group] of round) {
        if (group.removed) {
          if (before.has(id)) deleted.push(id);
          for (const parent of before.get(id)?.parents ?? []) nestingChanged.add(parent);
          after.delete(id);
          continue;
        }
        const known = after.get(id);
        const name = group.name ?? known?.name ?? names.get(id);
        // Not found by getByIds: deleted after the round ended; the next round reports it.
        if (name === undefined) continue;
        if (!known || known.name !== name) relist.add(id);
        after.set(id, { name, parents: known?.parents ?? [] });
        if (group.children.size > 0) nestingChanged.add(id);
      }
      for (const [id, group] of round) {
        if (group.removed) continue;
        for (const [child, present] of group.children) {
          const entry = after.get(child);
          if (!entry) continue;
          const parents = entry.parents.filter((p) => p !== id);
          after.set(child, { name: entry.name, parents: present ? [...parents, id] : parents });
        }
      }
      // A deleted group is nobody's parent any more.
      for (const [id, entry] of after) after.set(id, { name: entry.name, parents: entry.parents.filter((p) => after.has(p)) });

      const inNesting = nestingTest(before, after);
      const memberChanges: MemberChanges[] = [];
      for (const [id, group] of round) {
        if (group.removed || group.users.size === 0 || !after.has(id) || relist.has(id)) continue;
        if (nestingChanged.has(id) || inNesting(id)) {
          nestingChanged.add(id);
          continue;
        }
        const added: string[] = [];
        const removed: string[] = [];
        for (const [subject, present] of group.users) (present ? added : removed).push(subject);
        memberChanges.push({ group: { id, name: after.get(id)!.name }, added, removed });
      }

      const pending = [...nestingChanged];
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
        const entry = after.get(id);
        if (!entry) continue;
        relist.add(id);
        for (const parent of entry.parents) {
          if (!nestingChanged.has(parent)) {
            nestingChanged.add(parent);
            pending.push(parent);
          }
        }
      }
      const changed: IdpGroup[] = [...relist].filter((id) => after.has(id)).map((id) => ({ id, name: after.get(id)!.name }));
      const next: FeedState = { v: 1, deltaLink, groups: Object.fromEntries(after) };
      return { changed, memberChanges, deleted, cursor: JSON.stringify(next) };
    },

    describeUsers: (subjects, options) => getByIds(subjects, 'user', options, toIdpUser),
  };
}

const getByIdsSchema = collectionSchema(directoryObjectSchema);

type GroupEdges = ReadonlyMap<string, { parents: readonly string[] }>;

/** Whether a group has a parent or a child group before or after the round. */
function nestingTest(before: GroupEdges, after: GroupEdges): (id: string) => boolean {
  const involved = new Set<string>();
  for (const groups of [before, after]) {
    for (const [id, { parents }] of groups) {
      if (parents.length === 0) continue;
      involved.add(id);
      for (const parent of parents) involved.add(parent);
    }
  }
  return (id) => involved.has(id);
}
