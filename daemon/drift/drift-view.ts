import type { Account, CachedUser, Invitation, Store, SyncState } from '../../store/types.js';
import type { WriteListener } from '../../store/write-events.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  buildDriftModelSteps,
  noteSyncState,
  updateCacheEntries,
  updateDriftModel,
  type ConnectorDriftData,
  type DriftModel,
} from './model.js';

export interface DriftViewDeps {
  /** The store it reads (it is told of writes through `WriteListener`). */
  store: Store;
  connectorIds: readonly string[];
  settingsFor(connectorId: string): ProvisioningSettings;
  /**
   * Changes when a process other than this one wrote (default: the store's `changeToken`). The
   * background thread is handed the token of the connection that makes this process's writes.
   */
  changeToken?: () => Promise<string | null>;
  /** Accounts read per `listAccounts` call. */
  pageSize?: number;
  /** Written accounts are folded into the model in the background once this many wait (bounds memory). */
  absorbEvery?: number;
  /** More cache entries written than this between reports (a full pre-warm run): the next report rebuilds. */
  maxPendingCacheEntries?: number;
}

/**
 * The drift model kept between reports. Built in full from the store once (the costly part: it
 * reads and plans every user); afterwards a report costs only what was written since the previous one, which the
 * store's change feed reports (`WriteListener`): accounts, sync states, cache entries (an incremental
 * pre-warm run) and a connector's group list and state. A write to organizations or invitations,
 * a full pre-warm run's worth of cache entries, or a write by another process (the store's
 * `changeToken`) makes the next report rebuild. A report reflects every write that completed
 * before it was asked for.
 */
export interface DriftView extends WriteListener {
  current(): Promise<DriftModel>;
}

export function createDriftView(deps: DriftViewDeps): DriftView {
  const { store } = deps;
  const changeToken = deps.changeToken ?? (() => store.changeToken());
  const pageSize = deps.pageSize ?? 1_000;
  const absorbEvery = deps.absorbEvery ?? 1_000;
  const maxPendingCacheEntries = deps.maxPendingCacheEntries ?? 20_000;

  let model: DriftModel | null = null;
  let token: string | null = null;
  let building = false;
  // Bumped by every write the model cannot absorb: a model loaded across one is not kept.
  let generation = 0;
  // Writes since the model was read, applied at the next report (latest object per key).
  const pendingAccounts = new Map<string, Account>();
  const pendingSyncStates = new Map<string, SyncState>();
  const pendingCache = new Map<string, Map<string, CachedUser>>();
  let pendingCacheEntries = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const tracking = () => model !== null || building;

  function clearPending(): void {
    pendingAccounts.clear();
    pendingSyncStates.clear();
    pendingCache.clear();
    pendingCacheEntries = 0;
  }

  function drop(): void {
    generation++;
    model = null;
    clearPending();
  }

  async function rebuild(): Promise<DriftModel> {
    // Writes that complete from here on are applied after the load, which may or may not see them.
    clearPending();
    building = true;
    const started = generation;
    try {
      token = await changeToken();
      const built = await inTurns(buildDriftModelSteps(await load()));
      // Still answers this report (the write came after it was asked for), but is not kept.
      model = generation === started ? built : null;
      return built;
    } finally {
      building = false;
    }
  }

  async function refresh(): Promise<DriftModel> {
    const now = await changeToken();
    const current = model !== null && now !== null && now === token ? model : await rebuild();
    return (await absorb(current)) ? current : rebuild(); // false: a cache entry changed hands (rare)
  }

  /** Folds the pending writes into `target`; false when one cannot be folded in. */
  async function absorb(target: DriftModel): Promise<boolean> {
    for (const state of pendingSyncStates.values()) noteSyncState(target, state);
    pendingSyncStates.clear();
    const connectors = [...pendingCache];
    pendingCache.clear();
    pendingCacheEntries = 0;
    for (const [connector, entries] of connectors) {
      const [cachedGroups, state] = await Promise.all([store.listCachedGroups(connector), store.getConnectorState(connector)]);
      const data = { connector, cachedGroups, state };
      if (!(await updateCacheEntries(target, data, [...entries.values()], (userId) => store.getAccount(userId)))) return false;
    }
    while (pendingAccounts.size > 0) {
      const batch = [...pendingAccounts.values()];
      pendingAccounts.clear();
      for (const account of batch) {
        if (!(await updateDriftModel(target, account, (connector, subject) => store.getCachedUser(connector, subject)))) return false;
      }
    }
    return true;
  }

  function enqueue<T>(task: () => Promise<T>): Promise<T> {
    // One task at a time, each after the previous: every report sees the writes before it.
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  }

  async function load() {
    // On SQLite every read completes at once: the accounts come page by page with logins let in
    // between pages; each of the reads below is one block (the cache the longest).
    const accounts = await listAllAccounts();
    const [syncStates, organizations, invitations, connectors] = await Promise.all([
      store.listSyncStates(),
      store.listOrganizations(),
      store.listPendingInvitations(),
      Promise.all(
        deps.connectorIds.map(async (connector): Promise<ConnectorDriftData> => {
          const [cachedUsers, cachedGroups, state] = await Promise.all([
            store.listCachedUsers(connector),
            store.listCachedGroups(connector),
            store.getConnectorState(connector),
          ]);
          return { connector, settings: deps.settingsFor(connector), cachedUsers, cachedGroups, state };
        }),
      ),
    ]);
    return { connectors, accounts, syncStates, organizations, invitationsByEmail: groupByEmail(invitations), now: new Date() };
  }

  async function listAllAccounts(): Promise<Account[]> {
    const accounts: Account[] = [];
    let afterId: string | null = null;
    for (;;) {
      const page = await store.listAccounts({ afterId, limit: pageSize });
      for (const account of page) accounts.push(account);
      await nextTurn();
      const last = page.at(-1);
      if (page.length < pageSize || !last) return accounts;
      afterId = last.user.id;
    }
  }

  return {
    current: () => enqueue(refresh),
    accountWritten(account) {
      if (!tracking()) return;
      pendingAccounts.set(account.user.id, account);
      if (pendingAccounts.size === absorbEvery && model !== null) {
        // Never rebuilds here: a background rebuild would stall logins; the next report does it.
        void enqueue(async () => {
          if (model !== null && !(await absorb(model).catch(() => false))) drop();
        });
      }
    },
    syncStateWritten(state) {
      if (!tracking()) return;
      // A report reads only `error` and `stale` states: every login writes a sync state, and
      // keeping the fresh ones would only grow the heap.
      const key = `${state.userId}\u0000${state.connector}`;
      const matters =
        state.status === 'error' || state.status === 'stale' || building || pendingSyncStates.has(key) || model?.troubled.has(key) === true;
      if (matters) pendingSyncStates.set(key, state);
    },
    cachedUsersWritten(users) {
      if (!tracking()) return;
      if (pendingCacheEntries + users.length > maxPendingCacheEntries) {
        drop();
        return;
      }
      for (const user of users) {
        let entries = pendingCache.get(user.connector);
        if (!entries) pendingCache.set(user.connector, (entries = new Map()));
        if (!entries.has(user.subject)) pendingCacheEntries++;
        entries.set(user.subject, user);
      }
    },
    connectorWritten(connector) {
      if (!tracking()) return;
      if (!pendingCache.has(connector)) pendingCache.set(connector, new Map());
    },
    otherWrite() {
      drop();
    },
  };
}

/** Runs the steps of a long build, letting the event loop (logins) in between steps. */
async function inTurns<T>(steps: Generator<void, T, void>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

function groupByEmail(invitations: readonly Invitation[]): Map<string, Invitation[]> {
  const byEmail = new Map<string, Invitation[]>();
  for (const invitation of invitations) {
    const email = invitation.email.toLowerCase();
    const list = byEmail.get(email);
    if (list) list.push(invitation);
    else byEmail.set(email, [invitation]);
  }
  return byEmail;
}
