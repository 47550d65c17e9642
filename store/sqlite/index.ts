import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Store, StoreMethods } from '../types.js';
import { createChangeFeed } from '../write-events.js';
import { createAccountQueries } from './accounts.js';
import { createAuditQueries } from './audit.js';
import { createDirectoryCacheQueries } from './directory-cache.js';
import { createInvitationQueries } from './invitations.js';
import { createLeaseQueries } from './leases.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { withLockWait } from './lock-wait.js';
import { everyMethod } from '../every-method.js';
import { migrate } from './migrations.js';
import { createOrganizationQueries } from './organizations.js';
import { createPrewarmRunQueries } from './prewarm-runs.js';
import { createScimMethods } from './scim.js';
import { createSyncStateQueries } from './sync-state.js';

const MEMORY = ':memory:';

export interface SqliteStoreOptions {
  /** How long a call waits, asynchronously, for another writer's lock (see lock-wait.ts). Default 2 s. */
  busyTimeoutMs?: number;
  /**
   * Whether this connection writes, and so runs the WAL checkpoints (default true). A connection
   * that only reads (the daemon's background thread) leaves them to the writing one: two
   * checkpointers on one file only get in each other's way.
   */
  writer?: boolean;
}

/**
 * Opens (creating if needed) the embedded store: one SQLite file, shared safely by several
 * processes through WAL and write transactions that wait for another writer's lock off the
 * event loop.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  if (path !== MEMORY) mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(path);
  try {
    // First, so that the pragmas and migrations below wait for another process's lock: at start,
    // nothing else is served yet, so SQLite's own (blocking) wait is fine.
    db.pragma('busy_timeout = 5000');
    switchToWal(db);
    db.pragma('foreign_keys = ON');
    // With WAL, NORMAL loses no committed data when the process dies (only on power loss) and
    // spares the login path an fsync per write.
    db.pragma('synchronous = NORMAL');
    migrate(db);
    // From here on a lock is waited for asynchronously (lock-wait.ts), never on the event loop.
    db.pragma('busy_timeout = 0');
    const busyTimeoutMs = options.busyTimeoutMs ?? 2_000;
    if (path === MEMORY || options.writer === false) return createSqliteStore(db, path, null, busyTimeoutMs);
    // Checkpoints run in a worker (see checkpointer.ts); should it fail, SQLite's own take over.
    db.pragma('wal_autocheckpoint = 0');
    const checkpointer = startCheckpointer(resolve(path), 1_000, () => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    });
    return createSqliteStore(db, path, checkpointer, busyTimeoutMs);
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * `journal_mode = WAL`, tried again while another process opening the same new file holds the
 * lock: SQLite answers SQLITE_BUSY at once there, without its busy handler, where waiting could
 * deadlock. At start nothing is served yet, so the wait may block (up to 5 s, as above).
 */
function switchToWal(db: Database.Database): void {
  const deadline = Date.now() + 5_000;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!(error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY') || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

function createSqliteStore(db: Database.Database, path: string, checkpointer: Checkpointer | null, busyTimeoutMs: number): Store {
  const ping = db.prepare<[], number>('SELECT 1').pluck();
  const version = db.prepare<[], string>('SELECT sqlite_version()').pluck().get() ?? 'unknown';
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const probe = db.prepare<[string]>('INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at');
  const changes = createChangeFeed();

  // The interface is asynchronous for the networked backends; better-sqlite3 answers at once,
  // and `withLockWait` makes each call a promise that waits out another writer's lock. Each
  // write is reported once it committed (synchronously: in commit order).
  const methods = everyMethod<StoreMethods>(
    {
      ping: () => {
        ping.get();
      },
      probeWrite: () => {
        probe.run(new Date().toISOString());
      },
      // SQLite bumps data_version when another connection commits to the file.
      changeToken: () => String(dataVersion.get()),
      ...createAccountQueries(db),
      ...createOrganizationQueries(db),
      ...createInvitationQueries(db),
      ...createDirectoryCacheQueries(db),
      ...createSyncStateQueries(db),
      ...createLeaseQueries(db),
      ...createPrewarmRunQueries(db),
      ...createAuditQueries(db),
      ...createScimMethods(db),
    },
    (name, args, call) => changes.report(name, args, () => withLockWait(call, { busyTimeoutMs, location: path, isOpen: () => db.open })),
  );
  return {
    describe: () => `sqlite ${version} (${path})`,
    details: () => ({ server: `SQLite ${version}`, writeMode: 'transactions' }),
    onChange: (listener) => changes.subscribe(listener),
    async close() {
      await checkpointer?.stop();
      if (db.open) db.close();
    },
    ...methods,
  };
}
