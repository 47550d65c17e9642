import { MongoError, MongoServerError } from 'mongodb';
import { ConflictError, StoreUnavailableError } from '../types.js';

/** The server's error codes in `error`: its own, and each write error's of a bulk write. */
function serverCodes(error: unknown): number[] {
  if (!(error instanceof MongoServerError)) return [];
  const codes = [Number(error.code)];
  const writeErrors: unknown = (error as { writeErrors?: unknown }).writeErrors;
  for (const item of Array.isArray(writeErrors) ? writeErrors : [writeErrors]) {
    const code: unknown = typeof item === 'object' && item !== null && 'code' in item ? item.code : undefined;
    if (typeof code === 'number') codes.push(code);
  }
  return codes;
}

/** E11000: a unique index (or `_id`) already holds the key a write tried to add. */
export function isDuplicateKeyError(error: unknown): boolean {
  return serverCodes(error).includes(11000);
}

/**
 * PostgreSQL's "transaction rollback" answers as DocumentDB (Azure Cosmos DB for MongoDB vCore,
 * FerretDB 2) passes them on, as SQLSTATE packed into a number: 40P01 `deadlock detected`
 * (16908292) and 40001 serialization failure (16777220). Concurrent writes on one unique key can
 * end so instead of with E11000; the server rolled the write back, so running it again is safe
 * and is what PostgreSQL prescribes.
 */
const WRITE_CONFLICT_CODES = [16908292, 16777220];

export function isWriteConflictError(error: unknown): boolean {
  return serverCodes(error).some((code) => WRITE_CONFLICT_CODES.includes(code));
}

/**
 * The store's error for anything the driver threw that the store's methods did not already
 * translate: a write the server rolled back as a conflict (after the store's own retries) or a
 * unique key another writer took first is a `ConflictError`, which callers may retry; anything
 * else of the driver's (a server that cannot be reached, a closed client, a full disk, a refused
 * command) a `StoreUnavailableError` naming the store and the cause: a store failure is never a
 * bare 500. Errors that are not the driver's (the store's own, a bug) stay as they are.
 */
export function classifyMongoError(error: unknown, description: string): unknown {
  if (!(error instanceof MongoError)) return error;
  if (isWriteConflictError(error)) {
    return new ConflictError(`the MongoDB store (${description}) rolled back a write that raced with others (${error.message}); retry`);
  }
  if (isDuplicateKeyError(error)) {
    return new ConflictError(`the MongoDB store (${description}) refused a write another writer got to first (${error.message}); retry`);
  }
  return new StoreUnavailableError(`the MongoDB store (${description}) cannot be used: ${error.message}`, { cause: error });
}
