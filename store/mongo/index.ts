import { MongoClient, type Db } from 'mongodb';
import { everyMethod } from '../every-method.js';
import { StoreError, type Store, type StoreDetails, type StoreMethods } from '../types.js';
import { createChangeFeed } from '../write-events.js';
import { createAccountStore } from './accounts.js';
import { collectionsOf, ensureIndexes } from './collections.js';
import { classifyMongoError } from './errors.js';
import { readMongoUrl, redactUrl } from './url.js';
import { createLeaseStore } from './leases.js';
import { createOrganizationStore } from './organizations.js';
import { createRecordStores, type BulkStrategy } from './records.js';
import { retryWriteConflicts, upsertRetrying } from './retry.js';
import { createScimMethods } from './scim.js';
import { describeServer, type ServerInfo } from './server-info.js';
import { createWriteGuards, type WriteMode } from './write-guards.js';

export type { WriteMode } from './write-guards.js';

export interface MongoStoreOptions {
  /** How long to wait for the server at start (and per operation's server selection). */
  connectTimeoutMs?: number;
  /** Upper bound for waiting on one server reply. */
  operationTimeoutMs?: number;
  /** Overrides the detected write mode (see `WriteMode`); tests use it to cover both paths. */
  writeMode?: WriteMode;
}

/** Reads the server's name and version, and whether its conditional writes are atomic. */
async function inspectServer(db: Db): Promise<ServerInfo> {
  return describeServer(await db.admin().command({ buildInfo: 1 }));
}

/**
 * Opens the MongoDB store at `url` (`mongodb://host:27017/jitsync`): connects, checks the
 * server, and creates the indexes. The database is the one the URL names; there is no default.
 */
export async function openMongoStore(url: string, options: MongoStoreOptions = {}): Promise<Store> {
  const read = readMongoUrl(url);
  if (!read.ok) throw new StoreError(read.problem);
  const dbName = read.database;
  if (dbName === null) {
    throw new StoreError(
      `the MongoDB URL ${redactUrl(url)} names no database; add one to its path, e.g. mongodb://127.0.0.1:27017/jitsync`,
    );
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  let client: MongoClient;
  try {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: connectTimeoutMs,
      connectTimeoutMS: connectTimeoutMs,
      // Bounds every read and write on a connection that stops answering.
      socketTimeoutMS: options.operationTimeoutMs ?? 30_000,
      appName: 'jitsync',
    });
  } catch (error) {
    throw new StoreError(`invalid MongoDB URL ${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
  }

  try {
    await client.connect();
    const db = client.db(dbName);
    const server = await inspectServer(db);
    const collections = collectionsOf(db);
    await ensureIndexes(collections);
    const writeMode = options.writeMode ?? server.writeMode;
    const guards = createWriteGuards({ mode: writeMode, guards: collections.writeGuards });
    return assembleStore({
      client,
      db,
      collections,
      guards,
      bulk: server.bulk,
      details: { server: server.server, writeMode },
      description: `${server.server}, ${writeMode} writes, database ${dbName}`,
    });
  } catch (error) {
    await client.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    // A StoreError names what is wrong with the data; the connect bound is beside the point then.
    const within = error instanceof StoreError ? '' : ` within ${connectTimeoutMs} ms`;
    throw new StoreError(`cannot open the MongoDB store at ${redactUrl(url)}${within}: ${reason}`);
  }
}

function assembleStore(deps: {
  client: MongoClient;
  db: Db;
  collections: ReturnType<typeof collectionsOf>;
  guards: ReturnType<typeof createWriteGuards>;
  bulk: BulkStrategy;
  details: StoreDetails;
  description: string;
}): Store {
  const { client, db, collections, guards } = deps;

  const changes = createChangeFeed();

  const methods = everyMethod<StoreMethods>(
    {
      async ping() {
        await db.command({ ping: 1 });
      },
      async probeWrite() {
        // Every replica probes the same document: their upserts can race to insert it.
        await upsertRetrying(() =>
          db.collection<{ _id: string; at: Date }>('write_probe').updateOne({ _id: 'probe' }, { $set: { at: new Date() } }, { upsert: true }),
        );
      },
      // Other replicas' writes are invisible without change streams (which FerretDB lacks): unknown.
      changeToken: async () => null,
      ...createAccountStore({ collections, guards }),
      ...createOrganizationStore({ collections, guards }),
      ...createLeaseStore({ collections, guards }),
      ...createRecordStores(collections, deps.bulk),
      ...createScimMethods(db, guards),
    },
    // Each write is reported once the whole call completed (see write-events.ts).
    (name, args, call) =>
      changes.report(name, args, async () => {
        try {
          return await retryWriteConflicts(call);
        } catch (error) {
          throw classifyMongoError(error, deps.description);
        }
      }),
  );
  return {
    describe: () => deps.description,
    details: () => ({ ...deps.details }),
    onChange: (listener) => changes.subscribe(listener),
    close: () => client.close(),
    ...methods,
  };
}
