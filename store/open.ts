import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string };

export interface OpenStoreOptions {
  /** How long a write waits for another writer's lock before `StoreBusyError` (SQLite). */
  busyTimeoutMs?: number;
  /** False for a connection that only reads: it runs no WAL checkpoints (SQLite). */
  writer?: boolean;
}

/** Opens the store the config names: the embedded SQLite file, or MongoDB. */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  if (location.kind === 'sqlite') return openSqliteStore(location.path, options);
  // Loaded on demand: a daemon on the embedded store never loads the MongoDB driver.
  const { openMongoStore } = await import('./mongo/index.js');
  return openMongoStore(location.url);
}
