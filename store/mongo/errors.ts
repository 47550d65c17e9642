import { MongoServerError } from 'mongodb';

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
