import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/open.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { MIGRATIONS, migrate } from '../../store/sqlite/migrations.js';
import { classifySqliteError } from '../../store/sqlite/lock-wait.js';
import { AlreadyExistsError, StoreBusyError, StoreError, StoreUnavailableError, type Membership } from '../../store/types.js';
import { describeStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'jitsync-sqlite-contract-'));
let n = 0;
const freshPath = (): string => join(dir, `store-${++n}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// As the daemon opens it (daemon/main.ts).
describeStoreContract('sqlite', () => openStore({ kind: 'sqlite', path: freshPath() }));

// SQLite-only behaviour: files, migrations, input checks and several processes on one file.
describe('sqlite store', () => {
  const T0 = '2025-03-01T08:00:00.000Z';
  const user = { id: 'u1', username: 'ada', email: 'Ada@Example.com', name: 'Ada', identities: [] };

  it('keeps its data when the file is reopened and migrates only once', async () => {
    const path = join(dir, 'nested', 'folder', 'jitsync.db');
    const first = openSqliteStore(path);
    await first.createAccount(user, [{ organization: 'OrgA', group: 'Admins', source: 'sync' }], T0);
    await first.close();

    const second = openSqliteStore(path);
    const account = await second.findAccountByEmail('ada@example.com');
    expect(account?.memberships).toEqual([{ organization: 'OrgA', group: 'Admins', source: 'sync' }]);
    await second.close();

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('migrates a version 4 file with rows: its sync states keep every field but the stored pending changes', async () => {
    const path = freshPath();
    const raw = new Database(path);
    migrate(raw, MIGRATIONS.filter((m) => m.version <= 4));
    raw.prepare(`INSERT INTO users (id, username, email, name, version, created_at, updated_at) VALUES ('u1', 'ada', 'ada@example.com', 'Ada', 1, ?, ?)`).run(T0, T0);
    raw.prepare(
      `INSERT INTO sync_states (user_id, connector, subject, applied_groups, last_login_at, last_reconciled_at,
         last_seen_by_prewarm_at, pending_add, pending_remove, status, last_error)
       VALUES ('u1', 'okta', '00u1', '["Engineering"]', ?, ?, ?, '[{"organization":"OrgA","group":"G","source":"sync"}]', '[]', 'stale', 'idp timeout')`,
    ).run(T0, T0, T0);
    raw.close();

    const store = openSqliteStore(path);
    try {
      expect(await store.getSyncState('u1', 'okta')).toEqual({
        userId: 'u1',
        connector: 'okta',
        subject: '00u1',
        appliedGroups: ['Engineering'],
        lastLoginAt: T0,
        lastReconciledAt: T0,
        lastSeenByPrewarmAt: T0,
        status: 'stale',
        lastError: 'idp timeout',
      });
      expect((await store.getAccount('u1'))?.user.email).toBe('ada@example.com');
      // The migrated table takes the login's and pre-warm's writes.
      await store.recordPrewarmSightings([{ userId: 'u1', connector: 'okta', readLoginAt: T0, seenAt: T0 }]);
      expect(await store.getSyncState('u1', 'okta')).toMatchObject({ status: 'fresh', lastError: null });
    } finally {
      await store.close();
    }
    const migrated = new Database(path, { readonly: true });
    expect(migrated.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const columns = migrated.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)').all('sync_states');
    expect(columns.map((c) => c.name)).not.toContain('pending_add');
    // A SCIM user's groups come from a covering index (migration 6), never from a walk of every member.
    const plan = migrated
      .prepare<[], { detail: string }>("EXPLAIN QUERY PLAN SELECT group_id FROM scim_members WHERE connector = 'c' AND user_id = 'u' ORDER BY group_id")
      .all();
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/COVERING INDEX scim_members_by_user \(connector=\? AND user_id=\?\)/);
    migrated.close();
  });

  it('checkpoints the WAL from its worker, and leaves no WAL behind when closed', async () => {
    const path = freshPath();
    const store = openSqliteStore(path);
    const fileSize = () => statSync(path).size;
    const before = fileSize();
    // Each a commit of its own; the main connection never checkpoints (wal_autocheckpoint = 0).
    for (let i = 0; i < 500; i++) {
      await store.appendAudit({ at: T0, actor: 'test', action: 'account.created', userId: `u${i}`, details: { pad: 'x'.repeat(2_000) } });
    }
    // The pages reach the database file only through a checkpoint: the worker's, every second.
    // One may land while the writes are under way and copy only part of them: wait for all.
    const written = before + 500 * 2_000;
    const deadline = Date.now() + 5_000;
    while (fileSize() <= written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fileSize()).toBeGreaterThan(written);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('works in memory', async () => {
    const store = openSqliteStore(':memory:');
    await store.createAccount(user, [], T0);
    expect(await store.countUsers()).toBe(1);
    await store.close();
  });

  it('refuses a database written by a newer jitsync', () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openSqliteStore(path)).toThrow(/newer than this jitsync supports/);
  });

  it('rejects malformed memberships with a clear error and writes nothing', async () => {
    const store = openSqliteStore(freshPath());
    const twice: Membership[] = [
      { organization: 'OrgA', group: 'Admins', source: 'sync' },
      { organization: 'OrgA', group: 'Admins', source: 'manual' },
    ];
    await expect(store.createAccount(user, twice, T0)).rejects.toThrow(/membership listed twice: OrgA\/Admins/);
    expect(await store.countUsers()).toBe(0);

    await store.createAccount(user, [], T0);
    await expect(store.updateAccount('u1', () => ({ change: { name: 'X', memberships: twice }, result: null }), T0)).rejects.toBeInstanceOf(
      StoreError,
    );
    const account = await store.getAccount('u1');
    expect(account?.user.name).toBe('Ada');
    expect(account?.version).toBe(1);
    await expect(store.acquireLease('l', 'h', 1000, 'not a time')).rejects.toThrow(/not an ISO-8601 timestamp/);
    await store.close();
  });

  it('reports a corrupt JSON column as a StoreError naming the column, the row and the field', async () => {
    const path = freshPath();
    const store = openSqliteStore(path);
    const state = { userId: 'u1', connector: 'okta', subject: 's', appliedGroups: [], lastLoginAt: T0, lastReconciledAt: T0, status: 'fresh' as const, lastError: null };
    await store.recordLogin(state);
    await store.putCachedUser({ connector: 'okta', subject: 's', email: null, name: null, groups: ['a'], nestedGroups: [], fetchedAt: T0, origin: 'prewarm', absentSince: null });
    const raw = new Database(path);
    raw.prepare(`UPDATE sync_states SET applied_groups = '["a", 7]'`).run();
    raw.prepare(`UPDATE cached_users SET groups = '["a", 7'`).run();
    raw.close();
    await expect(store.getSyncState('u1', 'okta')).rejects.toThrow(/^malformed column sync_states\.applied_groups of \(u1, okta\): 1: /);
    await expect(store.listSyncStates()).rejects.toBeInstanceOf(StoreError);
    await expect(store.getCachedUser('okta', 's')).rejects.toThrow('malformed column cached_users.groups of (okta, s): not valid JSON');
    await store.close();
  });

  it('waits for another writer\'s lock without blocking the event loop, and gives up with StoreBusyError', async () => {
    const path = freshPath();
    const store = openSqliteStore(path, { busyTimeoutMs: 200 });
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      const write = store.probeWrite();
      await expect(write).rejects.toBeInstanceOf(StoreBusyError);
      clearInterval(ticker);
      // The event loop kept turning while the write waited (a blocking wait gives 0 ticks).
      expect(ticks).toBeGreaterThan(10);
      // Reads go on meanwhile (WAL).
      expect(await store.countUsers()).toBe(0);

      const waiting = store.probeWrite();
      setTimeout(() => other.exec('ROLLBACK'), 50);
      await expect(waiting).resolves.toBeUndefined();
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await store.close();
    }
  });

  it('reads a full disk, an I/O error or a read-only file as StoreUnavailableError naming the file', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']) {
      const error = classifySqliteError(new Database.SqliteError('disk trouble', code), '/data/jitsync.db');
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toBe(`the SQLite store /data/jitsync.db cannot be used: disk trouble (${code})`);
    }
  });

  it('reads every other driver error as StoreUnavailableError, a taken unique key as AlreadyExistsError', () => {
    const trigger = classifySqliteError(new Database.SqliteError('refused by a trigger', 'SQLITE_CONSTRAINT_TRIGGER'), '/data/jitsync.db');
    expect(trigger).toBeInstanceOf(StoreUnavailableError);
    expect((trigger as Error).message).toBe('the SQLite store /data/jitsync.db cannot be used: refused by a trigger (SQLITE_CONSTRAINT_TRIGGER)');
    const taken = classifySqliteError(new Database.SqliteError('UNIQUE constraint failed: users.email', 'SQLITE_CONSTRAINT_UNIQUE'), '/x');
    expect(taken).toBeInstanceOf(AlreadyExistsError);
    expect(taken).toMatchObject({ key: 'email' });
    const closed = classifySqliteError(new TypeError('The database connection is not open'), '/data/jitsync.db', false);
    expect(closed).toBeInstanceOf(StoreUnavailableError);
    expect((closed as Error).message).toBe('the SQLite store /data/jitsync.db cannot be used: it is closed');
    // Not the driver's: a bug stays a bug.
    const bug = new TypeError('x is not a function');
    expect(classifySqliteError(bug, '/data/jitsync.db')).toBe(bug);
  });

  it('serializes writers in separate processes sharing one file', async () => {
    const path = freshPath();
    const workers = 4;
    const updatesPerWorker = 60;
    const results = await runWorkers(path, workers, updatesPerWorker);

    // Every process migrated the new file without error; exactly one created the person and
    // exactly one holds the lease.
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.filter((r) => r.leased)).toHaveLength(1);

    const store = openSqliteStore(path);
    expect(await store.countUsers()).toBe(1);
    const account = await store.findAccountByEmail('grace@example.com');
    expect(account?.version).toBe(1 + workers * updatesPerWorker);
    expect(account?.memberships).toHaveLength(workers * updatesPerWorker);
    await store.close();
  });
});

interface WorkerResult {
  created: boolean;
  leased: boolean;
}

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/**
 * Starts `count` Node processes on one new database file. Each opens the store only once all
 * are ready (so migrations race too), tries to create the same person and take the same lease,
 * then adds `updates` memberships to that person, one `updateAccount` each.
 */
async function runWorkers(path: string, count: number, updates: number): Promise<WorkerResult[]> {
  const workDir = mkdtempSync(join(dir, 'workers-'));
  // The compiled store: `npm test` builds `dist/` before vitest runs.
  const store = pathToFileURL(join(repoRoot, 'dist/store/sqlite/index.js')).href;
  const script = join(workDir, 'worker.mjs');
  writeFileSync(script, WORKER_SOURCE);

  const children = Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, [script, store, path, String(i), String(updates)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  try {
    const outputs = children.map(
      (child) =>
        new Promise<string>((resolveOutput, reject) => {
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => {
            stdout += chunk.toString();
          });
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.on('error', reject);
          child.on('close', (code) =>
            code === 0 ? resolveOutput(stdout) : reject(new Error(`worker exited with ${code}: ${stderr}`)),
          );
        }),
    );
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((ready) => {
            child.stdout.once('data', () => ready());
          }),
      ),
    );
    for (const child of children) child.stdin.end('go\n');
    const lines = await Promise.all(outputs);
    return lines.map((out) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      const parsed: unknown = JSON.parse(last);
      if (typeof parsed !== 'object' || parsed === null || !('created' in parsed) || !('leased' in parsed)) {
        throw new Error(`unexpected worker output: ${out}`);
      }
      return { created: parsed.created === true, leased: parsed.leased === true };
    });
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

const WORKER_SOURCE = `
const [storeModule, path, worker, updates] = process.argv.slice(2);
const { openSqliteStore } = await import(storeModule);
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  try {
    const store = openSqliteStore(path);
    const now = '2025-03-01T08:00:00.000Z';
    let created = false;
    try {
      await store.createAccount(
        { id: 'grace-' + worker, username: 'grace' + worker, email: 'Grace@Example.com', name: 'Grace', identities: [] },
        [], now);
      created = true;
    } catch (error) {
      if (error.name !== 'AlreadyExistsError') throw error;
    }
    const leased = await store.acquireLease('prewarm:okta', 'worker-' + worker, 60000, now);
    const account = await store.findAccountByEmail('grace@example.com');
    for (let i = 0; i < Number(updates); i++) {
      await store.updateAccount(account.user.id, (current) => ({
        change: { memberships: [...current.memberships, { organization: 'OrgA', group: 'w' + worker + '-' + i, source: 'manual' }] },
        result: null,
      }), new Date().toISOString());
    }
    await store.close();
    process.stdout.write(JSON.stringify({ created, leased }) + '\\n');
  } catch (error) {
    process.stderr.write(String(error && error.stack || error));
    process.exit(1);
  }
});
`;
