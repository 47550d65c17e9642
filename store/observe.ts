import type { Account, Store, SyncState } from './types.js';

/** Told of each write that went through an observed store, after it committed. */
export interface WriteListener {
  accountWritten(account: Account): void;
  syncStateWritten(state: SyncState): void;
  /** A write to anything else a derived view may read: organizations, invitations, the cache, connector state. */
  otherWrite(): void;
}

/**
 * The store, with every committed write reported to `listener` (in commit order on SQLite, whose
 * writes complete synchronously). Every write method is listed: a new one must choose its event.
 * Leases, pre-warm runs and the audit log feed no derived view and report nothing.
 */
export function observeWrites(store: Store, listener: WriteListener): Store {
  // Told even when the write fails: a partly applied bulk write must not be missed.
  const other = async <T>(write: Promise<T>): Promise<T> => {
    try {
      return await write;
    } finally {
      listener.otherWrite();
    }
  };
  return {
    describe: () => store.describe(),
    ping: () => store.ping(),
    close: () => store.close(),
    changeToken: () => store.changeToken(),

    getAccount: (userId) => store.getAccount(userId),
    findAccountByIdentity: (identity) => store.findAccountByIdentity(identity),
    findAccountByEmail: (email) => store.findAccountByEmail(email),
    async createAccount(user, memberships, now) {
      const account = await store.createAccount(user, memberships, now);
      listener.accountWritten(account);
      return account;
    },
    async updateAccount(userId, updater, now) {
      const outcome = await store.updateAccount(userId, updater, now);
      if (outcome.changed) listener.accountWritten(outcome.account);
      return outcome;
    },
    listGroupMembers: (organization, group) => store.listGroupMembers(organization, group),
    countUsers: () => store.countUsers(),
    listAccounts: (page) => store.listAccounts(page),

    listOrganizations: () => store.listOrganizations(),
    getOrganization: (key) => store.getOrganization(key),
    createOrganization: (org) => other(store.createOrganization(org)),
    ensureOrganization: (org) => other(store.ensureOrganization(org)),
    addGroup: (organization, group) => other(store.addGroup(organization, group)),

    createInvitation: (invitation) => other(store.createInvitation(invitation)),
    pendingInvitations: (email) => store.pendingInvitations(email),
    listPendingInvitations: () => store.listPendingInvitations(),
    acceptInvitations: (ids, userId, now) => other(store.acceptInvitations(ids, userId, now)),

    getCachedUser: (connector, subject) => store.getCachedUser(connector, subject),
    putCachedUser: (user) => other(store.putCachedUser(user)),
    putCachedUsers: (users) => other(store.putCachedUsers(users)),
    listCachedUsers: (connector) => store.listCachedUsers(connector),
    putCachedGroups: (groups) => other(store.putCachedGroups(groups)),
    replaceCachedGroups: (connector, groups) => other(store.replaceCachedGroups(connector, groups)),
    deleteCachedGroups: (connector, ids) => other(store.deleteCachedGroups(connector, ids)),
    listCachedGroups: (connector) => store.listCachedGroups(connector),

    getSyncState: (userId, connector) => store.getSyncState(userId, connector),
    async putSyncState(state) {
      await store.putSyncState(state);
      listener.syncStateWritten(state);
    },
    putSyncStates: (states) => other(store.putSyncStates(states)),
    listSyncStates: (connector) => store.listSyncStates(connector),

    acquireLease: (name, holder, ttlMs, now) => store.acquireLease(name, holder, ttlMs, now),
    releaseLease: (name, holder) => store.releaseLease(name, holder),

    putPrewarmRun: (run) => store.putPrewarmRun(run),
    getPrewarmRun: (id) => store.getPrewarmRun(id),
    getConnectorState: (connector) => store.getConnectorState(connector),
    putConnectorState: (state) => other(store.putConnectorState(state)),

    appendAudit: (entry) => store.appendAudit(entry),
    listAudit: (filter) => store.listAudit(filter),
  };
}
