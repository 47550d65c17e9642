import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import { StoreError, type CacheOrigin, type CachedGroup, type CachedUser, type DirectoryCacheStore } from '../types.js';
import { translateConstraints } from './errors.js';
import { stringsSchema } from '../schemas.js';
import { readColumn, writeColumn } from './json-columns.js';

interface CachedUserRow {
  connector: string;
  subject: string;
  email: string | null;
  name: string | null;
  groups: string;
  nested_groups: string;
  fetched_at: string;
  origin: CacheOrigin;
  absent_since: string | null;
}


function fromRow(row: CachedUserRow, intern: (name: string) => string = (name) => name): CachedUser {
  const key = `(${row.connector}, ${row.subject})`;
  return {
    connector: row.connector,
    subject: row.subject,
    email: row.email,
    name: row.name,
    groups: readColumn(stringsSchema, row.groups, 'cached_users.groups', key).map(intern),
    nestedGroups: readColumn(stringsSchema, row.nested_groups, 'cached_users.nested_groups', key).map(intern),
    fetchedAt: intern(row.fetched_at),
    origin: row.origin,
    absentSince: row.absent_since,
  };
}

export function createDirectoryCacheQueries(db: Database): MethodsOf<DirectoryCacheStore> {
  const selectUser = db.prepare<[string, string], CachedUserRow>(
    'SELECT * FROM cached_users WHERE connector = ? AND subject = ?',
  );
  const selectUsers = db.prepare<[string], CachedUserRow>(
    'SELECT * FROM cached_users WHERE connector = ? ORDER BY subject',
  );
  const countPresent = db.prepare<[string], { users: number; memberships: number }>(
    `SELECT COUNT(*) AS users, COALESCE(SUM(json_array_length(groups)), 0) AS memberships
     FROM cached_users WHERE connector = ? AND absent_since IS NULL`,
  );
  const upsertUser = db.prepare<
    [string, string, string | null, string | null, string, string, string, CacheOrigin, string | null]
  >(
    `INSERT INTO cached_users (connector, subject, email, name, groups, nested_groups, fetched_at, origin, absent_since)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (connector, subject) DO UPDATE SET
       email = excluded.email, name = excluded.name, groups = excluded.groups,
       nested_groups = excluded.nested_groups, fetched_at = excluded.fetched_at,
       origin = excluded.origin, absent_since = excluded.absent_since`,
  );
  const selectGroups = db.prepare<[string], { connector: string; id: string; name: string; fetched_at: string }>(
    'SELECT connector, id, name, fetched_at FROM cached_groups WHERE connector = ? ORDER BY id',
  );
  const upsertGroup = db.prepare<[string, string, string, string]>(
    `INSERT INTO cached_groups (connector, id, name, fetched_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (connector, id) DO UPDATE SET name = excluded.name, fetched_at = excluded.fetched_at`,
  );

  const deleteAllGroups = db.prepare<[string]>('DELETE FROM cached_groups WHERE connector = ?');
  const deleteGroup = db.prepare<[string, string]>('DELETE FROM cached_groups WHERE connector = ? AND id = ?');

  function writeUser(user: CachedUser): void {
    translateConstraints(
      () =>
        upsertUser.run(
          user.connector,
          user.subject,
          user.email,
          user.name,
          writeColumn(stringsSchema, user.groups, 'cached user groups'),
          writeColumn(stringsSchema, user.nestedGroups, 'cached user nestedGroups'),
          user.fetchedAt,
          user.origin,
          user.absentSince,
        ),
      {},
    );
  }

  // One transaction per batch: pre-warm writes thousands of rows, and a failed batch leaves none.
  const writeUsers = db.transaction((users: CachedUser[]) => {
    for (const user of users) writeUser(user);
  });
  const writeGroups = db.transaction((groups: CachedGroup[]) => {
    for (const g of groups) upsertGroup.run(g.connector, g.id, g.name, g.fetchedAt);
  });
  const swapGroups = db.transaction((connector: string, groups: CachedGroup[]) => {
    deleteAllGroups.run(connector);
    for (const g of groups) {
      if (g.connector !== connector) throw new StoreError(`group ${g.id} belongs to ${g.connector}, not ${connector}`);
      upsertGroup.run(g.connector, g.id, g.name, g.fetchedAt);
    }
  });
  // One read transaction: the users come from one state of the cache.
  const readUsers = db.transaction((connector: string, subjects: readonly string[]) =>
    subjects.flatMap((subject) => {
      const row = selectUser.get(connector, subject);
      return row === undefined ? [] : [fromRow(row)];
    }),
  );
  const dropGroups = db.transaction((connector: string, ids: string[]) => {
    for (const id of ids) deleteGroup.run(connector, id);
  });

  return {
    getCachedUser(connector, subject) {
      const row = selectUser.get(connector, subject);
      return row === undefined ? null : fromRow(row);
    },
    putCachedUser: writeUser,
    putCachedUsers: (users) => writeUsers.immediate(users),
    listCachedUsers(connector) {
      // 100,000 users share a few thousand group names and run times: one string each, not one per row.
      const strings = new Map<string, string>();
      const intern = (value: string): string => {
        const known = strings.get(value);
        if (known !== undefined) return known;
        strings.set(value, value);
        return value;
      };
      return selectUsers.all(connector).map((row) => fromRow(row, intern));
    },
    getCachedUsers: (connector, subjects) => readUsers.deferred(connector, subjects),
    countCachedMemberships: (connector) => countPresent.get(connector)!,
    putCachedGroups: (groups) => writeGroups.immediate(groups),
    replaceCachedGroups: (connector, groups) => swapGroups.immediate(connector, groups),
    deleteCachedGroups: (connector, ids) => dropGroups.immediate(connector, ids),
    listCachedGroups: (connector) =>
      selectGroups.all(connector).map((g) => ({ connector: g.connector, id: g.id, name: g.name, fetchedAt: g.fetched_at })),
  };
}
