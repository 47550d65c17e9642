import type { Database } from 'better-sqlite3';
import { StoreError, type AuditEntry } from '../types.js';
import { decodeDetails } from './json-columns.js';

interface AuditRow {
  at: string;
  actor: string;
  action: string;
  user_id: string | null;
  details: string;
}

export interface AuditQueries {
  append(entry: AuditEntry): void;
  list(filter: { userId?: string; limit?: number }): AuditEntry[];
}

function fromRow(row: AuditRow): AuditEntry {
  return {
    at: row.at,
    actor: row.actor,
    action: row.action,
    userId: row.user_id,
    details: decodeDetails(row.details, 'audit.details'),
  };
}

export function createAuditQueries(db: Database): AuditQueries {
  const insert = db.prepare<[string, string, string, string | null, string]>(
    'INSERT INTO audit (at, actor, action, user_id, details) VALUES (?, ?, ?, ?, ?)',
  );
  // LIMIT -1 means no limit in SQLite. Entries with the same instant keep their append order.
  const selectAll = db.prepare<[number], AuditRow>(
    'SELECT at, actor, action, user_id, details FROM audit ORDER BY at DESC, seq DESC LIMIT ?',
  );
  const selectByUser = db.prepare<[string, number], AuditRow>(
    'SELECT at, actor, action, user_id, details FROM audit WHERE user_id = ? ORDER BY at DESC, seq DESC LIMIT ?',
  );

  return {
    append(entry) {
      const details = JSON.stringify(entry.details);
      if (typeof details !== 'string' || !details.startsWith('{')) {
        throw new StoreError('audit details must be a JSON object');
      }
      insert.run(entry.at, entry.actor, entry.action, entry.userId, details);
    },
    list(filter) {
      const limit = filter.limit ?? -1;
      if (filter.limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
        throw new StoreError(`audit limit must be a non-negative integer: ${limit}`);
      }
      const rows = filter.userId === undefined ? selectAll.all(limit) : selectByUser.all(filter.userId, limit);
      return rows.map(fromRow);
    },
  };
}
