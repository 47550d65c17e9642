import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import type { LoginSyncState, LoginTimes, PrewarmSighting, SyncState, SyncStateStore, SyncStatus } from '../types.js';
import { translateConstraints } from './errors.js';
import { stringsSchema } from '../schemas.js';
import { readColumn, writeColumn } from './json-columns.js';

interface SyncStateRow {
  user_id: string;
  connector: string;
  subject: string;
  applied_groups: string;
  last_login_at: string | null;
  last_reconciled_at: string | null;
  last_seen_by_prewarm_at: string | null;
  status: SyncStatus;
  last_error: string | null;
}

function fromRow(row: SyncStateRow): SyncState {
  const key = `(${row.user_id}, ${row.connector})`;
  return {
    userId: row.user_id,
    connector: row.connector,
    subject: row.subject,
    appliedGroups: readColumn(stringsSchema, row.applied_groups, 'sync_states.applied_groups', key),
    lastLoginAt: row.last_login_at,
    lastReconciledAt: row.last_reconciled_at,
    lastSeenByPrewarmAt: row.last_seen_by_prewarm_at,
    status: row.status,
    lastError: row.last_error,
  };
}

/** The login's columns of a row, in the order the statements below name them. */
type LoginColumns = [string, string, string, string, string | null, string | null, SyncStatus, string | null];

function loginColumns(state: LoginSyncState): LoginColumns {
  const appliedGroups = writeColumn(stringsSchema, state.appliedGroups, 'sync state appliedGroups');
  return [state.userId, state.connector, state.subject, appliedGroups, state.lastLoginAt, state.lastReconciledAt, state.status, state.lastError];
}

export function createSyncStateQueries(db: Database): MethodsOf<SyncStateStore> {
  const selectOne = db.prepare<[string, string], SyncStateRow>(
    'SELECT * FROM sync_states WHERE user_id = ? AND connector = ?',
  );
  const selectAll = db.prepare<[], SyncStateRow>('SELECT * FROM sync_states ORDER BY user_id, connector');
  const selectByConnector = db.prepare<[string], SyncStateRow>(
    'SELECT * FROM sync_states WHERE connector = ? ORDER BY user_id',
  );
  const upsert = db.prepare<
    [...LoginColumns, string | null]
  >(
    `INSERT INTO sync_states (user_id, connector, subject, applied_groups, last_login_at, last_reconciled_at,
       status, last_error, last_seen_by_prewarm_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, connector) DO UPDATE SET
       subject = excluded.subject, applied_groups = excluded.applied_groups,
       last_login_at = excluded.last_login_at, last_reconciled_at = excluded.last_reconciled_at,
       last_seen_by_prewarm_at = excluded.last_seen_by_prewarm_at, status = excluded.status,
       last_error = excluded.last_error`,
  );
  // The login's fields only (see `SyncStateStore`): pre-warm's `last_seen_by_prewarm_at` stays,
  // and so does `last_login_at` when the write brings none (a push provisioning is no login).
  const login = db.prepare<LoginColumns, SyncStateRow>(
    `INSERT INTO sync_states (user_id, connector, subject, applied_groups, last_login_at, last_reconciled_at,
       status, last_error, last_seen_by_prewarm_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (user_id, connector) DO UPDATE SET
       subject = excluded.subject, applied_groups = excluded.applied_groups,
       last_login_at = coalesce(excluded.last_login_at, last_login_at), last_reconciled_at = excluded.last_reconciled_at,
       status = excluded.status, last_error = excluded.last_error
     RETURNING *`,
  );
  // Pre-warm's fields only, and only those beside `last_seen_by_prewarm_at` while no login wrote
  // the row since pre-warm read it (`last_login_at IS @readLoginAt`: IS compares NULLs too).
  const sighting = db.prepare<
    [{ userId: string; connector: string; readLoginAt: string | null; seenAt: string | null; status: SyncStatus }],
    SyncStateRow
  >(
    `UPDATE sync_states SET
       last_seen_by_prewarm_at = coalesce(@seenAt, last_seen_by_prewarm_at),
       status = CASE WHEN last_login_at IS @readLoginAt THEN @status ELSE status END,
       last_error = CASE WHEN last_login_at IS @readLoginAt AND @seenAt IS NOT NULL THEN NULL ELSE last_error END
     WHERE user_id = @userId AND connector = @connector
     RETURNING *`,
  );
  // ISO times of one format compare as strings; max() keeps a later time written meanwhile.
  const touch = db.prepare<[string, string, string, string]>(
    `UPDATE sync_states SET last_login_at = max(coalesce(last_login_at, ''), ?),
       last_reconciled_at = max(coalesce(last_reconciled_at, ''), ?)
     WHERE user_id = ? AND connector = ?`,
  );
  const touchMany = db.transaction((times: readonly LoginTimes[]) => {
    for (const t of times) touch.run(t.at, t.at, t.userId, t.connector);
  });
  const writeSightings = db.transaction((sightings: readonly PrewarmSighting[]): SyncState[] => {
    const written: SyncState[] = [];
    for (const { userId, connector, readLoginAt, seenAt } of sightings) {
      const row = sighting.get({ userId, connector, readLoginAt, seenAt, status: seenAt === null ? 'absent' : 'fresh' });
      if (row !== undefined) written.push(fromRow(row));
    }
    return written;
  });

  return {
    getSyncState(userId, connector) {
      const row = selectOne.get(userId, connector);
      return row === undefined ? null : fromRow(row);
    },
    listSyncStates: (connector) => (connector === undefined ? selectAll.all() : selectByConnector.all(connector)).map(fromRow),
    putSyncState(state) {
      translateConstraints(() => upsert.run(...loginColumns(state), state.lastSeenByPrewarmAt), {});
    },
    recordLogin(state: LoginSyncState) {
      const row = translateConstraints(() => login.get(...loginColumns(state)), {});
      return fromRow(row!);
    },
    recordLoginTimes: (times) => touchMany.immediate(times),
    recordPrewarmSightings: (sightings) => translateConstraints(() => writeSightings.immediate(sightings), {}),
  };
}
