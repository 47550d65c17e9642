import { StoreError, type LeaseStore } from '../types.js';
import type { Collections } from './collections.js';
import { parseLease } from './documents.js';
import { isDuplicateKeyError } from './errors.js';
import type { WriteGuards } from './write-guards.js';

/** Races with other acquirers tolerated (guarded mode) before answering "not acquired". */
const MAX_ATTEMPTS = 5;

/** ISO-8601 UTC with milliseconds, so that expiry comparisons work on the strings. */
function instant(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new StoreError(`not a timestamp: ${value}`);
  return new Date(ms).toISOString();
}


export function createLeaseStore(deps: { collections: Collections; guards: WriteGuards }): LeaseStore {
  const { leases } = deps.collections;
  const { guards } = deps;

  /** One atomic upsert: matches the lease only when expired or ours; a missing one is inserted. */
  async function acquireAtomic(name: string, holder: string, expiresAt: string, now: string): Promise<boolean> {
    try {
      const outcome = await leases.updateOne(
        { _id: name, $or: [{ holder }, { expiresAt: { $lte: now } }] },
        { $set: { holder, expiresAt }, $inc: { rev: 1 } },
        { upsert: true },
      );
      return outcome.matchedCount + outcome.upsertedCount === 1;
    } catch (error) {
      // The lease exists and is someone else's: the upsert tried to insert a second `_id`.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /** Read, decide, then write conditioned on the revision read, under a write guard. */
  async function acquireGuarded(name: string, holder: string, expiresAt: string, now: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const raw: unknown = await leases.findOne({ _id: name });
      if (raw === null) {
        try {
          await leases.insertOne({ _id: name, holder, expiresAt, rev: 1 });
          return true;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          continue;
        }
      }
      const lease = parseLease(raw);
      if (lease.holder !== holder && lease.expiresAt > now) return false;
      const written = await guards.withRevision('lease', name, lease.rev, async () => {
        const outcome = await leases.updateOne({ _id: name, rev: lease.rev }, { $set: { holder, expiresAt, rev: lease.rev + 1 } });
        return outcome.matchedCount === 1;
      });
      if (written) return true;
    }
    return false;
  }

  return {
    async acquireLease(name, holder, ttlMs, now) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StoreError(`lease TTL must be a positive number of ms: ${ttlMs}`);
      const at = instant(now);
      const expiresAt = new Date(Date.parse(at) + ttlMs).toISOString();
      return guards.mode === 'atomic'
        ? acquireAtomic(name, holder, expiresAt, at)
        : acquireGuarded(name, holder, expiresAt, at);
    },

    async releaseLease(name, holder) {
      if (guards.mode === 'atomic') {
        await leases.deleteOne({ _id: name, holder });
        return;
      }
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const raw: unknown = await leases.findOne({ _id: name });
        if (raw === null) return;
        const lease = parseLease(raw);
        if (lease.holder !== holder) return;
        const deleted = await guards.withRevision('lease', name, lease.rev, async () => {
          const outcome = await leases.deleteOne({ _id: name, rev: lease.rev, holder });
          return outcome.deletedCount === 1;
        });
        if (deleted) return;
      }
    },
  };
}
