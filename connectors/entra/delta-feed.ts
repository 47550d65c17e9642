import { ConnectorError, type CallOptions, type IdpGroup, type IncrementalFeed } from '../types.js';
import type { GraphApi } from './graph-api.js';
import { collectionSchema, deltaPageSchema, directoryObjectSchema, groupSchema } from './graph-schemas.js';

/**
 * The incremental feed over Graph delta queries (`groups/delta`). The cursor is the round's
 * `@odata.deltaLink`. A changed group may come without `displayName` (Graph sends only what
 * changed) and split over several objects and pages: objects are merged by id, missing names
 * are fetched with one `directoryObjects/getByIds` call per 1,000 ids. Because pre-warm reads
 * transitive members, a change inside a nested group changes every group above it too: those
 * ancestors (`transitiveMemberOf`) are returned as changed as well. `410 Gone` → `cursor_expired`.
 */

const ADVANCED_QUERY = { ConsistencyLevel: 'eventual' };
const GET_BY_IDS_LIMIT = 1000;

interface MergedGroup {
  name: string | undefined;
  removed: boolean;
}

export function createDeltaFeed(api: GraphApi, connector: string): IncrementalFeed {
  /** Follows one delta round from `start` to its deltaLink, merging its objects by group id. */
  async function runRound(start: string, options: CallOptions): Promise<{ groups: Map<string, MergedGroup>; deltaLink: string }> {
    const groups = new Map<string, MergedGroup>();
    let url = start;
    for (;;) {
      const page = api.parse(deltaPageSchema, await api.get(url, options), 'groups/delta page');
      if (options.stats) options.stats.pages++;
      for (const object of page.value) {
        const merged = groups.get(object.id) ?? { name: undefined, removed: false };
        if (object['@removed']) {
          merged.removed = true;
        } else {
          // Any non-removed object means the group exists at the end of the round (restored,
          // or a later slice of its members).
          merged.removed = false;
          if (typeof object.displayName === 'string') merged.name = object.displayName;
        }
        groups.set(object.id, merged);
      }
      const deltaLink = page['@odata.deltaLink'];
      if (deltaLink !== undefined) return { groups, deltaLink: api.checkLink(deltaLink, 'deltaLink') };
      url = api.checkLink(page['@odata.nextLink']!, 'nextLink');
    }
  }

  async function fetchNames(ids: string[], options: CallOptions): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (let i = 0; i < ids.length; i += GET_BY_IDS_LIMIT) {
      const chunk = ids.slice(i, i + GET_BY_IDS_LIMIT);
      const raw = await api.post('/directoryObjects/getByIds', { ids: chunk, types: ['group'] }, options);
      const { value } = api.parse(getByIdsSchema, raw, 'getByIds answer');
      for (const object of value) if (object.displayName) names.set(object.id, object.displayName);
    }
    return names;
  }

  async function ancestors(groupId: string, options: CallOptions): Promise<IdpGroup[]> {
    const path = `/groups/${encodeURIComponent(groupId)}/transitiveMemberOf/microsoft.graph.group?$select=id,displayName&$count=true`;
    const out: IdpGroup[] = [];
    // nullOnNotFound: a group deleted since the round ended has no ancestors left to refresh.
    for await (const page of api.pages(path, groupSchema, options, { headers: ADVANCED_QUERY, nullOnNotFound: true })) {
      for (const group of page) out.push({ id: group.id, name: group.displayName });
    }
    return out;
  }

  return {
    async startCursor(options) {
      const { deltaLink } = await runRound('/groups/delta?$select=displayName,members', options);
      return deltaLink;
    },

    async changedGroups(cursor, options) {
      let start: string;
      try {
        start = api.checkLink(cursor, 'cursor');
      } catch (error) {
        throw new ConnectorError('cursor_expired', connector, 'the cursor is not a Graph deltaLink of this connector', { cause: error });
      }
      const { groups, deltaLink } = await runRound(start, options);

      const deleted = [...groups].filter(([, g]) => g.removed).map(([id]) => id);
      const live = [...groups].filter(([, g]) => !g.removed);
      const unnamed = live.filter(([, g]) => g.name === undefined).map(([id]) => id);
      const names = unnamed.length > 0 ? await fetchNames(unnamed, options) : new Map<string, string>();

      const changed = new Map<string, IdpGroup>();
      for (const [id, group] of live) {
        // Not found by getByIds: deleted after the round ended; the next round reports it.
        const name = group.name ?? names.get(id);
        if (name !== undefined) changed.set(id, { id, name });
      }
      for (const group of [...changed.values()]) {
        for (const ancestor of await ancestors(group.id, options)) {
          if (!changed.has(ancestor.id) && !deleted.includes(ancestor.id)) changed.set(ancestor.id, ancestor);
        }
      }
      return { changed: [...changed.values()], deleted, cursor: deltaLink };
    },
  };
}

const getByIdsSchema = collectionSchema(directoryObjectSchema);
