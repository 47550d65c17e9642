import { createRequire } from 'node:module';
import type ConnectionString from 'mongodb-connection-string-url';

// Loaded when a MongoDB URL is read: a daemon on the embedded store never loads it.
const load = () => createRequire(import.meta.url)('mongodb-connection-string-url') as { default: typeof ConnectionString };

/**
 * A MongoDB URL as the driver reads it (its own parser, which knows seed lists and `+srv`),
 * never a regex over the raw text: a password may hold `@`, `/`, `?` or `#`.
 */
export type MongoUrl =
  | { ok: true; /** The URL with its password replaced, safe for logs. */ shown: string; database: string | null }
  | { ok: false; problem: string };

export function readMongoUrl(url: string): MongoUrl {
  let parsed: ConnectionString;
  try {
    parsed = new (load().default)(url);
  } catch {
    // The parser's own message could quote the URL; this one shows no part of the credentials.
    return {
      ok: false,
      problem:
        'the MongoDB URL cannot be read; percent-encode @ : / ? # [ ] and % in its user name and password (e.g. @ as %40)',
    };
  }
  const shown = parsed.clone();
  if (shown.password !== '') shown.password = '***';
  const path = parsed.pathname.replace(/^\//, '');
  let database: string | null = null;
  try {
    database = path === '' ? null : decodeURIComponent(path);
  } catch {
    database = null;
  }
  return { ok: true, shown: shown.toString(), database };
}

/** The URL for a message: its password hidden, or only the scheme when it cannot be read. */
export function redactUrl(url: string): string {
  const read = readMongoUrl(url);
  return read.ok ? read.shown : `${url.startsWith('mongodb+srv:') ? 'mongodb+srv' : 'mongodb'}://…`;
}
