import type { Database } from 'better-sqlite3';
import type { LoginTimes, SyncState, SyncStatus } from '../types.js';
import { translateConstraints } from './errors.js';
import { decodeMemberships, decodeStrings, encodeMemberships, encodeStrings } from './json-columns.js';
import { checkMemberships } from './validate.js';

interface SyncStateRow {
  user_id: string;
  connector: string;
  subject: string;
  applied_groups: string;
  last_login_at: string | null;
  last_reconciled_at: string | null;
  last_seen_by_prewarm_at: string | null;
  pending_add: string;
  pending_remove: string;
  status: SyncStatus;
  last_error: string | null;
}

export interface SyncStateQueries {
  get(userId: string, connector: string): SyncState | null;
  put(state: SyncState): void;
  putMany(states: SyncState[]): void;
  recordLoginTimes(times: readonly LoginTimes[]): void;
  list(connector?: string): SyncState[];
}

function fromRow(row: SyncStateRow): SyncState {
  return {
    userId: row.user_id,
    connector: row.connector,
    subject: row.subject,
    appliedGroups: decodeStrings(row.applied_groups, 'sync_states.applied_groups'),
    lastLoginAt: row.last_login_at,
    lastReconciledAt: row.last_reconciled_at,
    lastSeenByPrewarmAt: row.last_seen_by_prewarm_at,
    pendingAdd: decodeMemberships(row.pending_add, 'sync_states.pending_add'),
    pendingRemove: decodeMemberships(row.pending_remove, 'sync_states.pending_remove'),
    status: row.status,
    lastError: row.last_error,
  };
}

export function createSyncStateQueries(db: Database): SyncStateQueries {
  const selectOne = db.prepare<[string, string], SyncStateRow>(
    'SELECT * FROM sync_states WHERE user_id = ? AND connector = ?',
  );
  const selectAll = db.prepare<[], SyncStateRow>('SELECT * FROM sync_states ORDER BY user_id, connector');
  const selectByConnector = db.prepare<[string], SyncStateRow>(
    'SELECT * FROM sync_states WHERE connector = ? ORDER BY user_id',
  );
  const upsert = db.prepare<
    [string, string, string, string, string | null, string | null, string | null, string, string, SyncStatus, string | null]
  >(
    `INSERT INTO sync_states (user_id, connector, subject, applied_groups, last_login_at, last_reconciled_at,
       last_seen_by_prewarm_at, pending_add, pending_remove, status, last_error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, connector) DO UPDATE SET
       subject = excluded.subject, applied_groups = excluded.applied_groups,
       last_login_at = excluded.last_login_at, last_reconciled_at = excluded.last_reconciled_at,
       last_seen_by_prewarm_at = excluded.last_seen_by_prewarm_at, pending_add = excluded.pending_add,
       pending_remove = excluded.pending_remove, status = excluded.status, last_error = excluded.last_error`,
  );

  const writeMany = db.transaction((states: SyncState[]) => {
    for (const state of states) writeOne(state);
  });
  // ISO times of one format compare as strings; max() keeps a later time written meanwhile.
  const touch = db.prepare<[string, string, string, string]>(
    `UPDATE sync_states SET last_login_at = max(coalesce(last_login_at, ''), ?),
       last_reconciled_at = max(coalesce(last_reconciled_at, ''), ?)
     WHERE user_id = ? AND connector = ?`,
  );
  const touchMany = db.transaction((times: readonly LoginTimes[]) => {
    for (const t of times) touch.run(t.at, t.at, t.userId, t.connector);
  });

  return {
    get(userId, connector) {
      const row = selectOne.get(userId, connector);
      return row === undefined ? null : fromRow(row);
    },
    put: (state) => writeOne(state),
    putMany: (states) => writeMany.immediate(states),
    recordLoginTimes: (times) => touchMany.immediate(times),
    list: (connector) => (connector === undefined ? selectAll.all() : selectByConnector.all(connector)).map(fromRow),
  };

  function writeOne(state: SyncState): void {
    checkMemberships(state.pendingAdd);
    checkMemberships(state.pendingRemove);
    translateConstraints(
      () =>
        upsert.run(
          state.userId,
          state.connector,
          state.subject,
          encodeStrings(state.appliedGroups, 'sync state appliedGroups'),
          state.lastLoginAt,
          state.lastReconciledAt,
          state.lastSeenByPrewarmAt,
          encodeMemberships(state.pendingAdd),
          encodeMemberships(state.pendingRemove),
          state.status,
          state.lastError,
        ),
      {},
    );
  }
}
