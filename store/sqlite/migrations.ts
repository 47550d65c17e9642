import type { Database } from 'better-sqlite3';
import { StoreError } from '../types.js';
import { SCIM_TABLES_SQL } from './scim.js';

/**
 * Schema migrations, numbered from 1 and applied in order. `PRAGMA user_version` holds the number
 * of the last one applied. Never edit a released migration: append a new one.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'accounts, organizations, invitations, directory cache, sync state, leases, runs, audit',
    sql: `
      CREATE TABLE users (
        id          TEXT PRIMARY KEY,
        username    TEXT NOT NULL UNIQUE,
        email       TEXT NOT NULL UNIQUE,        -- lower-cased by the store
        name        TEXT,
        disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        version     INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );

      CREATE TABLE identities (
        connector   TEXT NOT NULL,
        subject     TEXT NOT NULL,
        user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        PRIMARY KEY (connector, subject)
      );
      CREATE INDEX identities_by_user ON identities (user_id);

      CREATE TABLE memberships (
        user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        organization  TEXT NOT NULL,
        group_name    TEXT NOT NULL,
        source        TEXT NOT NULL
          CHECK (source IN ('sync', 'manual', 'invitation', 'fallback', 'default')),
        PRIMARY KEY (user_id, organization, group_name)
      );
      CREATE INDEX memberships_by_group ON memberships (organization, group_name, user_id);

      CREATE TABLE organizations (
        key            TEXT PRIMARY KEY,
        default_group  TEXT NOT NULL
      );

      CREATE TABLE organization_groups (
        organization  TEXT NOT NULL REFERENCES organizations (key) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        PRIMARY KEY (organization, name)
      );

      CREATE TABLE invitations (
        id            TEXT PRIMARY KEY,
        organization  TEXT NOT NULL,
        email         TEXT NOT NULL,             -- lower-cased by the store
        group_name    TEXT,
        state         TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
        created_at    TEXT NOT NULL,
        accepted_at   TEXT,
        accepted_by   TEXT
      );
      CREATE INDEX invitations_by_email ON invitations (email, state);

      CREATE TABLE cached_users (
        connector     TEXT NOT NULL,
        subject       TEXT NOT NULL,
        email         TEXT,
        name          TEXT,
        groups        TEXT NOT NULL,             -- JSON array of strings
        nested_groups TEXT NOT NULL,             -- JSON array of strings
        fetched_at    TEXT NOT NULL,
        origin        TEXT NOT NULL CHECK (origin IN ('prewarm', 'live')),
        absent_since  TEXT,
        PRIMARY KEY (connector, subject)
      );

      CREATE TABLE cached_groups (
        connector   TEXT NOT NULL,
        id          TEXT NOT NULL,
        name        TEXT NOT NULL,
        fetched_at  TEXT NOT NULL,
        PRIMARY KEY (connector, id)
      );

      CREATE TABLE sync_states (
        user_id                  TEXT NOT NULL,
        connector                TEXT NOT NULL,
        subject                  TEXT NOT NULL,
        applied_groups           TEXT NOT NULL,  -- JSON array of strings
        last_login_at            TEXT,
        last_reconciled_at       TEXT,
        last_seen_by_prewarm_at  TEXT,
        pending_add              TEXT NOT NULL,  -- JSON array of memberships
        pending_remove           TEXT NOT NULL,  -- JSON array of memberships
        status                   TEXT NOT NULL CHECK (status IN ('fresh', 'stale', 'error', 'absent')),
        last_error               TEXT,
        PRIMARY KEY (user_id, connector)
      );
      CREATE INDEX sync_states_by_connector ON sync_states (connector, user_id);

      CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        expires_at  TEXT NOT NULL                -- ISO-8601 UTC with milliseconds: sorts as text
      );

      CREATE TABLE prewarm_runs (
        id           TEXT PRIMARY KEY,
        connector    TEXT NOT NULL,
        mode         TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
        state        TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'guarded')),
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        figures      TEXT NOT NULL,              -- JSON object of counters
        error        TEXT
      );
      CREATE INDEX prewarm_runs_by_connector ON prewarm_runs (connector, started_at);

      CREATE TABLE audit (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        at       TEXT NOT NULL,
        actor    TEXT NOT NULL,
        action   TEXT NOT NULL,
        user_id  TEXT,
        details  TEXT NOT NULL                   -- JSON object
      );
      CREATE INDEX audit_by_time ON audit (at, seq);
      CREATE INDEX audit_by_user ON audit (user_id, at, seq);
    `,
  },
  {
    version: 2,
    description: 'pre-warm run details, connector state (incremental cursor)',
    sql: `
      ALTER TABLE prewarm_runs ADD COLUMN details TEXT NOT NULL
        DEFAULT '{"groupsTotal":null,"absentMarked":0,"membershipsRemoved":0,"guard":null}';

      CREATE TABLE connector_states (
        connector             TEXT PRIMARY KEY,
        cursor                TEXT,
        last_complete_run_at  TEXT,
        last_run_id           TEXT
      );
    `,
  },
  {
    version: 3,
    description: 'write probe (readiness after a failed write)',
    sql: `
      CREATE TABLE write_probe (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        at  TEXT NOT NULL
      );
    `,
  },
  { version: 4, description: 'SCIM resources pushed by IdPs, and their group members', sql: SCIM_TABLES_SQL },
  {
    version: 5,
    // The user view derives pending changes when read (decideLogin); the stored copies were only
    // as current as the last pre-warm run, and nothing read them.
    description: 'sync state keeps no pending changes',
    sql: `
      ALTER TABLE sync_states DROP COLUMN pending_add;
      ALTER TABLE sync_states DROP COLUMN pending_remove;
    `,
  },
  {
    version: 6,
    // Covering: a user's groups are read from this index alone. Without group_id in it, SQLite
    // preferred the primary key and read every member of the connector (a 1,000-member PATCH
    // asks for 1,000 users' groups).
    description: 'a covering index for the groups of a SCIM user',
    sql: `
      DROP INDEX scim_members_by_user;
      CREATE INDEX scim_members_by_user ON scim_members (connector, user_id, group_id);
    `,
  },
];

export function schemaVersion(db: Database): number {
  const version = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') throw new StoreError(`unexpected PRAGMA user_version: ${String(version)}`);
  return version;
}

/**
 * Applies the migrations the database lacks, each in its own write transaction. The version is
 * re-read inside the transaction, so two processes opening a new file at once apply each
 * migration exactly once.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const found = schemaVersion(db);
  if (found > latest) {
    throw new StoreError(
      `database schema version ${found} is newer than this jitsync supports (${latest}); upgrade jitsync`,
    );
  }
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const apply = db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
  return schemaVersion(db);
}
