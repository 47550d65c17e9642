import { AlreadyExistsError, ConflictError, StoreBusyError, StoreUnavailableError } from '../store/types.js';

/**
 * An error a caller can act on: a stable code, the HTTP status it maps to, and a message that is
 * safe to show (it never carries secrets). Anything else that escapes is a 500 with no detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const notFound = (what: string, key: string) => new AppError(404, 'not_found', `${what} not found: ${key}`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);

/**
 * The HTTP answer for an error a store raised, or null for any other error. Busy is transient (a
 * retry soon succeeds); unavailable means the store takes no reads or writes until repaired;
 * a lost race that survived the store's own retries is a conflict the caller may retry.
 */
export function storeErrorAnswer(error: unknown): AppError | null {
  if (error instanceof StoreBusyError) {
    return new AppError(503, 'store_busy', 'the store is locked by another writer; retry shortly');
  }
  if (error instanceof StoreUnavailableError) {
    return new AppError(503, 'store_unavailable', 'the store cannot be read or written; see the daemon log');
  }
  if (error instanceof ConflictError || error instanceof AlreadyExistsError) {
    return new AppError(409, 'conflict', 'another write changed the same record; retry');
  }
  return null;
}
