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
import { migrate } from './migrations.js';
import { createOrganizationQueries } from './organizations.js';
import { createPrewarmRunQueries } from './prewarm-runs.js';
import { createSyncStateQueries } from './sync-state.js';

const MEMORY = ':memory:';

/**
 * Opens (creating if needed) the embedded store: one SQLite file, shared safely by several
 * processes through WAL and write transactions that wait up to `busy_timeout` for the lock.
 */
export function openSqliteStore(path: string): Store {
  if (path !== MEMORY) mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(path);
  try {
    // First, so that the pragmas and migrations below wait for another process's lock.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // With WAL, NORMAL loses no committed data when the process dies (only on power loss) and
    // spares the login path an fsync per write.
    db.pragma('synchronous = NORMAL');
    migrate(db);
    if (path === MEMORY) return createSqliteStore(db, path, null);
    // Checkpoints run in a worker (see checkpointer.ts); should it fail, SQLite's own take over.
    db.pragma('wal_autocheckpoint = 0');
    const checkpointer = startCheckpointer(resolve(path), 1_000, () => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    });
    return createSqliteStore(db, path, checkpointer);
  } catch (error) {
    db.close();
    throw error;
  }
}

function createSqliteStore(db: Database.Database, path: string, checkpointer: Checkpointer | null): Store {
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

  // The interface is asynchronous for the networked backends; better-sqlite3 answers at once.
  // `async` turns a thrown error into a rejected promise, as callers of a Store expect.
  return {
    describe: () => `sqlite ${version} (${path})`,
    async ping() {
      ping.get();
    },
    async close() {
      await checkpointer?.stop();
      if (db.open) db.close();
    },
    // SQLite bumps data_version when another connection commits to the file.
    changeToken: async () => String(dataVersion.get()),

    getAccount: async (userId) => accounts.get(userId),
    findAccountByIdentity: async (identity) => accounts.findByIdentity(identity),
    findAccountByEmail: async (email) => accounts.findByEmail(email),
    createAccount: async (user, memberships, now) => accounts.create(user, memberships, now),
    updateAccount: async (userId, updater, now) => accounts.update(userId, updater, now),
    listGroupMembers: async (organization, group) => accounts.listGroupMembers(organization, group),
    countUsers: async () => accounts.countUsers(),
    listAccounts: async ({ afterId, limit }) => accounts.listPage(afterId ?? '', limit),

    listOrganizations: async () => organizations.list(),
    getOrganization: async (key) => organizations.get(key),
    createOrganization: async (org) => organizations.create(org),
    ensureOrganization: async (org) => organizations.ensure(org),
    addGroup: async (organization, group) => organizations.addGroup(organization, group),

    createInvitation: async (invitation) => invitations.create(invitation),
    pendingInvitations: async (email) => invitations.pending(email),
    listPendingInvitations: async () => invitations.allPending(),
    acceptInvitations: async (ids, userId, now) => invitations.accept(ids, userId, now),

    getCachedUser: async (connector, subject) => cache.getUser(connector, subject),
    putCachedUser: async (user) => cache.putUser(user),
    putCachedUsers: async (users) => cache.putUsers(users),
    listCachedUsers: async (connector) => cache.listUsers(connector),
    getCachedUsers: async (connector, subjects) => cache.getUsers(connector, subjects),
    countCachedMemberships: async (connector) => cache.countMemberships(connector),
    putCachedGroups: async (groups) => cache.putGroups(groups),
    replaceCachedGroups: async (connector, groups) => cache.replaceGroups(connector, groups),
    deleteCachedGroups: async (connector, ids) => cache.deleteGroups(connector, ids),
    listCachedGroups: async (connector) => cache.listGroups(connector),

    getSyncState: async (userId, connector) => syncStates.get(userId, connector),
    putSyncState: async (state) => syncStates.put(state),
    putSyncStates: async (states) => syncStates.putMany(states),
    listSyncStates: async (connector) => syncStates.list(connector),

    acquireLease: async (name, holder, ttlMs, now) => leases.acquire(name, holder, ttlMs, now),
    releaseLease: async (name, holder) => leases.release(name, holder),

    putPrewarmRun: async (run) => runs.put(run),
    getPrewarmRun: async (id) => runs.get(id),
    getConnectorState: async (connector) => runs.getConnectorState(connector),
    putConnectorState: async (state) => runs.putConnectorState(state),

    appendAudit: async (entry) => audit.append(entry),
    listAudit: async (filter) => audit.list(filter),
  };
}
