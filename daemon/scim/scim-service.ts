import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { scimKeys, type ScimResource, type ScimResourceType } from '../../store/scim-types.js';
import { ConflictError, NotFoundError, ScimUniquenessError, type Store } from '../../store/types.js';
import { createCacheSync, subjectOf, type ScimConnectorSettings } from './cache-sync.js';
import { createDeprovisioning } from './deprovision.js';
import { notFound, ScimError } from './errors.js';
import { equalityOf, matches, type Filter } from './filter.js';
import { applyPatch, type PatchOperation } from './patch.js';
import { isActive, normalizeAttributes, render } from './resources.js';
import { createTurns, type Turns } from './turns.js';

/**
 * One `scim` connector's resources: the store writes, then what they imply for the directory
 * cache and for accounts (deprovisioning), in that order. A retried request finds the first one's
 * writes: a replayed POST answers 409 `uniqueness`, and nothing doubles.
 */

export interface ListQuery {
  filter: Filter | null;
  /** 1-based (RFC 7644 §3.4.2.4). */
  startIndex: number;
  count: number;
}

export interface ListResult {
  total: number;
  resources: Record<string, unknown>[];
}

export interface ScimService {
  readonly settings: ScimConnectorSettings;
  create(type: ScimResourceType, body: unknown, baseUrl: string): Promise<ScimResource>;
  get(type: ScimResourceType, id: string): Promise<ScimResource>;
  list(type: ScimResourceType, query: ListQuery, baseUrl: string): Promise<ListResult>;
  replace(type: ScimResourceType, id: string, body: unknown, ifMatch: string | null): Promise<ScimResource>;
  patch(type: ScimResourceType, id: string, operations: PatchOperation[], ifMatch: string | null): Promise<ScimResource>;
  remove(type: ScimResourceType, id: string, ifMatch: string | null): Promise<void>;
}

export interface ScimServiceOptions {
  clock?: () => Date;
  /**
   * Told, after a write's effects, of the subjects whose cache entries it rewrote (members that
   * left a group included), when `provisionOnPush` is on: the push provisioning queue. Must not
   * wait: the IdP's request is answered without waiting for accounts.
   */
  onPushed?: (connector: string, subjects: string[]) => void;
  /** Where writes take turns: shared by every `scim` connector of the daemon (turns.ts). */
  turns?: Turns;
}

/** Tries of a compare-and-swap that other writers keep winning, before `409`. */
const UPDATE_ATTEMPTS = 20;

export function createScimService(store: Store, settings: ScimConnectorSettings, options: ScimServiceOptions = {}): ScimService {
  const clock = options.clock ?? (() => new Date());
  const connector = settings.id;
  const cache = createCacheSync(store, settings);
  const deprovisioning = createDeprovisioning(store, settings);

  /** Store errors in SCIM's words. */
  async function scimErrors<T>(type: ScimResourceType, id: string | null, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ScimUniquenessError) {
        throw new ScimError(409, `a ${type} with ${error.attribute} ${JSON.stringify(error.value)} already exists`, 'uniqueness');
      }
      if (error instanceof NotFoundError && id !== null) throw notFound(type, id);
      throw error;
    }
  }

  /** An ETag precondition (`If-Match`): `*` or the resource's current `W/"n"`. */
  function checkVersion(current: ScimResource, ifMatch: string | null): void {
    if (ifMatch === null || ifMatch.trim() === '*') return;
    const tags = ifMatch.split(',').map((t) => t.trim());
    if (!tags.includes(`W/"${current.version}"`) && !tags.includes(`"${current.version}"`)) {
      throw new ScimError(412, `the ${current.resourceType} changed (now version W/"${current.version}")`);
    }
  }

  /**
   * What a user write implies: its cache entry, and its account as `active` says. Derived from the
   * state as written, not from the change, so that an IdP's retry of a request that failed half
   * way (the write committed, the account not) completes it.
   */
  async function afterUserWrite(before: ScimResource | null, after: ScimResource | null, now: string): Promise<string[]> {
    const oldSubject = before ? subjectOf(settings, before.attributes) : null;
    const newSubject = after ? subjectOf(settings, after.attributes) : null;
    if (oldSubject !== null && oldSubject !== newSubject) await cache.absent(oldSubject, now);
    const written = after ? await cache.user(after, now) : [];
    const subject = newSubject ?? oldSubject;
    if (subject === null) return written;
    if (!after) await deprovisioning.disable(subject, before!.id, 'deleted', now);
    else if (!isActive(after.attributes)) await deprovisioning.disable(subject, after.id, 'deactivated', now);
    else await deprovisioning.enable(subject, after.id, now);
    return written;
  }

  /** What a group write implies: its name in the cache, and the entries of members it gained or lost (all, if renamed). */
  async function afterGroupWrite(before: ScimResource | null, after: ScimResource | null, now: string): Promise<string[]> {
    const was = before ? scimKeys('Group', before.attributes) : null;
    const is = after ? scimKeys('Group', after.attributes) : null;
    if (after) await cache.group(after, now);
    else if (before) await cache.group({ id: before.id, deleted: true }, now);
    const renamed = was !== null && is !== null && was.name !== is.name;
    const oldMembers = new Set(was?.members ?? []);
    const newMembers = new Set(is?.members ?? []);
    const touched = renamed || !after
      ? [...oldMembers, ...newMembers]
      : [...[...newMembers].filter((m) => !oldMembers.has(m)), ...[...oldMembers].filter((m) => !newMembers.has(m))];
    return cache.users(touched, now);
  }

  // Writes take turns (turns.ts), each with its effects: each reads the resources as they are when
  // it runs, so the last one leaves the cache as the resources say, whatever order requests came in.
  async function afterWrite(type: ScimResourceType, before: ScimResource | null, after: ScimResource | null, now: string): Promise<void> {
    // A turn of the event loop between the write and its effects: logins are served in between.
    await nextTurn();
    const subjects = type === 'User' ? await afterUserWrite(before, after, now) : await afterGroupWrite(before, after, now);
    // After the deprovisioning too: a reactivated account is enabled before it is provisioned.
    if (settings.provisionOnPush && subjects.length > 0) options.onPushed?.(connector, subjects);
  }

  async function requireResource(type: ScimResourceType, id: string): Promise<ScimResource> {
    const resource = await store.getScimResource(connector, type, id);
    if (!resource) throw notFound(type, id);
    return resource;
  }

  /**
   * Writes `next(current)` over the resource as read, as a compare-and-swap: when another write
   * came first (another replica's PATCH of the same group), reads again and decides again.
   * `known` is the resource as the caller just read it, for the first try.
   */
  async function update(
    type: ScimResourceType,
    id: string,
    ifMatch: string | null,
    next: (current: ScimResource) => Record<string, unknown>,
    known?: ScimResource,
  ): Promise<ScimResource> {
    const now = clock().toISOString();
    for (let attempt = 1; ; attempt++) {
      const current = attempt === 1 && known ? known : await requireResource(type, id);
      checkVersion(current, ifMatch);
      const attributes = next(current);
      if (JSON.stringify(attributes) === JSON.stringify(current.attributes)) {
        // A write that changes nothing may be an IdP's retry of one whose effects failed: redo them
        // (all members of a group, since which ones are new cannot be told any more).
        await afterWrite(type, null, current, now);
        return current;
      }
      let written: ScimResource;
      try {
        written = await scimErrors(type, id, () => store.updateScimResource(connector, type, id, current.version, attributes, now));
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt === UPDATE_ATTEMPTS) throw error;
        await sleep(Math.random() * 5 * attempt);
        continue;
      }
      await afterWrite(type, current, written, now);
      return written;
    }
  }

  const service: ScimService = {
    settings,
    async create(type, body) {
      const attributes = normalizeAttributes(type, body);
      const now = clock().toISOString();
      const resource: ScimResource = { connector, resourceType: type, id: randomUUID(), attributes, version: 1, created: now, lastModified: now };
      if (type === 'Group') await checkMembersExist(resource);
      await scimErrors(type, null, () => store.createScimResource(resource));
      await afterWrite(type, null, resource, now);
      return resource;
    },
    get: requireResource,
    async list(type, query, baseUrl) {
      const equality = query.filter ? equalityOf(query.filter) : null;
      let candidates: ScimResource[];
      // The IdPs' checks before a create are one equality: answered from an index, not a scan.
      const nameAttribute = type === 'User' ? 'username' : 'displayname';
      if (equality?.attribute === 'id') candidates = await store.getScimResources(connector, type, [equality.value]);
      else if (equality?.attribute === nameAttribute) candidates = await store.findScimResources(connector, type, 'name', equality.value);
      else if (equality?.attribute === 'externalid') candidates = await store.findScimResources(connector, type, 'externalId', equality.value);
      else candidates = await store.listScimResources(connector, type);
      const rendered = candidates.map((r) => render(r, baseUrl));
      const selected = query.filter ? rendered.filter((r) => matches(query.filter!, r)) : rendered;
      const start = Math.max(1, query.startIndex) - 1;
      return { total: selected.length, resources: selected.slice(start, start + Math.max(0, query.count)) };
    },
    async replace(type, id, body, ifMatch) {
      const attributes = normalizeAttributes(type, body);
      if (type === 'Group') await checkMembersExist({ attributes } as ScimResource);
      return update(type, id, ifMatch, () => attributes);
    },
    async patch(type, id, operations, ifMatch) {
      // Validated once outside the store's transaction, so a bad PATCH changes nothing.
      const current = await requireResource(type, id);
      const attributes = normalizeAttributes(type, applyPatch(current.attributes, operations));
      if (type === 'Group') await checkMembersExist({ attributes } as ScimResource);
      await nextTurn(); // logins between the checks and the write of a large member PATCH
      // Applied again only to a version written meanwhile (by another replica: writes take turns here).
      return update(
        type,
        id,
        ifMatch,
        (latest) => (latest.version === current.version ? attributes : normalizeAttributes(type, applyPatch(latest.attributes, operations))),
        current,
      );
    },
    async remove(type, id, ifMatch) {
      const current = await requireResource(type, id);
      checkVersion(current, ifMatch);
      const now = clock().toISOString();
      const removed = await store.deleteScimResource(connector, type, id);
      if (!removed) throw notFound(type, id);
      if (type === 'User') {
        // The user leaves its groups too (RFC 7644 §3.6: it no longer appears in them).
        for (const group of (await store.scimGroupsOfUsers(connector, [id])).get(id) ?? []) {
          await update('Group', group.id, null, (g) => ({
            ...g.attributes,
            members: (Array.isArray(g.attributes.members) ? g.attributes.members : []).filter(
              (m) => !(typeof m === 'object' && m !== null && (m as { value?: unknown }).value === id),
            ),
          })).catch((error: unknown) => {
            if (!(error instanceof ScimError && error.status === 404)) throw error;
          });
        }
      }
      await afterWrite(type, removed, null, now);
    },
  };
  const turns = options.turns ?? createTurns();
  return {
    ...service,
    create: (...args) => turns(() => service.create(...args)),
    replace: (...args) => turns(() => service.replace(...args)),
    patch: (...args) => turns(() => service.patch(...args)),
    remove: (...args) => turns(() => service.remove(...args)),
  };

  /** Members must be users (or groups) this connector holds: a typo'd id is a 400, not a ghost. */
  async function checkMembersExist(group: Pick<ScimResource, 'attributes'>): Promise<void> {
    const ids = scimKeys('Group', group.attributes).members;
    if (ids.length === 0) return;
    const users = new Set(await store.existingScimIds(connector, 'User', ids));
    const missing = ids.filter((id) => !users.has(id));
    if (missing.length === 0) return;
    const groups = new Set(await store.existingScimIds(connector, 'Group', missing));
    const unknown = missing.filter((id) => !groups.has(id));
    if (unknown.length > 0) {
      throw new ScimError(400, `unknown member ids: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`, 'invalidValue');
    }
  }
}
