import { MongoServerError, type Db } from 'mongodb';
import type { MethodsOf } from '../every-method.js';
import {
  groupNameMemo,
  nameAttribute,
  scimKeys,
  scimResourceSchema,
  type ScimGroupRef,
  type ScimResource,
  type ScimResourceStore,
  type ScimResourceType,
} from '../scim-types.js';
import { ConflictError, NotFoundError, ScimUniquenessError, StoreError } from '../types.js';
import type { WriteGuards } from './write-guards.js';

/**
 * The store's SCIM methods on MongoDB. Attributes are kept as JSON text: SCIM extension keys
 * (`urn:…:2.0:User`) hold dots, which not every MongoDB-wire server accepts in field names.
 * Uniqueness (userName or displayName, externalId) is held by key documents whose `_id` is the
 * key, since `_id` is unique on every server (FerretDB 1.x enforces no other unique index on
 * optional fields); a key document whose owner no longer holds the key is taken over.
 */

interface ScimDoc {
  _id: string;
  connector: string;
  resourceType: ScimResourceType;
  id: string;
  attributes: string;
  version: number;
  created: string;
  lastModified: string;
  /** Group member ids, for `scimGroupsOfUsers` (indexed). */
  memberIds: string[];
  /** `ScimKeys.name` and `externalId`, for `findScimResources`. */
  name: string;
  externalId: string | null;
}

interface KeyDoc {
  _id: string;
  owner: string;
}

const SEP = '\u0000';

const docId = (connector: string, type: ScimResourceType, id: string): string => [connector, type, id].join(SEP);

function keyIds(resource: Pick<ScimResource, 'connector' | 'resourceType' | 'attributes'>): Map<string, ScimUniquenessError> {
  const keys = scimKeys(resource.resourceType, resource.attributes);
  const base = [resource.connector, resource.resourceType].join(SEP);
  const ids = new Map<string, ScimUniquenessError>();
  ids.set(`${base}${SEP}name${SEP}${keys.name}`, new ScimUniquenessError(nameAttribute(resource.resourceType), keys.name));
  if (keys.externalId !== null) {
    ids.set(`${base}${SEP}externalId${SEP}${keys.externalId}`, new ScimUniquenessError('externalId', keys.externalId));
  }
  return ids;
}

function fromDoc(doc: ScimDoc): ScimResource {
  let attributes: unknown;
  try {
    attributes = JSON.parse(doc.attributes);
  } catch {
    throw new StoreError(`scim_resources ${doc.id}: attributes are not JSON`);
  }
  const parsed = scimResourceSchema.safeParse({ ...doc, attributes });
  if (!parsed.success) throw new StoreError(`scim_resources ${doc.id}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function toDoc(resource: ScimResource): ScimDoc {
  const keys = scimKeys(resource.resourceType, resource.attributes);
  return {
    _id: docId(resource.connector, resource.resourceType, resource.id),
    connector: resource.connector,
    resourceType: resource.resourceType,
    id: resource.id,
    attributes: JSON.stringify(resource.attributes),
    version: resource.version,
    created: resource.created,
    lastModified: resource.lastModified,
    memberIds: keys.members,
    name: keys.name,
    externalId: keys.externalId,
  };
}

const isDuplicate = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;

export function createScimMethods(db: Db, guards: WriteGuards): MethodsOf<ScimResourceStore> {
  const resources = db.collection<ScimDoc>('scim_resources');
  const keys = db.collection<KeyDoc>('scim_keys');
  const groupNames = groupNameMemo();
  let indexes: Promise<unknown> | null = null;
  const ready = () =>
    (indexes ??= Promise.all([
      resources.createIndex({ connector: 1, resourceType: 1, memberIds: 1 }, { name: 'connector_type_members' }),
      resources.createIndex({ connector: 1, resourceType: 1, name: 1 }, { name: 'connector_type_name' }),
      resources.createIndex({ connector: 1, resourceType: 1, externalId: 1 }, { name: 'connector_type_external_id' }),
    ]));

  /** Claims each key for `owner`; a key held by a resource that no longer has it is taken over. */
  async function claim(ids: Map<string, ScimUniquenessError>, owner: string): Promise<void> {
    const claimed: string[] = [];
    try {
      for (const [id, conflict] of ids) {
        try {
          await keys.insertOne({ _id: id, owner });
          claimed.push(id);
        } catch (error) {
          if (!isDuplicate(error)) throw error;
          const held = await keys.findOne({ _id: id });
          if (held === null || held.owner === owner) continue;
          const holder = await resources.findOne({ _id: held.owner });
          const stillHeld = holder !== null && keyIds(fromDoc(holder)).has(id);
          if (stillHeld) throw conflict;
          const taken = await keys.updateOne({ _id: id, owner: held.owner }, { $set: { owner } });
          if (taken.modifiedCount !== 1) throw conflict;
          claimed.push(id);
        }
      }
    } catch (error) {
      await release(claimed, owner);
      throw error;
    }
  }

  async function release(ids: Iterable<string>, owner: string): Promise<void> {
    const list = [...ids];
    if (list.length > 0) await keys.deleteMany({ _id: { $in: list }, owner });
  }

  return {
    async getScimResource(connector, resourceType, id) {
      const doc = await resources.findOne({ _id: docId(connector, resourceType, id) });
      return doc === null ? null : fromDoc(doc);
    },
    async listScimResources(connector, resourceType) {
      const docs = await resources.find({ connector, resourceType }).sort({ id: 1 }).toArray();
      return docs.map(fromDoc);
    },
    async findScimResources(connector, resourceType, key, value) {
      const filter = key === 'name' ? { name: value.toLowerCase() } : { externalId: value };
      const docs = await resources.find({ connector, resourceType, ...filter }).sort({ id: 1 }).toArray();
      return docs.map(fromDoc);
    },
    async getScimResources(connector, resourceType, ids) {
      if (ids.length === 0) return [];
      const docs = await resources.find({ _id: { $in: ids.map((id) => docId(connector, resourceType, id)) } }).toArray();
      return docs.map(fromDoc);
    },
    async existingScimIds(connector, resourceType, ids) {
      if (ids.length === 0) return [];
      const docs = await resources.find({ _id: { $in: ids.map((id) => docId(connector, resourceType, id)) } }, { projection: { id: 1 } }).toArray();
      const found = new Set(docs.map((doc) => doc.id));
      return [...new Set(ids)].filter((id) => found.has(id));
    },
    async createScimResource(resource) {
      await ready();
      const owner = docId(resource.connector, resource.resourceType, resource.id);
      const ids = keyIds(resource);
      await claim(ids, owner);
      try {
        await resources.insertOne(toDoc(resource));
      } catch (error) {
        await release(ids.keys(), owner);
        if (isDuplicate(error)) throw new StoreError(`SCIM resource id taken: ${resource.id}`);
        throw error;
      }
      return resource;
    },
    async updateScimResource(connector, resourceType, id, version, attributes, now) {
      await ready();
      const owner = docId(connector, resourceType, id);
      const doc = await resources.findOne({ _id: owner });
      if (doc === null) throw new NotFoundError(resourceType, id);
      const current = fromDoc(doc);
      const changed = () => new ConflictError(`SCIM ${resourceType} ${id} changed (now version ${current.version})`);
      if (current.version !== version) throw changed();
      const next: ScimResource = { ...current, attributes, version: version + 1, lastModified: now };
      const before = keyIds(current);
      const after = keyIds(next);
      const added = new Map([...after].filter(([key]) => !before.has(key)));
      await claim(added, owner);
      const { _id: _, ...fields } = toDoc(next);
      // On FerretDB 1.x a conditional update is no compare-and-swap: the revision's guard makes it one.
      const written = await guards.withRevision('scim', owner, version, async () => {
        const result = await resources.updateOne({ _id: owner, version }, { $set: fields });
        return result.matchedCount === 1;
      });
      if (!written) {
        // Another writer came first: give back what this attempt claimed.
        await release(added.keys(), owner);
        throw changed();
      }
      await release([...before.keys()].filter((key) => !after.has(key)), owner);
      return next;
    },
    async deleteScimResource(connector, resourceType, id) {
      const owner = docId(connector, resourceType, id);
      const doc = await resources.findOneAndDelete({ _id: owner });
      if (doc === null) return null;
      const resource = fromDoc(doc);
      await release(keyIds(resource).keys(), owner);
      return resource;
    },
    async scimGroupsOfUsers(connector, userIds) {
      await ready();
      const wanted = [...new Set(userIds)];
      const result = new Map<string, ScimGroupRef[]>(wanted.map((id) => [id, []]));
      const docs = await resources
        .find({ connector, resourceType: 'Group', memberIds: { $in: wanted } }, { projection: { id: 1, version: 1, memberIds: 1 } })
        .toArray();
      docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      // Only the groups changed since they were last read are fetched in full.
      const stale = docs.filter((doc) => !groupNames.knows(connector, doc.id, doc.version));
      const full = new Map(
        stale.length === 0
          ? []
          : (await resources.find({ connector, resourceType: 'Group', id: { $in: stale.map((d) => d.id) } }, { projection: { id: 1, attributes: 1 } }).toArray()).map(
              (doc) => [doc.id, doc.attributes] as const,
            ),
      );
      for (const doc of docs) {
        const displayName = groupNames.nameOf(connector, doc.id, doc.version, () => full.get(doc.id));
        if (displayName === null) continue;
        for (const member of doc.memberIds) result.get(member)?.push({ id: doc.id, displayName });
      }
      return result;
    },
  };
}
