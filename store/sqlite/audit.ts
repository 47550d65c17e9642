import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import { StoreError, type AuditEntry, type AuditStore } from '../types.js';
import { auditDetailsSchema } from '../schemas.js';
import { readColumn, writeColumn } from './json-columns.js';

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  user_id: string | null;
  details: string;
}


function fromRow(row: AuditRow): AuditEntry {
  return {
    at: row.at,
    actor: row.actor,
    action: row.action,
    userId: row.user_id,
    details: readColumn(auditDetailsSchema, row.details, 'audit.details', String(row.seq)),
  };
}

export function createAuditQueries(db: Database): MethodsOf<AuditStore> {
  const insert = db.prepare<[string, string, string, string | null, string]>(
    'INSERT INTO audit (at, actor, action, user_id, details) VALUES (?, ?, ?, ?, ?)',
  );
  // LIMIT -1 means no limit in SQLite. Entries with the same instant keep their append order.
  const selectAll = db.prepare<[number], AuditRow>(
    'SELECT seq, at, actor, action, user_id, details FROM audit ORDER BY at DESC, seq DESC LIMIT ?',
  );
  const selectByUser = db.prepare<[string, number], AuditRow>(
    'SELECT seq, at, actor, action, user_id, details FROM audit WHERE user_id = ? ORDER BY at DESC, seq DESC LIMIT ?',
  );

  return {
    appendAudit(entry) {
      const details = writeColumn(auditDetailsSchema, entry.details, 'audit details');
      insert.run(entry.at, entry.actor, entry.action, entry.userId, details);
    },
    listAudit(filter) {
      const limit = filter.limit ?? -1;
      if (filter.limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
        throw new StoreError(`audit limit must be a non-negative integer: ${limit}`);
      }
      const rows = filter.userId === undefined ? selectAll.all(limit) : selectByUser.all(filter.userId, limit);
      return rows.map(fromRow);
    },
  };
}
