import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { StoreBusyError, StoreUnavailableError } from '../types.js';

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
}

/** Back-off between tries: 1 ms doubling to 32 ms, with jitter so that waiters do not move in step. */
function backoffMs(attempt: number): number {
  const ceiling = Math.min(32, 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED']);

/** Result codes that mean the file cannot be read or written, whatever the statement. */
const UNAVAILABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|PERM|AUTH)/;

export function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && BUSY.has(error.code);
}

/** The store's error for a failure of the file itself, or the error as it was. */
export function classifySqliteError(error: unknown, location: string): unknown {
  if (error instanceof Database.SqliteError && UNAVAILABLE.test(error.code)) {
    return new StoreUnavailableError(`the SQLite store ${location} cannot be used: ${error.message} (${error.code})`, { cause: error });
  }
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
      if (!isBusy(error)) throw classifySqliteError(error, options.location);
      const waited = Date.now() - started;
      if (waited >= options.busyTimeoutMs) throw new StoreBusyError(waited);
      await sleep(Math.min(backoffMs(attempt), options.busyTimeoutMs - waited));
    }
  }
}
