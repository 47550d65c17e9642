import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { StoreUnavailableError } from '../types.js';

/** E11000: a unique index (or `_id`) already holds the key a write tried to add. */
export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/** Removes the password from a MongoDB URL, for error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(mongodb(?:\+srv)?:\/\/)([^@/]*@)/, (_match, scheme: string, userinfo: string) => {
    const user = userinfo.slice(0, -1).split(':')[0] ?? '';
    return `${scheme}${user}:***@`;
  });
}

/**
 * The database named by a MongoDB URL's path (`mongodb://host:27017/jitsync?...` → `jitsync`),
 * or null when it names none. The driver would silently fall back to `test`.
 */
export function databaseNameOf(url: string): string | null {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]*(?:\/([^?]*))?/.exec(url);
  const path = match?.[1];
  if (path === undefined || path === '') return null;
  return decodeURIComponent(path);
}

/**
 * The store's error for a server that cannot be reached (network error, server selection timeout,
 * closed client) or that refuses writes for lack of space; any other error as it was.
 */
export function classifyMongoError(error: unknown, description: string): unknown {
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
