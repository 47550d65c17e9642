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
  const groupsOfUsers = db.transaction((connector: string, userIds: readonly string[]): Map<string, ScimGroupRef[]> => {
    // Each group once per call: a slice of users shares most of its groups.
    const names = new Map<string, string | null>();
    const nameOf = (groupId: string): string | null => {
      if (!names.has(groupId)) {
        const version = groupVersion.get(connector, groupId);
        names.set(groupId, version === undefined ? null : groupNames.nameOf(connector, groupId, version, () => groupAttributes.get(connector, groupId)));
      }
      return names.get(groupId)!;
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

  const apply = db.transaction(
    (connector: string, resourceType: ScimResourceType, id: string, version: number, attributes: Record<string, unknown>, now: string) => {
      const row = select.get(connector, resourceType, id);
      if (row === undefined) throw new NotFoundError(resourceType, id);
      const current = fromRow(row);
      if (current.version !== version) throw new ConflictError(`SCIM ${resourceType} ${id} changed (now version ${current.version})`);
      const next: ScimResource = { ...current, attributes, version: version + 1, lastModified: now };
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
    createScimResource: (resource) => create.immediate(resource),
    updateScimResource: (connector, resourceType, id, version, attributes, now) => apply.immediate(connector, resourceType, id, version, attributes, now),
    deleteScimResource: (connector, resourceType, id) => drop.immediate(connector, resourceType, id),
    scimGroupsOfUsers: (connector, userIds) => groupsOfUsers.deferred(connector, userIds),
  };
}
