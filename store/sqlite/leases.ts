import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import { StoreError, type LeaseStore } from '../types.js';
import { canonicalInstant } from './validate.js';


export function createLeaseQueries(db: Database): MethodsOf<LeaseStore> {
  // One statement decides: it inserts a free lease, or takes over the row only when it has
  // expired or is already ours. A read-then-write would let two holders both win.
  const take = db.prepare<[string, string, string, string]>(
    `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`,
  );
  const drop = db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?');

  return {
    acquireLease(name, holder, ttlMs, now) {
      if (name.length === 0 || holder.length === 0) throw new StoreError('lease name and holder must be non-empty');
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StoreError(`lease ttl must be a positive number: ${ttlMs}`);
      const start = canonicalInstant(now, 'lease time');
      const expiresAt = new Date(Date.parse(start) + ttlMs).toISOString();
      return take.run(name, holder, expiresAt, start).changes === 1;
    },
    releaseLease(name, holder) {
      drop.run(name, holder);
    },
  };
}
