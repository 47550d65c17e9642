import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../types.js';
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
    db.pragma('journal_mode = WAL');
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

function createSqliteStore(db: Database.Database, path: string, checkpointer: Checkpointer | null, busyTimeoutMs: number): Store {
  const accounts = createAccountQueries(db);
  const organizations = createOrganizationQueries(db);
  const invitations = createInvitationQueries(db);
  const cache = createDirectoryCacheQueries(db);
  const syncStates = createSyncStateQueries(db);
  const leases = createLeaseQueries(db);
  const runs = createPrewarmRunQueries(db);
  const audit = createAuditQueries(db);
  const ping = db.prepare<[], number>('SELECT 1').pluck();
  const version = db.prepare<[], string>('SELECT sqlite_version()').pluck().get() ?? 'unknown';
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const probe = db.prepare<[string]>('INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at');

  // The interface is asynchronous for the networked backends; better-sqlite3 answers at once,
  // and `withLockWait` makes each call a promise that waits out another writer's lock.
  const methods = everyMethod<Omit<Store, 'describe' | 'details' | 'close'>>({
    ping: () => {
      ping.get();
    },
    probeWrite: () => {
      probe.run(new Date().toISOString());
    },
    // SQLite bumps data_version when another connection commits to the file.
    changeToken: () => String(dataVersion.get()),

    getAccount: (userId) => accounts.get(userId),
    findAccountByIdentity: (identity) => accounts.findByIdentity(identity),
    findAccountByEmail: (email) => accounts.findByEmail(email),
    createAccount: (user, memberships, now) => accounts.create(user, memberships, now),
    updateAccount: (userId, updater, now) => accounts.update(userId, updater, now),
    listGroupMembers: (organization, group) => accounts.listGroupMembers(organization, group),
    countUsers: () => accounts.countUsers(),
    listAccounts: ({ afterId, limit }) => accounts.listPage(afterId ?? '', limit),

    listOrganizations: () => organizations.list(),
    getOrganization: (key) => organizations.get(key),
    createOrganization: (org) => organizations.create(org),
    ensureOrganization: (org) => organizations.ensure(org),
    addGroup: (organization, group) => organizations.addGroup(organization, group),

    createInvitation: (invitation) => invitations.create(invitation),
    pendingInvitations: (email) => invitations.pending(email),
    listPendingInvitations: () => invitations.allPending(),
    acceptInvitations: (ids, userId, now) => invitations.accept(ids, userId, now),

    getCachedUser: (connector, subject) => cache.getUser(connector, subject),
    putCachedUser: (user) => cache.putUser(user),
    putCachedUsers: (users) => cache.putUsers(users),
    listCachedUsers: (connector) => cache.listUsers(connector),
    getCachedUsers: (connector, subjects) => cache.getUsers(connector, subjects),
    countCachedMemberships: (connector) => cache.countMemberships(connector),
    putCachedGroups: (groups) => cache.putGroups(groups),
    replaceCachedGroups: (connector, groups) => cache.replaceGroups(connector, groups),
    deleteCachedGroups: (connector, ids) => cache.deleteGroups(connector, ids),
    listCachedGroups: (connector) => cache.listGroups(connector),

    getSyncState: (userId, connector) => syncStates.get(userId, connector),
    putSyncState: (state) => syncStates.put(state),
    putSyncStates: (states) => syncStates.putMany(states),
    recordLoginTimes: (times) => syncStates.recordLoginTimes(times),
    listSyncStates: (connector) => syncStates.list(connector),

    acquireLease: (name, holder, ttlMs, now) => leases.acquire(name, holder, ttlMs, now),
    releaseLease: (name, holder) => leases.release(name, holder),

    putPrewarmRun: (run) => runs.put(run),
    getPrewarmRun: (id) => runs.get(id),
    getConnectorState: (connector) => runs.getConnectorState(connector),
    putConnectorState: (state) => runs.putConnectorState(state),

    appendAudit: (entry) => audit.append(entry),
    listAudit: (filter) => audit.list(filter),
  }, (call) => withLockWait(call, { busyTimeoutMs, location: path }));
  return {
    describe: () => `sqlite ${version} (${path})`,
    details: () => ({ server: `SQLite ${version}`, writeMode: 'transactions' }),
    async close() {
      await checkpointer?.stop();
      if (db.open) db.close();
    },
    ...methods,
  };
}
