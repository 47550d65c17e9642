import { openSqliteStore } from './sqlite/index.js';
import { StoreError, type Store } from './types.js';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string };

export interface OpenStoreOptions {
  /** How long a write waits for another writer's lock before `StoreBusyError` (SQLite). */
  busyTimeoutMs?: number;
  /** False for a connection that only reads: it runs no WAL checkpoints (SQLite). */
  writer?: boolean;
}

/** Opens the store the config names: the embedded SQLite file, or MongoDB. */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  if (location.kind === 'sqlite') {
    try {
      return openSqliteStore(location.path, options);
    } catch (error) {
      throw sqliteOpenError(location.path, error);
    }
  }
  // Loaded on demand: a daemon on the embedded store never loads the MongoDB driver.
  const { openMongoStore } = await import('./mongo/index.js');
  try {
    return await openMongoStore(location.url);
  } catch (error) {
    // Its messages show the URL with the password hidden; the prefix names the config key.
    throw error instanceof StoreError ? new StoreError(`store: ${error.message}`, { cause: error }) : error;
  }
}

/** SQLite's own messages name neither the file nor the key (`unable to open database file`). */
function sqliteOpenError(path: string, error: unknown): StoreError {
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const permission = ['EACCES', 'EPERM', 'EROFS', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM'].includes(String(code));
  const hint = permission ? '; the user running jitsync must be able to write the file and its folder' : '';
  return new StoreError(`store: cannot open the SQLite file ${path} (${reason})${hint}`, { cause: error });
}
