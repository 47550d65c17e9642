import { MongoClient } from 'mongodb';
import { openMongoStore } from '../../store/mongo/index.js';
import type { Store } from '../../store/types.js';
import { freshDatabaseUrl } from '../mongo/databases.js';
import { describeStoreContract } from './contract.js';

/** Each store gets its own database, dropped when the store closes. */
async function openFresh(): Promise<Store> {
  const { url, database } = freshDatabaseUrl('contract');
  const store = await openMongoStore(url);
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

describeStoreContract('mongodb', openFresh);
