import type { Account, CachedUser, Store, SyncState } from './types.js';

/** Told of each write that went through an observed store, after it committed. */
export interface WriteListener {
  accountWritten(account: Account): void;
  syncStateWritten(state: SyncState): void;
  /** Directory cache entries, as written. */
  cachedUsersWritten(users: readonly CachedUser[]): void;
  /** A connector's cached group list or its state (cursor, last complete run). */
  connectorWritten(connector: string): void;
  /** A write to anything else a derived view may read (organizations, invitations), or a failed write. */
  otherWrite(): void;
}

/**
 * The store, with every committed write reported to `listener` (in commit order on SQLite, whose
 * writes complete synchronously). Every write method is listed: a new one must choose its event.
 * Leases, pre-warm runs and the audit log feed no derived view and report nothing.
 */
export function observeWrites(store: Store, listener: WriteListener): Store {
  // Told once the write committed; a failed one may have been applied in part: `otherWrite`.
  const then = async <T>(write: Promise<T>, tell: () => void): Promise<T> => {
    let result: T;
    try {
      result = await write;
    } catch (error) {
      listener.otherWrite();
      throw error;
    }
    tell();
    return result;
  };
  const other = <T>(write: Promise<T>): Promise<T> => then(write, () => listener.otherWrite());
  return {
    describe: () => store.describe(),
    details: () => store.details(),
    ping: () => store.ping(),
    probeWrite: () => store.probeWrite(),
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
    getCachedUsers: (connector, subjects) => store.getCachedUsers(connector, subjects),
    countCachedMemberships: (connector) => store.countCachedMemberships(connector),
    putCachedUser: (user) => then(store.putCachedUser(user), () => listener.cachedUsersWritten([user])),
    putCachedUsers: (users) => then(store.putCachedUsers(users), () => listener.cachedUsersWritten(users)),
    listCachedUsers: (connector) => store.listCachedUsers(connector),
    putCachedGroups: (groups) =>
      then(store.putCachedGroups(groups), () => {
        for (const connector of new Set(groups.map((g) => g.connector))) listener.connectorWritten(connector);
      }),
    replaceCachedGroups: (connector, groups) =>
      then(store.replaceCachedGroups(connector, groups), () => listener.connectorWritten(connector)),
    deleteCachedGroups: (connector, ids) => then(store.deleteCachedGroups(connector, ids), () => listener.connectorWritten(connector)),
    listCachedGroups: (connector) => store.listCachedGroups(connector),

    getSyncState: (userId, connector) => store.getSyncState(userId, connector),
    async putSyncState(state) {
      await store.putSyncState(state);
      listener.syncStateWritten(state);
    },
    putSyncStates: (states) =>
      then(store.putSyncStates(states), () => {
        for (const state of states) listener.syncStateWritten(state);
      }),
    // Login times feed no derived view.
    recordLoginTimes: (times) => store.recordLoginTimes(times),
    listSyncStates: (connector) => store.listSyncStates(connector),

    acquireLease: (name, holder, ttlMs, now) => store.acquireLease(name, holder, ttlMs, now),
    releaseLease: (name, holder) => store.releaseLease(name, holder),

    putPrewarmRun: (run) => store.putPrewarmRun(run),
    getPrewarmRun: (id) => store.getPrewarmRun(id),
    getConnectorState: (connector) => store.getConnectorState(connector),
    putConnectorState: (state) => then(store.putConnectorState(state), () => listener.connectorWritten(state.connector)),

    appendAudit: (entry) => store.appendAudit(entry),
    listAudit: (filter) => store.listAudit(filter),
  };
}
