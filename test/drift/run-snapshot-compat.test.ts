import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../../store/mongo/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { freshDatabaseUrl } from '../mongo/databases.js';

/** Runs stored before drift snapshots existed (no `driftSummary`) stay readable, as `null`. */
const dir = mkdtempSync(join(tmpdir(), 'jitsync-drift-compat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OLD_DETAILS = { groupsTotal: 3, absentMarked: 1, membershipsRemoved: 2, guard: null };
interface OldRunDoc {
  _id: string;
  connector: string;
  mode: string;
  state: string;
  startedAt: string;
  finishedAt: string | null;
  figures: typeof FIGURES;
  details: typeof OLD_DETAILS;
  error: string | null;
}

const FIGURES = { apiCalls: 1, pages: 1, retries: 0, groups: 3, users: 4, memberships: 5, errors: 0 };

describe('pre-warm runs written before drift snapshots', () => {
  it('read back from SQLite with driftSummary null', async () => {
    const path = join(dir, 'old.db');
    await openSqliteStore(path).close();
    const raw = new Database(path);
    raw
      .prepare(
        `INSERT INTO prewarm_runs (id, connector, mode, state, started_at, finished_at, figures, details, error)
         VALUES ('old-run', 'demo', 'full', 'succeeded', '2025-01-01T00:00:00.000Z', '2025-01-01T00:01:00.000Z', ?, ?, NULL)`,
      )
      .run(JSON.stringify(FIGURES), JSON.stringify(OLD_DETAILS));
    raw.close();
    const store = openSqliteStore(path);
    try {
      expect((await store.getPrewarmRun('old-run'))?.details).toEqual({ ...OLD_DETAILS, driftSummary: null });
    } finally {
      await store.close();
    }
  });

  it('read back from MongoDB with driftSummary null', async () => {
    const { url, database } = freshDatabaseUrl('drift-compat');
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000, socketTimeoutMS: 30_000 });
    const store = await openMongoStore(url);
    try {
      // As an older jitsync wrote it (store/mongo/documents.ts PrewarmRunDoc, without driftSummary).
      await client.db(database).collection<OldRunDoc>('prewarm_runs').insertOne({
        _id: 'old-run',
        connector: 'demo',
        mode: 'full',
        state: 'succeeded',
        startedAt: '2025-01-01T00:00:00.000Z',
        finishedAt: '2025-01-01T00:01:00.000Z',
        figures: FIGURES,
        details: OLD_DETAILS,
        error: null,
      });
      expect((await store.getPrewarmRun('old-run'))?.details).toEqual({ ...OLD_DETAILS, driftSummary: null });
    } finally {
      await store.close();
      await client.db(database).dropDatabase();
      await client.close();
    }
  });
});
