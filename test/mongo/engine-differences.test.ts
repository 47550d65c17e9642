import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { classifyMongoError, isDuplicateKeyError, isWriteConflictError } from '../../store/mongo/errors.js';
import { openMongoStore } from '../../store/mongo/index.js';
import { retryWriteConflicts } from '../../store/mongo/retry.js';
import { ConflictError, StoreError } from '../../store/types.js';
import { freshDatabaseUrl } from './databases.js';

/**
 * How the servers differ where the store must tell (store/mongo/errors.ts, collections.ts):
 * DocumentDB (Azure Cosmos DB for MongoDB vCore, FerretDB 2) answers some racing writes on a
 * unique index with `deadlock detected`, refuses a unique index over conflicting data with an
 * `InternalError`, and has no multi-document transactions. The DocumentDB-only tests run when
 * the run's server is the DocumentDB one (`JITSYNC_TEST_DOCUMENTDB`, CI's second pass).
 */

const onDocumentdb = inject('mongoServerKind') === 'documentdb';
let admin: MongoClient;
const databases: string[] = [];

function fresh(label: string): { url: string; database: string } {
  const created = freshDatabaseUrl(label);
  databases.push(created.database);
  return created;
}

beforeAll(async () => {
  admin = new MongoClient(freshDatabaseUrl('admin').url, { serverSelectionTimeoutMS: 5_000 });
  await admin.connect();
});

afterAll(async () => {
  for (const database of databases) await admin.db(database).dropDatabase();
  await admin.close();
});

/** Accounts that break `email_unique`, as data copied in from elsewhere could. */
async function seedDuplicateEmails(database: string): Promise<void> {
  await admin.db(database).collection<{ _id: string; email: string; username: string }>('accounts').insertMany([
    { _id: 'user-1', email: 'ada@example.com', username: 'ada' },
    { _id: 'user-2', email: 'ada@example.com', username: 'ada2' },
    { _id: 'user-3', email: 'grace@example.com', username: 'grace' },
  ]);
}

describe('a unique index over data that breaks it', () => {
  it('keeps the store from opening, naming the index and the documents that share a key', async () => {
    const { url, database } = fresh('dup_index');
    await seedDuplicateEmails(database);
    const error: unknown = await openMongoStore(url).then(
      async (store) => {
        await store.close();
        return new Error('the store opened over duplicate emails');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    const message = (error as Error).message;
    expect(message).toMatch(/unique index email_unique of the accounts collection cannot be created/);
    expect(message).toContain('email "ada@example.com" (2 documents: "user-1", "user-2")');
    expect(message).not.toContain('grace');
  });

  it.runIf(onDocumentdb)('is refused by DocumentDB with InternalError (1), not E11000, and no key named', async () => {
    const { database } = fresh('dup_index_raw');
    await seedDuplicateEmails(database);
    const error: unknown = await admin
      .db(database)
      .collection('accounts')
      .createIndex({ email: 1 }, { unique: true, name: 'email_unique' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({ code: 1, codeName: 'InternalError' });
    expect((error as Error).message).toMatch(/could not create exclusion constraint/);
  });
});

describe.runIf(onDocumentdb)('DocumentDB', () => {
  /**
   * Writers that upsert two documents while claiming three unique emails and five unique array
   * elements: every write races on a unique index. Some losers get `deadlock detected` instead
   * of E11000, in most rounds (each such round takes about a second: PostgreSQL's deadlock check).
   */
  async function race(round: number, run: <R>(write: () => Promise<R>) => Promise<R>): Promise<unknown[]> {
    const collection = admin.db(fresh(`deadlock_${round}`).database).collection<{ _id: string; email?: string; tags?: string[] }>('race');
    await collection.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await collection.createIndex({ tags: 1 }, { unique: true, name: 'tags_unique' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        run(() => collection.updateOne({ _id: `doc-${i % 2}` }, { $set: { email: `e${i % 3}`, tags: [`t${i % 5}`] } }, { upsert: true })),
      ),
    );
    return outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
  }

  it('answers some writers of a unique-index race with deadlock detected (16908292): a retryable conflict, never a 500', async () => {
    const deadlocks: unknown[] = [];
    for (let round = 0; round < 8 && deadlocks.length === 0; round++) {
      const errors = await race(round, (write) => write());
      // Every loser is told one of the two: the key is taken, or the write was rolled back.
      for (const error of errors) expect(isDuplicateKeyError(error) || isWriteConflictError(error)).toBe(true);
      deadlocks.push(...errors.filter(isWriteConflictError));
    }
    expect(deadlocks.length).toBeGreaterThan(0);
    expect(deadlocks[0]).toMatchObject({ code: 16908292, message: 'deadlock detected' });
    expect(classifyMongoError(deadlocks[0], 'FerretDB 2.5.0 (DocumentDB)')).toBeInstanceOf(ConflictError);
  }, 60_000);

  it('ends the same race with only successes and E11000 when the store retries rolled-back writes', async () => {
    for (let round = 0; round < 3; round++) {
      const errors = await race(100 + round, (write) => retryWriteConflicts(write));
      expect(errors.filter((error) => !isDuplicateKeyError(error))).toEqual([]);
    }
  }, 60_000);

  it('has no multi-document transactions (commitTransaction: CommandNotFound); the store passes its contract here without them', async () => {
    const collection = admin.db(fresh('transactions').database).collection<{ _id: number }>('any');
    const session = admin.startSession();
    try {
      session.startTransaction();
      await collection.insertOne({ _id: 1 }, { session });
      await expect(session.commitTransaction()).rejects.toMatchObject({ code: 59 });
    } finally {
      await session.endSession();
    }
  });
});
