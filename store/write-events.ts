import type { Account, CachedUser, ChangeEvent, ChangeListener, StoreMethods, SyncState } from './types.js';

/**
 * How each store method shows in the change feed (`Store.onChange`), for every method of every
 * store part: a new method does not compile until it is listed here.
 *
 * - `read`: reads only; reports nothing.
 * - `silent`: writes what no derived view reads (leases, runs, audit, login times, SCIM
 *   resources, the write probe); reports nothing, not even a failure.
 * - a function: the events of the committed write, from its arguments and its answer. A failed
 *   call reports `other` instead, since on MongoDB it may have been applied in part.
 *
 * Both backends run every call through `reportWrites`, so no write reaches the store unreported.
 */
type Events<K extends keyof StoreMethods> = StoreMethods[K] extends (...args: infer A) => Promise<infer R>
  ? (args: A, result: R) => ChangeEvent[]
  : never;

export type WriteEvents = { [K in keyof StoreMethods]: 'read' | 'silent' | Events<K> };

const OTHER: ChangeEvent[] = [{ kind: 'other' }];
const other = (): ChangeEvent[] => OTHER;

export const WRITE_EVENTS: WriteEvents = {
  ping: 'read',
  probeWrite: 'silent',
  changeToken: 'read',

  getAccount: 'read',
  findAccountByIdentity: 'read',
  findAccountByEmail: 'read',
  createAccount: (_args, account) => [{ kind: 'account', account }],
  updateAccount: (_args, outcome) => (outcome.changed ? [{ kind: 'account', account: outcome.account }] : []),
  listGroupMembers: 'read',
  countUsers: 'read',
  listAccounts: 'read',

  listOrganizations: 'read',
  getOrganization: 'read',
  createOrganization: other,
  ensureOrganization: other,
  addGroup: other,

  createInvitation: other,
  pendingInvitations: 'read',
  listPendingInvitations: 'read',
  acceptInvitations: other,

  getCachedUser: 'read',
  putCachedUser: ([user]) => [{ kind: 'cached-users', users: [user] }],
  putCachedUsers: ([users]) => [{ kind: 'cached-users', users }],
  listCachedUsers: 'read',
  getCachedUsers: 'read',
  countCachedMemberships: 'read',
  putCachedGroups: ([groups]) => [...new Set(groups.map((g) => g.connector))].map((connector) => ({ kind: 'connector', connector })),
  replaceCachedGroups: ([connector]) => [{ kind: 'connector', connector }],
  deleteCachedGroups: ([connector]) => [{ kind: 'connector', connector }],
  listCachedGroups: 'read',

  getSyncState: 'read',
  listSyncStates: 'read',
  putSyncState: ([state]) => [{ kind: 'sync-state', state }],
  recordLogin: (_args, state) => [{ kind: 'sync-state', state }],
  // Login times feed no derived view.
  recordLoginTimes: 'silent',
  recordPrewarmSightings: (_args, states) => states.map((state) => ({ kind: 'sync-state', state })),

  acquireLease: 'silent',
  releaseLease: 'silent',

  putPrewarmRun: 'silent',
  getPrewarmRun: 'read',
  getConnectorState: 'read',
  putConnectorState: ([state]) => [{ kind: 'connector', connector: state.connector }],

  appendAudit: 'silent',
  listAudit: 'read',

  // SCIM resources feed no derived view themselves: daemon/scim writes the cache they imply.
  getScimResource: 'read',
  listScimResources: 'read',
  findScimResources: 'read',
  getScimResources: 'read',
  existingScimIds: 'read',
  createScimResource: 'silent',
  updateScimResource: 'silent',
  deleteScimResource: 'silent',
  scimGroupsOfUsers: 'read',
};

/** The methods that write (reported or not): the ones the background thread forwards. */
export const WRITE_METHODS = (Object.keys(WRITE_EVENTS) as Array<keyof StoreMethods>).filter((name) => WRITE_EVENTS[name] !== 'read');

/** The listeners of one store object. */
export interface ChangeFeed {
  subscribe(listener: ChangeListener): () => void;
  /**
   * Runs one store call (`name` with `args`) and reports its write: the events `WRITE_EVENTS`
   * lists once it committed, `other` when it failed.
   */
  report<R>(name: string, args: readonly unknown[], call: () => Promise<R>): Promise<R>;
}

export function createChangeFeed(): ChangeFeed {
  const listeners = new Set<ChangeListener>();
  const emit = (events: readonly ChangeEvent[]) => {
    for (const event of events) for (const listener of listeners) listener(event);
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async report(name, args, call) {
      const events = (WRITE_EVENTS as Record<string, WriteEvents[keyof WriteEvents] | undefined>)[name];
      if (events === undefined) throw new Error(`store method without a write-events entry: ${name}`);
      if (typeof events !== 'function') return call();
      let result;
      try {
        result = await call();
      } catch (error) {
        if (listeners.size > 0) emit(OTHER);
        throw error;
      }
      if (listeners.size > 0) emit((events as (args: readonly unknown[], result: unknown) => ChangeEvent[])(args, result));
      return result;
    },
  };
}

/** A consumer of the change feed with one method per kind of event (the drift model). */
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

/** Tells `listener` of the write `event` describes. */
export function applyChangeEvent(listener: WriteListener, event: ChangeEvent): void {
  switch (event.kind) {
    case 'account':
      return listener.accountWritten(event.account);
    case 'sync-state':
      return listener.syncStateWritten(event.state);
    case 'cached-users':
      return listener.cachedUsersWritten(event.users);
    case 'connector':
      return listener.connectorWritten(event.connector);
    case 'other':
      return listener.otherWrite();
  }
}
