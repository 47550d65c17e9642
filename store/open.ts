import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string };

/** Opens the store the config names: the embedded SQLite file, or MongoDB. */
export async function openStore(location: StoreLocation): Promise<Store> {
  if (location.kind === 'sqlite') return openSqliteStore(location.path);
  throw new Error('the MongoDB store is not available in this version yet: use store: sqlite:PATH');
}
