import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { describe, expect, inject, it } from 'vitest';
import { openMongoStore } from '../../store/mongo/index.js';
import { StoreError } from '../../store/types.js';
import { startMongoServer, uriWithDatabase } from './server.js';

/** The test server harness and the store's start-up errors. */

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('MongoDB-wire test server', () => {
  it('is provided to every test file by the global setup and answers commands', async () => {
    const uri = inject('mongoUri');
    expect(['mongod', 'ferretdb', 'documentdb', 'external']).toContain(inject('mongoServerKind'));
    const client = new MongoClient(uriWithDatabase(uri, 'jitsync_test_harness'), { serverSelectionTimeoutMS: 5_000 });
    try {
      const reply = await client.db('admin').command({ ping: 1 });
      expect(reply.ok).toBe(1);
    } finally {
      await client.close();
    }
  });

  // With MONGODB_URI the run may have no local way to start a server; the skip shows in the report.
  it.runIf(inject('mongoServerKind') !== 'external')('starts a second server on demand and stops it', async () => {
    const server = await startMongoServer({ ...process.env, MONGODB_URI: '' });
    expect(server.kind).not.toBe('external');
    expect(server.version).toMatch(/^\d+\.\d+\.\d+/);
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 2_000 });
    await client.connect();
    await client.close();
    await server.stop();
    const after = new MongoClient(server.uri, { serverSelectionTimeoutMS: 1_000 });
    await expect(after.connect()).rejects.toThrow();
    await after.close();
  });

  it('fails, and tries no other server, when JITSYNC_TEST_DOCUMENTDB names no start script', async () => {
    const env = { PATH: process.env.PATH, JITSYNC_TEST_DOCUMENTDB: '/nonexistent/documentdb/start.sh', MONGODB_URI: inject('mongoUri') };
    await expect(startMongoServer(env)).rejects.toThrow(/nonexistent\/documentdb\/start\.sh/);
  });

  it('puts a database name into a server URI', () => {
    expect(uriWithDatabase('mongodb://127.0.0.1:27017/', 'db1')).toBe('mongodb://127.0.0.1:27017/db1');
    expect(uriWithDatabase('mongodb://127.0.0.1:27017', 'db1')).toBe('mongodb://127.0.0.1:27017/db1');
    expect(uriWithDatabase('mongodb://u:p@h1,h2/old?replicaSet=rs', 'db1')).toBe('mongodb://u:p@h1,h2/db1?replicaSet=rs');
  });
});

describe('openMongoStore', () => {
  it('refuses a URL that names no database, without connecting', async () => {
    await expect(openMongoStore('mongodb://127.0.0.1:1/')).rejects.toThrow(/names no database/);
    await expect(openMongoStore('mongodb://127.0.0.1:1')).rejects.toBeInstanceOf(StoreError);
  });

  it('fails clearly when the server cannot be reached, and hides the password', async () => {
    const port = await closedPort();
    const failure = openMongoStore(`mongodb://jitsync:s3cret@127.0.0.1:${port}/jitsync`, { connectTimeoutMs: 1_000 });
    await expect(failure).rejects.toBeInstanceOf(StoreError);
    await expect(failure).rejects.toThrow(/cannot open the MongoDB store at mongodb:\/\/jitsync:\*\*\*@127\.0\.0\.1/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });

  it('describes the server it is connected to, and the write path it takes there', async () => {
    const store = await openMongoStore(uriWithDatabase(inject('mongoUri'), 'jitsync_test_describe'));
    try {
      expect(store.describe()).toMatch(/^(MongoDB|FerretDB) .*, (atomic|guarded) writes, database jitsync_test_describe$/);
      const details = store.details();
      expect(details.writeMode).toBe(inject('mongoWriteMode'));
      // What each server the harness starts must be taken for (MONGODB_URI may name any).
      const expected = {
        documentdb: { server: /^FerretDB 2\.\d+\.\d+ \(DocumentDB, MongoDB \S+ wire\)$/, writeMode: 'atomic' },
        ferretdb: { server: /^FerretDB 1\.\S+ \(MongoDB \S+ wire\)$/, writeMode: 'guarded' },
        mongod: { server: /^MongoDB \d/, writeMode: 'atomic' },
      } as const;
      const kind = inject('mongoServerKind');
      if (kind !== 'external') {
        expect(details.server).toMatch(expected[kind].server);
        expect(details.writeMode).toBe(expected[kind].writeMode);
      }
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
      const client = new MongoClient(uriWithDatabase(inject('mongoUri'), 'jitsync_test_describe'));
      await client.db('jitsync_test_describe').dropDatabase();
      await client.close();
    }
  });
});
