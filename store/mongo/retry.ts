import { isDuplicateKeyError, isWriteConflictError } from './errors.js';

export interface RetryOptions {
  /** Runs in all, the first included. */
  attempts: number;
  /** The pause before run `attempt + 1`. */
  pauseMs(attempt: number): number;
  sleep?(ms: number): Promise<void>;
}

/**
 * Deadlock victims of one race are told at about the same moment (PostgreSQL's deadlock check
 * runs after one second of waiting); a random pause keeps them from meeting again at once.
 */
export const CONFLICT_RETRIES: RetryOptions = {
  attempts: 5,
  pauseMs: (attempt) => Math.round(Math.random() * 25 * attempt),
};

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call` (one whole store method) again when the server rolled one of its writes back as a
 * write conflict (`isWriteConflictError`: DocumentDB's `deadlock detected`). Safe because every
 * store method is made of single-document writes (no multi-document transactions) that are each
 * conditional, idempotent or undone on failure, and account updaters may run more than once.
 * Throws the last conflict when every run met one; `classifyMongoError` turns it into a
 * `ConflictError`.
 */
export async function retryWriteConflicts<R>(call: () => R | Promise<R>, options: RetryOptions = CONFLICT_RETRIES): Promise<R> {
  const sleep = options.sleep ?? pause;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isWriteConflictError(error) || attempt >= options.attempts) throw error;
    }
    await sleep(options.pauseMs(attempt));
  }
}

/** Runs of an upsert that lost insert races, before its E11000 is passed on. */
const UPSERT_ATTEMPTS = 3;

/**
 * Runs an upsert again after it lost an insert race: two upserts of one missing `_id` both
 * insert it and the later one fails with E11000 (MongoDB retries such an upsert itself; DocumentDB
 * does not). The next run finds the document and replaces it. Not for writes where E11000 is an
 * answer (a lease held by someone else).
 */
export async function upsertRetrying<R>(upsert: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await upsert();
    } catch (error) {
      if (!isDuplicateKeyError(error) || attempt >= UPSERT_ATTEMPTS) throw error;
    }
  }
}
