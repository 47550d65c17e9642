import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import { AlreadyExistsError, NotFoundError, StoreError, type Organization, type OrganizationStore } from '../types.js';
import { translateConstraints } from './errors.js';

interface OrganizationRow {
  key: string;
  default_group: string;
}

interface GroupRow {
  organization: string;
  name: string;
}


function checkOrganization(org: Organization): void {
  if (typeof org.key !== 'string' || org.key.length === 0) {
    throw new StoreError('organization key must be a non-empty string');
  }
  if (typeof org.defaultGroup !== 'string' || org.defaultGroup.length === 0) {
    throw new StoreError(`organization ${org.key}: default group must be a non-empty string`);
  }
  const seen = new Set<string>([org.defaultGroup]);
  for (const group of org.groups) {
    if (typeof group !== 'string' || group.length === 0) {
      throw new StoreError(`organization ${org.key}: group names must be non-empty strings`);
    }
    if (seen.has(group)) throw new StoreError(`organization ${org.key}: group listed twice: ${group}`);
    seen.add(group);
  }
}

export function createOrganizationQueries(db: Database): MethodsOf<OrganizationStore> {
  const selectAll = db.prepare<[], OrganizationRow>('SELECT key, default_group FROM organizations ORDER BY key');
  const selectAllGroups = db.prepare<[], GroupRow>(
    'SELECT organization, name FROM organization_groups ORDER BY rowid',
  );
  const selectOne = db.prepare<[string], OrganizationRow>(
    'SELECT key, default_group FROM organizations WHERE key = ?',
  );
  const selectGroups = db
    .prepare<[string], string>('SELECT name FROM organization_groups WHERE organization = ? ORDER BY rowid')
    .pluck();
  const insertOrganization = db.prepare<[string, string]>(
    'INSERT INTO organizations (key, default_group) VALUES (?, ?)',
  );
  const insertGroup = db.prepare<[string, string]>('INSERT INTO organization_groups (organization, name) VALUES (?, ?)');
  const insertGroupIfMissing = db.prepare<[string, string]>(
    'INSERT INTO organization_groups (organization, name) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );

  function read(key: string): Organization | null {
    const row = selectOne.get(key);
    if (row === undefined) return null;
    return { key: row.key, defaultGroup: row.default_group, groups: selectGroups.all(key) };
  }

  function readExisting(key: string): Organization {
    const org = read(key);
    if (org === null) throw new StoreError(`organization vanished while being written: ${key}`);
    return org;
  }

  function insert(org: Organization): Organization {
    translateConstraints(() => insertOrganization.run(org.key, org.defaultGroup), { organization: org.key });
    for (const group of org.groups) insertGroup.run(org.key, group);
    return readExisting(org.key);
  }

  const list = db.transaction((): Organization[] => {
    const groups = new Map<string, string[]>();
    for (const row of selectAllGroups.all()) {
      const names = groups.get(row.organization) ?? [];
      names.push(row.name);
      groups.set(row.organization, names);
    }
    return selectAll
      .all()
      .map((row) => ({ key: row.key, defaultGroup: row.default_group, groups: groups.get(row.key) ?? [] }));
  });
  const get = db.transaction((key: string) => read(key));
  const create = db.transaction((org: Organization) => insert(org));
  const ensure = db.transaction((org: Organization): Organization => {
    const existing = read(org.key);
    if (existing === null) return insert(org);
    // Adds what is missing and keeps everything else, including the existing default group.
    for (const group of org.groups) {
      if (group !== existing.defaultGroup) insertGroupIfMissing.run(org.key, group);
    }
    return readExisting(org.key);
  });
  const addGroup = db.transaction((organization: string, group: string): Organization => {
    const existing = read(organization);
    if (existing === null) throw new NotFoundError('organization', organization);
    if (group === existing.defaultGroup || existing.groups.includes(group)) {
      throw new AlreadyExistsError('group', group);
    }
    insertGroup.run(organization, group);
    return readExisting(organization);
  });

  return {
    listOrganizations: () => list(),
    getOrganization: (key) => get(key),
    createOrganization(org) {
      checkOrganization(org);
      return create.immediate(org);
    },
    ensureOrganization(org) {
      checkOrganization(org);
      return ensure.immediate(org);
    },
    addGroup(organization, group) {
      if (typeof group !== 'string' || group.length === 0) throw new StoreError('group name must be a non-empty string');
      return addGroup.immediate(organization, group);
    },
  };
}
