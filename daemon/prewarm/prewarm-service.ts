import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  ConnectorError,
  hasIncrementalFeed,
  hasUserListing,
  type CallOptions,
  type CallStats,
  type Connector,
  type IdpGroup,
  type IdpUser,
  type IncrementalFeed,
  type MemberChanges,
} from '../../connectors/types.js';
import type { CachedGroup, CachedUser, PrewarmRun, Store, SyncState } from '../../store/types.js';
import { AppError } from '../errors.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { pendingSyncState } from './pending.js';
import { applyGroupChanges, applyMemberChanges, diffFullSnapshot, removalGuard, Snapshot, type CacheChanges } from './snapshot.js';

export interface PrewarmOptions {
  /** Ignore the incremental cursor and take a complete snapshot. */
  full?: boolean;
  /** Go past the removal guard: an admin has looked at what the run removes. */
  confirmRemovals?: boolean;
}

export interface PrewarmServiceDeps {
  store: Store;
  connectors: ReadonlyMap<string, Connector>;
  settingsFor(connectorId: string): ProvisioningSettings;
  logger: Logger;
  /** Names this process in leases, so a replica can tell its own lease from another's. */
  instanceId?: string;
  clock?: () => Date;
  leaseTtlMs?: number;
  /** Called whenever a run's record changes (progress bars). */
  onProgress?: (run: PrewarmRun) => void;
  /** The connector's drift summary, snapshotted into each successful run (`details.driftSummary`). */
  driftSummary?: (connectorId: string) => Promise<Record<string, number>>;
}

export interface PrewarmService {
  /**
   * Takes the connector's lease and starts a run in the background; answers once the run is
   * recorded. Throws `409 prewarm_running` when another run (here or on another replica) holds it.
   */
  start(connectorId: string, options?: PrewarmOptions): Promise<{ run: PrewarmRun; done: Promise<PrewarmRun> }>;
  /** `start`, then waits for the run to end. */
  run(connectorId: string, options?: PrewarmOptions): Promise<PrewarmRun>;
  get(runId: string): Promise<PrewarmRun | null>;
  /** Aborts runs in flight (they end `failed`) and waits for them. */
  close(): Promise<void>;
}

/** What a run learned, held back until the guard lets it be written. */
interface RunOutcome {
  changes: CacheChanges;
  /** A full run replaces the connector's group list; an incremental one upserts and deletes. */
  groups: { replace: CachedGroup[] | null; upsert: CachedGroup[]; delete: string[] };
  cursor: string | null;
}

// Each batch is one write transaction on the login thread (see daemon/background): small enough to
// be no pause there.
const CACHE_BATCH = 500;
const PROGRESS_EVERY_MS = 1_000;

/** Pre-warm (README: Pre-warm): pull a connector's groups and members into the directory cache. */
export function createPrewarmService(deps: PrewarmServiceDeps): PrewarmService {
  const { store, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const instanceId = deps.instanceId ?? randomUUID();
  const leaseTtlMs = deps.leaseTtlMs ?? 5 * 60_000;
  const inFlight = new Map<string, { controller: AbortController; done: Promise<PrewarmRun> }>();

  async function start(connectorId: string, options: PrewarmOptions = {}) {
    const connector = deps.connectors.get(connectorId);
    if (!connector) throw new AppError(400, 'unknown_connector', `unknown connector "${connectorId}"`);
    const runId = randomUUID();
    const lease = `prewarm:${connectorId}`;
    const holder = `${instanceId}:${runId}`;
    if (!(await store.acquireLease(lease, holder, leaseTtlMs, clock().toISOString()))) {
      throw new AppError(409, 'prewarm_running', `a pre-warm run of ${connectorId} is already in progress`);
    }
    const controller = new AbortController();
    const run: PrewarmRun = {
      id: runId,
      connector: connectorId,
      mode: 'full',
      state: 'running',
      startedAt: clock().toISOString(),
      finishedAt: null,
      figures: { apiCalls: 0, pages: 0, retries: 0, groups: 0, users: 0, memberships: 0, errors: 0 },
      details: { groupsTotal: null, absentMarked: 0, membershipsRemoved: 0, guard: null, driftSummary: null },
      error: null,
    };
    await store.putPrewarmRun(run);

    // Renew well before expiry; a process that dies stops renewing and the lease lapses.
    const renew = setInterval(() => {
      void store.acquireLease(lease, holder, leaseTtlMs, clock().toISOString()).then(
        (held) => {
          if (!held) controller.abort(new Error('lost the pre-warm lease'));
        },
        (error: unknown) => logger.warn({ err: error, connector: connectorId }, 'lease renewal failed'),
      );
    }, leaseTtlMs / 3);
    renew.unref();

    const done = execute(connector, run, options, controller.signal).finally(async () => {
      clearInterval(renew);
      inFlight.delete(runId);
      await store.releaseLease(lease, holder).catch(() => undefined);
    });
    inFlight.set(runId, { controller, done });
    return { run: { ...run }, done };
  }

  /** Runs to the end and records the outcome; never throws. */
  async function execute(
    connector: Connector,
    run: PrewarmRun,
    options: PrewarmOptions,
    signal: AbortSignal,
  ): Promise<PrewarmRun> {
    const stats: CallStats = { apiCalls: 0, pages: 0, retries: 0 };
    const call: CallOptions = { signal, stats };
    let lastProgress = 0;
    const progress = async (force = false) => {
      Object.assign(run.figures, stats);
      const now = Date.now();
      if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = now;
      await store.putPrewarmRun(run);
      deps.onProgress?.({ ...run });
    };

    try {
      const guard = await collectAndApply(connector, run, options, call, progress);
      if (guard) return await finish(run, 'guarded', `stopped by the removal guard: ${guard}; confirm to apply`);
      Object.assign(run.figures, stats);
      // After collectAndApply has returned, so that the run's snapshot is garbage by now.
      run.details.driftSummary = await snapshotDrift(connector.id);
      return await finish(run, 'succeeded', null);
    } catch (error) {
      run.figures.errors++;
      Object.assign(run.figures, stats);
      const message = signal.aborted ? `stopped: ${String(signal.reason?.message ?? signal.reason)}` : errorMessage(error);
      logger.warn({ connector: connector.id, run: run.id, err: error }, 'pre-warm run failed');
      return finish(run, 'failed', message);
    }

    async function finish(r: PrewarmRun, outcome: PrewarmRun['state'], error: string | null): Promise<PrewarmRun> {
      r.state = outcome;
      r.error = error;
      r.finishedAt = clock().toISOString();
      try {
        await progress(true);
      } catch (error) {
        // The store is failing too: the run's outcome is still logged and returned.
        logger.error({ connector: r.connector, run: r.id, err: error }, 'could not record the pre-warm run');
      }
      logger.info({ connector: r.connector, run: r.id, state: r.state, mode: r.mode, figures: r.figures }, 'pre-warm run ended');
      return { ...r };
    }
  }

  /**
   * Reads the IdP (full or incremental run) and, unless the removal guard stops it, writes the
   * cache, the sync states and the connector state. Returns the guard's reason when it stopped.
   */
  async function collectAndApply(
    connector: Connector,
    run: PrewarmRun,
    options: PrewarmOptions,
    call: CallOptions,
    progress: (force?: boolean) => Promise<void>,
  ): Promise<string | null> {
    const settings = deps.settingsFor(connector.id);
    const state = await store.getConnectorState(connector.id);
    const feed = hasIncrementalFeed(connector) && !options.full ? connector : null;
    const cursor = state?.cursor ?? null;
    let outcome: RunOutcome;
    if (feed && cursor) {
      run.mode = 'incremental';
      try {
        outcome = await incrementalRun(feed, cursor, run, call, progress);
      } catch (error) {
        if (!(error instanceof ConnectorError && error.kind === 'cursor_expired')) throw error;
        logger.info({ connector: connector.id }, 'incremental cursor expired: running a full snapshot');
        run.mode = 'full';
        outcome = await fullRun(connector, run, call, progress);
      }
    } else {
      outcome = await fullRun(connector, run, call, progress);
    }

    const { changes } = outcome;
    run.details.absentMarked = changes.absentMarked;
    run.details.membershipsRemoved = changes.membershipsRemoved;
    // The guard protects what a complete run established; before the first one the cache holds
    // only live look-ups, and there is nothing established to protect.
    const guard = state?.lastCompleteRunAt ? removalGuard(changes, settings.maxRemovalShare) : null;
    if (guard && !options.confirmRemovals) {
      run.details.guard = guard;
      return guard.reason;
    }

    // Writes come only now, from a complete answer: a failure above leaves the cache untouched.
    const { groups } = outcome;
    if (groups.replace) await store.replaceCachedGroups(connector.id, groups.replace);
    if (groups.upsert.length > 0) await store.putCachedGroups(groups.upsert);
    if (groups.delete.length > 0) await store.deleteCachedGroups(connector.id, groups.delete);
    for (let i = 0; i < changes.writes.length; i += CACHE_BATCH) {
      await store.putCachedUsers(changes.writes.slice(i, i + CACHE_BATCH));
    }
    await updatePending(connector, changes.writes, run.mode === 'full', settings);
    await store.putConnectorState({
      connector: connector.id,
      cursor: outcome.cursor,
      lastCompleteRunAt: run.startedAt,
      lastRunId: run.id,
    });
    return null;
  }

  /** A failed snapshot costs the run nothing: the run's own work is already written. */
  async function snapshotDrift(connectorId: string): Promise<Record<string, number> | null> {
    if (!deps.driftSummary) return null;
    try {
      return await deps.driftSummary(connectorId);
    } catch (error) {
      logger.warn({ connector: connectorId, err: error }, 'could not snapshot the drift summary');
      return null;
    }
  }

  async function fullRun(
    connector: Connector,
    run: PrewarmRun,
    call: CallOptions,
    progress: (force?: boolean) => Promise<void>,
  ): Promise<RunOutcome> {
    const cursor = hasIncrementalFeed(connector) ? await connector.startCursor(call) : null;
    const groups = await collect(connector.listGroups(call));
    run.details.groupsTotal = groups.length;
    const snapshot = new Snapshot();
    for (const group of groups) {
      for await (const page of connector.listMembers(group, call)) snapshot.addMembers(group, page);
      run.figures.groups++;
      run.figures.memberships = snapshot.memberships;
      run.figures.users = snapshot.users.size;
      await progress();
    }
    const usersListed = hasUserListing(connector);
    if (usersListed) {
      for await (const page of connector.listUsers(call)) snapshot.addUsers(page);
    }
    run.figures.users = snapshot.users.size;
    const now = clock().toISOString();
    const previous = await store.listCachedUsers(connector.id);
    return {
      changes: diffFullSnapshot(previous, snapshot, { connector: connector.id, now, usersListed }),
      groups: {
        replace: groups.map((g): CachedGroup => ({ connector: connector.id, id: g.id, name: g.name, fetchedAt: now })),
        upsert: [],
        delete: [],
      },
      cursor,
    };
  }

  async function incrementalRun(
    connector: Connector & IncrementalFeed,
    cursor: string,
    run: PrewarmRun,
    call: CallOptions,
    progress: (force?: boolean) => Promise<void>,
  ): Promise<RunOutcome> {
    const feed = await connector.changedGroups(cursor, call);
    const cachedGroups = new Map((await store.listCachedGroups(connector.id)).map((g) => [g.id, g]));
    // Member changes apply as they are only to a group the cache holds under the same name.
    const direct: MemberChanges[] = [];
    const toList = [...feed.changed];
    for (const change of feed.memberChanges ?? []) {
      if (cachedGroups.get(change.group.id)?.name === change.group.name) direct.push(change);
      else toList.push(change.group);
    }
    run.details.groupsTotal = toList.length + direct.length;

    const changed: Array<{ group: IdpGroup; oldName: string | null; members: IdpUser[] }> = [];
    for (const group of toList) {
      const members: IdpUser[] = [];
      for await (const page of connector.listMembers(group, call)) members.push(...page);
      changed.push({ group, oldName: cachedGroups.get(group.id)?.name ?? null, members });
      run.figures.groups++;
      run.figures.memberships += members.length;
      await progress();
    }
    const deletedNames = feed.deleted.flatMap((id) => cachedGroups.get(id)?.name ?? []);
    const now = clock().toISOString();
    const options = { connector: connector.id, now };

    // Re-listing needs every cached holder of a group; member changes only the users they name.
    let changes: CacheChanges;
    let cached: Map<string, CachedUser>;
    if (changed.length > 0 || deletedNames.length > 0) {
      const previous = await store.listCachedUsers(connector.id);
      changes = applyGroupChanges(previous, changed, deletedNames, options);
      cached = new Map(previous.map((user) => [user.subject, user]));
      for (const user of changes.writes) cached.set(user.subject, user);
    } else {
      const subjects = [...new Set(direct.flatMap((c) => [...c.added, ...c.removed]))];
      const totals = await store.countCachedMemberships(connector.id);
      changes = { writes: [], absentMarked: 0, membershipsRemoved: 0, usersBefore: totals.users, membershipsBefore: totals.memberships };
      cached = new Map((await store.getCachedUsers(connector.id, subjects)).map((user) => [user.subject, user]));
    }
    if (direct.length > 0) {
      const unknown = [...new Set(direct.flatMap((c) => c.added))].filter((subject) => !cached.has(subject));
      if (unknown.length > 0 && !connector.describeUsers) {
        throw new Error(`connector ${connector.id} reported member changes but cannot describe new users`);
      }
      const described = unknown.length > 0 ? await connector.describeUsers!(unknown, call) : [];
      const applied = applyMemberChanges(cached, direct, new Map(described.map((user) => [user.subject, user])), options);
      const writes = new Map(changes.writes.map((user) => [user.subject, user]));
      for (const user of applied.writes) writes.set(user.subject, user);
      changes = { ...changes, writes: [...writes.values()], membershipsRemoved: changes.membershipsRemoved + applied.membershipsRemoved };
      run.figures.groups += direct.length;
      for (const change of direct) run.figures.memberships += change.added.length;
    }
    run.figures.users = changes.writes.length;
    const touchedGroups = [...toList, ...direct.map((change) => change.group)];
    return {
      changes,
      groups: {
        replace: null,
        upsert: touchedGroups.map((group): CachedGroup => ({ connector: connector.id, id: group.id, name: group.name, fetchedAt: now })),
        delete: feed.deleted,
      },
      cursor: feed.cursor,
    };
  }

  /**
   * Recomputes what the next login of each provisioned user will change: after a full run for
   * everyone, after an incremental one for the users it touched.
   */
  async function updatePending(
    connector: Connector,
    written: readonly CachedUser[],
    fullRun: boolean,
    settings: ProvisioningSettings,
  ): Promise<void> {
    const bySubject = new Map(written.map((u) => [u.subject, u]));
    const organizations = await store.listOrganizations();
    const now = clock().toISOString();
    let batch: SyncState[] = [];
    for (const state of await store.listSyncStates(connector.id)) {
      const cached = bySubject.get(state.subject);
      if (!cached && !fullRun) continue;
      const account = await store.getAccount(state.userId);
      if (!account) continue;
      // Missing from a full snapshot: gone from the IdP if it lists its users, else in no group.
      const idpGroups = cached ? (cached.absentSince ? null : cached.groups) : hasUserListing(connector) ? null : [];
      const invitations = await store.pendingInvitations(account.user.email);
      batch.push(pendingSyncState({ state, account, idpGroups, organizations, invitations, settings, now }));
      if (batch.length >= CACHE_BATCH) {
        await store.putSyncStates(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.putSyncStates(batch);
  }

  return {
    start,
    async run(connectorId, options) {
      const { done } = await start(connectorId, options);
      return done;
    },
    get: (runId) => store.getPrewarmRun(runId),
    async close() {
      for (const { controller } of inFlight.values()) controller.abort(new Error('daemon shutting down'));
      await Promise.allSettled([...inFlight.values()].map(({ done }) => done));
    },
  };
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
