import { MongoClient } from 'mongodb';
import { inject } from 'vitest';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { freshDatabaseUrl } from '../mongo/databases.js';
import { describeStoreContract } from './contract.js';

/** Each store gets its own database, dropped when the store closes. */
async function openFresh(): Promise<Store> {
  const { url, database } = freshDatabaseUrl('contract');
  // As the daemon opens it (daemon/main.ts).
  const store = await openStore({ kind: 'mongodb', url });
  return {
    ...store,
    async close() {
      await store.close();
      const admin = new MongoClient(url, { serverSelectionTimeoutMS: 5_000, socketTimeoutMS: 30_000 });
      try {
        await admin.db(database).dropDatabase();
      } finally {
        await admin.close();
      }
    },
  };
}

// The guarded path's server, FerretDB 1.x, stalls under ten concurrent bulk updates of shared
// documents, and its `$max` can lose a concurrent update (a known limit of that path).
const guarded = inject('mongoWriteMode') === 'guarded';
describeStoreContract(`mongodb (${inject('mongoWriteMode')} writes)`, openFresh, {
  bulkRacers: guarded ? 5 : undefined,
  atomicUpdateOperators: !guarded,
});
