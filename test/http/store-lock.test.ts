import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * Another process (a second replica, `jitsync prewarm` from the CLI, a backup tool) holds the
 * SQLite write lock. The daemon keeps answering: logins that must write get `503 store_busy`
 * once `server.storeBusyTimeout` has passed, logins that change nothing answer as usual, and
 * once the lock is released everything writes again, once.
 */

let d: TestDaemon;
let other: Database.Database | null = null;
afterEach(async () => {
  if (other?.inTransaction) other.exec('ROLLBACK');
  other?.close();
  other = null;
  await d?.stop();
});

const ada = { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };
const grace = { subject: '00u2grace', email: 'grace@example.com', name: 'Grace Hopper' };

/** A second connection, as another process has, holding the write lock until released. */
function holdWriteLock(path: string): Database.Database {
  const db = new Database(path);
  db.exec('BEGIN IMMEDIATE');
  return db;
}

describe('another writer holds the SQLite lock', () => {
  it('answers health checks and no-change logins, refuses writing logins with 503 store_busy, and writes once the lock is gone', async () => {
    d = await startDaemon({ server: '  storeBusyTimeout: 300ms' });
    expect((await d.login(ada)).status).toBe(200);

    other = holdWriteLock(join(d.dir, 'jitsync.db'));

    expect((await d.call('GET', '/healthz')).status).toBe(200);
    const unchanged = await d.login(ada);
    expect(unchanged.status).toBe(200);
    expect(unchanged.body.changes.added).toEqual([]);

    // Grace's first login must write (the live look-up's cache entry, then her account).
    const busy = await d.login(grace);
    expect(busy.status).toBe(503);
    expect(busy.body.error.code).toBe('store_busy');
    expect(busy.headers.get('retry-after')).toBe('1');
    // A busy store is transient: the replica stays in its load balancer.
    expect((await d.call('GET', '/readyz')).status).toBe(200);
    expect((await d.call('GET', '/v1/users?email=grace@example.com')).body.users).toEqual([]);

    other.exec('ROLLBACK');
    const created = await d.login(grace);
    expect(created.status).toBe(200);
    expect(created.body.user.created).toBe(true);
    expect((await d.login(grace)).body.user.created).toBe(false);
    expect(await d.daemon.store.countUsers()).toBe(2);
  });

  it('waits for a lock released within the timeout and then answers as usual', async () => {
    d = await startDaemon({ server: '  storeBusyTimeout: 5s' });
    other = holdWriteLock(join(d.dir, 'jitsync.db'));
    const release = setTimeout(() => other?.exec('ROLLBACK'), 200);
    try {
      const answer = await d.login(grace);
      expect(answer.status).toBe(200);
      expect(answer.body.user.created).toBe(true);
    } finally {
      clearTimeout(release);
    }
  });
});

describe('login times', () => {
  it('a login that changes nothing writes no sync state of its own; its time is written by the batch, at the latest on a clean stop', async () => {
    d = await startDaemon();
    const first = await d.login(ada);
    const userId: string = first.body.user.id;
    const before = (await d.daemon.store.getSyncState(userId, 'demo'))!;

    // Held off: a write now would fail, and the no-change login must not need one.
    other = holdWriteLock(join(d.dir, 'jitsync.db'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await d.login(ada)).status).toBe(200);
    expect((await d.daemon.store.getSyncState(userId, 'demo'))!.lastLoginAt).toBe(before.lastLoginAt);
    other.exec('ROLLBACK');

    d = await d.restart();
    const after = (await d.daemon.store.getSyncState(userId, 'demo'))!;
    expect(after.lastLoginAt! > before.lastLoginAt!).toBe(true);
    expect(after.lastReconciledAt).toBe(after.lastLoginAt);
    expect(after.appliedGroups).toEqual(before.appliedGroups);
  });
});
