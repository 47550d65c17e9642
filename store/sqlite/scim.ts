import Database from 'better-sqlite3';
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
import type { MethodsOf } from '../every-method.js';
import { ConflictError, NotFoundError, ScimUniquenessError, StoreError } from '../types.js';

interface ScimRow {
  connector: string;
  resource_type: ScimResourceType;
  id: string;
  attributes: string;
  version: number;
  created: string;
  last_modified: string;
}

/** Migration 4's tables: see migrations.ts. */
export const SCIM_TABLES_SQL = `
  CREATE TABLE scim_resources (
    connector      TEXT NOT NULL,
    resource_type  TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    id             TEXT NOT NULL,
    name           TEXT NOT NULL,             -- userName / displayName, lower-cased
    external_id    TEXT,
    attributes     TEXT NOT NULL,             -- JSON object: the resource as sent
    version        INTEGER NOT NULL,
    created        TEXT NOT NULL,
    last_modified  TEXT NOT NULL,
    PRIMARY KEY (connector, resource_type, id)
  );
  CREATE UNIQUE INDEX scim_resources_by_name ON scim_resources (connector, resource_type, name);
  CREATE UNIQUE INDEX scim_resources_by_external_id ON scim_resources (connector, resource_type, external_id)
    WHERE external_id IS NOT NULL;

  CREATE TABLE scim_members (
    connector  TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (connector, group_id, user_id)
  );
  CREATE INDEX scim_members_by_user ON scim_members (connector, user_id);
`;

function fromRow(row: ScimRow): ScimResource {
  let attributes: unknown;
  try {
    attributes = JSON.parse(row.attributes);
  } catch {
    throw new StoreError(`scim_resources ${row.id}: attributes are not JSON`);
  }
  const parsed = scimResourceSchema.safeParse({
    connector: row.connector,
    resourceType: row.resource_type,
    id: row.id,
    attributes,
    version: row.version,
    created: row.created,
    lastModified: row.last_modified,
  });
  if (!parsed.success) throw new StoreError(`scim_resources ${row.id}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** The store's SCIM methods on SQLite: one write transaction per call, so no member is lost. */
export function createScimMethods(db: Database.Database): MethodsOf<ScimResourceStore> {
  const select = db.prepare<[string, string, string], ScimRow>(
    'SELECT * FROM scim_resources WHERE connector = ? AND resource_type = ? AND id = ?',
  );
  const selectAll = db.prepare<[string, string], ScimRow>(
    'SELECT * FROM scim_resources WHERE connector = ? AND resource_type = ? ORDER BY id',
  );
  const selectByName = db.prepare<[string, string, string], ScimRow>(
    'SELECT * FROM scim_resources WHERE connector = ? AND resource_type = ? AND name = ?',
  );
  const selectByExternalId = db.prepare<[string, string, string], ScimRow>(
    'SELECT * FROM scim_resources WHERE connector = ? AND resource_type = ? AND external_id = ?',
  );
  const insert = db.prepare<[string, string, string, string, string | null, string, number, string, string]>(
    `INSERT INTO scim_resources (connector, resource_type, id, name, external_id, attributes, version, created, last_modified)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const update = db.prepare<[string, string | null, string, number, string, string, string, string]>(
    `UPDATE scim_resources SET name = ?, external_id = ?, attributes = ?, version = ?, last_modified = ?
     WHERE connector = ? AND resource_type = ? AND id = ?`,
  );
  const remove = db.prepare<[string, string, string]>(
    'DELETE FROM scim_resources WHERE connector = ? AND resource_type = ? AND id = ?',
  );
  const selectMembers = db.prepare<[string, string], string>(
    'SELECT user_id FROM scim_members WHERE connector = ? AND group_id = ?',
  ).pluck();
  const insertMember = db.prepare<[string, string, string]>(
    'INSERT OR IGNORE INTO scim_members (connector, group_id, user_id) VALUES (?, ?, ?)',
  );
  const deleteMember = db.prepare<[string, string, string]>(
    'DELETE FROM scim_members WHERE connector = ? AND group_id = ? AND user_id = ?',
  );
  const deleteGroupMembers = db.prepare<[string, string]>('DELETE FROM scim_members WHERE connector = ? AND group_id = ?');
  const groupIdsOfUser = db
    .prepare<[string, string], string>('SELECT group_id FROM scim_members WHERE connector = ? AND user_id = ? ORDER BY group_id')
    .pluck();
  const groupVersion = db
    .prepare<[string, string], number>("SELECT version FROM scim_resources WHERE connector = ? AND resource_type = 'Group' AND id = ?")
    .pluck();
  const groupAttributes = db
    .prepare<[string, string], string>("SELECT attributes FROM scim_resources WHERE connector = ? AND resource_type = 'Group' AND id = ?")
    .pluck();
  const groupNames = groupNameMemo();
  // The current version of groups, known without a read while no other connection writes
  // (`data_version` unchanged): this connection's own group writes keep it up to date. A push
  // asks for the groups of every member it touches, so on the writing connection this spares a
  // read per group and member.
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const knownVersions = new Map<string, number>();
  let knownAt: number | undefined;
  const versionKey = (connector: string, id: string) => `${connector}\u0000${id}`;
  const wroteGroup = (resource: Pick<ScimResource, 'connector' | 'resourceType' | 'id' | 'version'>, deleted = false) => {
    if (resource.resourceType !== 'Group') return;
    if (deleted) knownVersions.delete(versionKey(resource.connector, resource.id));
    else knownVersions.set(versionKey(resource.connector, resource.id), resource.version);
  };
  const groupsOfUsers = db.transaction((connector: string, userIds: readonly string[]): Map<string, ScimGroupRef[]> => {
    const at = dataVersion.get();
    if (at !== knownAt) {
      knownVersions.clear();
      knownAt = at;
    }
    const nameOf = (groupId: string): string | null => {
      const key = versionKey(connector, groupId);
      let version = knownVersions.get(key);
      if (version === undefined) {
        version = groupVersion.get(connector, groupId);
        if (version === undefined) return null;
        knownVersions.set(key, version);
      }
      return groupNames.nameOf(connector, groupId, version, () => groupAttributes.get(connector, groupId));
    };
    const result = new Map<string, ScimGroupRef[]>();
    for (const userId of new Set(userIds)) {
      result.set(
        userId,
        groupIdsOfUser.all(connector, userId).flatMap((id) => {
          const displayName = nameOf(id);
          return displayName === null ? [] : [{ id, displayName }];
        }),
      );
    }
    return result;
  });

  /** Runs a write; a taken name or externalId becomes `ScimUniquenessError`. */
  function uniquely<T>(resource: ScimResource, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const keys = scimKeys(resource.resourceType, resource.attributes);
        if (error.message.includes('external_id')) throw new ScimUniquenessError('externalId', keys.externalId ?? '');
        if (error.message.includes('.name')) throw new ScimUniquenessError(nameAttribute(resource.resourceType), keys.name);
      }
      throw error;
    }
  }

  /** Keeps the membership index equal to the group's `members`, touching only what changed. */
  function indexMembers(connector: string, groupId: string, members: string[]): void {
    const before = new Set(selectMembers.all(connector, groupId));
    const after = new Set(members);
    for (const id of before) if (!after.has(id)) deleteMember.run(connector, groupId, id);
    for (const id of after) if (!before.has(id)) insertMember.run(connector, groupId, id);
  }

  const create = db.transaction((resource: ScimResource) => {
    const keys = scimKeys(resource.resourceType, resource.attributes);
    const r = resource;
    uniquely(r, () =>
      insert.run(r.connector, r.resourceType, r.id, keys.name, keys.externalId, JSON.stringify(r.attributes), r.version, r.created, r.lastModified),
    );
    if (r.resourceType === 'Group') indexMembers(r.connector, r.id, keys.members);
    return r;
  });

  const versionOf = db.prepare<[string, string, string], { version: number; created: string }>(
    'SELECT version, created FROM scim_resources WHERE connector = ? AND resource_type = ? AND id = ?',
  );
  const apply = db.transaction(
    (connector: string, resourceType: ScimResourceType, id: string, version: number, attributes: Record<string, unknown>, now: string) => {
      // Only the version is compared: the stored document (a group's members) is not read again.
      const stored = versionOf.get(connector, resourceType, id);
      if (stored === undefined) throw new NotFoundError(resourceType, id);
      if (stored.version !== version) throw new ConflictError(`SCIM ${resourceType} ${id} changed (now version ${stored.version})`);
      const next: ScimResource = { connector, resourceType, id, attributes, version: version + 1, created: stored.created, lastModified: now };
      const keys = scimKeys(resourceType, attributes);
      uniquely(next, () => update.run(keys.name, keys.externalId, JSON.stringify(attributes), next.version, now, connector, resourceType, id));
      if (resourceType === 'Group') indexMembers(connector, id, keys.members);
      return next;
    },
  );

  const drop = db.transaction((connector: string, resourceType: ScimResourceType, id: string) => {
    const row = select.get(connector, resourceType, id);
    if (row === undefined) return null;
    remove.run(connector, resourceType, id);
    if (resourceType === 'Group') deleteGroupMembers.run(connector, id);
    return fromRow(row);
  });

  const exists = db
    .prepare<[string, string, string], number>('SELECT 1 FROM scim_resources WHERE connector = ? AND resource_type = ? AND id = ?')
    .pluck();
  const existing = db.transaction((connector: string, resourceType: ScimResourceType, ids: readonly string[]) =>
    [...new Set(ids)].filter((id) => exists.get(connector, resourceType, id) !== undefined),
  );

  const readMany = db.transaction((connector: string, resourceType: ScimResourceType, ids: readonly string[]) =>
    ids.flatMap((id) => {
      const row = select.get(connector, resourceType, id);
      return row === undefined ? [] : [fromRow(row)];
    }),
  );

  return {
    getScimResource(connector, resourceType, id) {
      const row = select.get(connector, resourceType, id);
      return row === undefined ? null : fromRow(row);
    },
    listScimResources: (connector, resourceType) => selectAll.all(connector, resourceType).map(fromRow),
    findScimResources: (connector, resourceType, key, value) =>
      (key === 'name' ? selectByName.all(connector, resourceType, value.toLowerCase()) : selectByExternalId.all(connector, resourceType, value)).map(fromRow),
    getScimResources: (connector, resourceType, ids) => readMany.deferred(connector, resourceType, ids),
    existingScimIds: (connector, resourceType, ids) => existing.deferred(connector, resourceType, ids),
    // The known versions follow a write once it committed (not from inside its transaction).
    createScimResource(resource) {
      const created = create.immediate(resource);
      wroteGroup(created);
      return created;
    },
    updateScimResource(connector, resourceType, id, version, attributes, now) {
      const updated = apply.immediate(connector, resourceType, id, version, attributes, now);
      wroteGroup(updated);
      return updated;
    },
    deleteScimResource(connector, resourceType, id) {
      const removed = drop.immediate(connector, resourceType, id);
      if (removed) wroteGroup(removed, true);
      return removed;
    },
    scimGroupsOfUsers: (connector, userIds) => groupsOfUsers.deferred(connector, userIds),
  };
}
