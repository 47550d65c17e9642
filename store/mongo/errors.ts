import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
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
 * The store's error for a server that cannot be reached (network error, server selection timeout,
 * closed client) or that refuses writes for lack of space; for a write the server rolled back as a
 * conflict (after the store's own retries) a `ConflictError`, which callers may retry; any other
 * error as it was.
 */
export function classifyMongoError(error: unknown, description: string): unknown {
  if (isWriteConflictError(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new ConflictError(`the MongoDB store (${description}) rolled back a write that raced with others (${reason}); retry`);
  }
  const unreachable =
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError;
  // 14031: out of disk space; 13 Unauthorized after a credential change; 11600/91 shutting down.
  const refused = error instanceof MongoServerError && [13, 91, 11600, 14031].includes(Number(error.code));
  if (!unreachable && !refused) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`the MongoDB store (${description}) cannot be used: ${reason}`, { cause: error });
}
