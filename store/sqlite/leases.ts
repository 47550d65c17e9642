import type { Database } from 'better-sqlite3';
import { StoreError } from '../types.js';
import { canonicalInstant } from './validate.js';

export interface LeaseQueries {
  acquire(name: string, holder: string, ttlMs: number, now: string): boolean;
  release(name: string, holder: string): void;
}

export function createLeaseQueries(db: Database): LeaseQueries {
  // One statement decides: it inserts a free lease, or takes over the row only when it has
  // expired or is already ours. A read-then-write would let two holders both win.
  const take = db.prepare<[string, string, string, string]>(
    `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`,
  );
  const drop = db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?');

  return {
    acquire(name, holder, ttlMs, now) {
      if (name.length === 0 || holder.length === 0) throw new StoreError('lease name and holder must be non-empty');
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StoreError(`lease ttl must be a positive number: ${ttlMs}`);
      const start = canonicalInstant(now, 'lease time');
      const expiresAt = new Date(Date.parse(start) + ttlMs).toISOString();
      return take.run(name, holder, expiresAt, start).changes === 1;
    },
    release(name, holder) {
      drop.run(name, holder);
    },
  };
}
