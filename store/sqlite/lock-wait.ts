import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { AlreadyExistsError, ConflictError, StoreBusyError, StoreUnavailableError } from '../types.js';
import { violatedUniqueKey } from './errors.js';

/**
 * better-sqlite3 is synchronous: with SQLite's own `busy_timeout`, a statement that meets another
 * process's write lock sleeps on the calling thread, and the whole event loop (every login,
 * `/healthz`) with it. The store's connections therefore run with `busy_timeout = 0`: a locked
 * database answers SQLITE_BUSY at once, and the call is tried again after an asynchronous back-off
 * until `busyTimeoutMs` has passed, then fails with `StoreBusyError`. Every statement runs in a
 * transaction that a busy answer rolls back, so a retry starts clean.
 */
export interface LockWaitOptions {
  /** How long one call may wait for another writer's lock in total. */
  busyTimeoutMs: number;
  /** Names the store in `StoreUnavailableError` messages (the file's path). */
  location: string;
  /** Whether the connection is still open (a call after `close()` is a `StoreUnavailableError`). */
  isOpen: () => boolean;
}

/** Back-off between tries: 1 ms doubling to 32 ms, with jitter so that waiters do not move in step. */
function backoffMs(attempt: number): number {
  const ceiling = Math.min(32, 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED']);

export function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && BUSY.has(error.code);
}

/**
 * The store's error for anything the SQLite driver threw that the store's queries did not already
 * translate: a unique key taken becomes `AlreadyExistsError` (the value is not known here), any
 * other unique violation a `ConflictError` (another writer took it first), and everything else
 * (a full disk, an I/O error, a trigger's `RAISE(ABORT)`, a closed connection) a
 * `StoreUnavailableError` naming the file and the cause: a store failure is never a bare 500.
 * Errors that are not the driver's (the store's own, a bug) stay as they are.
 */
export function classifySqliteError(error: unknown, location: string, open = true): unknown {
  if (error instanceof Database.SqliteError) {
    if (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      const key = violatedUniqueKey(error);
      if (key !== null) return new AlreadyExistsError(key, '');
      return new ConflictError(`the SQLite store ${location} refused a write another writer got to first: ${error.message}`);
    }
    return new StoreUnavailableError(`the SQLite store ${location} cannot be used: ${error.message} (${error.code})`, { cause: error });
  }
  // better-sqlite3 answers a call on a closed connection with a TypeError.
  if (!open) return new StoreUnavailableError(`the SQLite store ${location} cannot be used: it is closed`, { cause: error });
  return error;
}

/** Runs `call`, waiting asynchronously (bounded) while another writer holds the lock. */
export async function withLockWait<T>(call: () => T | Promise<T>, options: LockWaitOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      // Synchronous on SQLite: a busy answer is thrown here, not from a promise.
      return await call();
    } catch (error) {
      if (!isBusy(error)) throw classifySqliteError(error, options.location, options.isOpen());
      const waited = Date.now() - started;
      if (waited >= options.busyTimeoutMs) throw new StoreBusyError(waited);
      await sleep(Math.min(backoffMs(attempt), options.busyTimeoutMs - waited));
    }
  }
}
