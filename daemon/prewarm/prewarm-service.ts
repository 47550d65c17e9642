import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallOptions, CallStats, Connector } from '../../connectors/types.js';
import type { PrewarmRun, Store } from '../../store/types.js';
import { connectorFailed, connectorSucceeded, type ConnectorOutcomeSink } from '../connector-status.js';
import { AppError } from '../errors.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { collectAndApply } from './collect-and-apply.js';
import { createRunLeases } from './leases.js';

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
  /** Told whether each run's IdP reads succeeded (the connector status: `GET /v1/connectors`). */
  onConnectorOutcome?: ConnectorOutcomeSink;
}

/** Present cache entries and their memberships, and when the last complete run started. */
export interface CacheFigures {
  users: number;
  memberships: number;
  lastCompleteRunAt: string | null;
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
  /** What the connector's directory cache holds: a full count, so never read on the login thread. */
  cacheFigures(connectorId: string): Promise<CacheFigures>;
  /** Aborts runs in flight (they end `failed`) and waits for them. */
  close(): Promise<void>;
}

const PROGRESS_EVERY_MS = 1_000;

/**
 * Pre-warm (docs/prewarm.md): pull a connector's groups and members into the directory cache.
 * The service holds a lease per run and records the run; `collect-and-apply.ts` does the run's
 * work (full or incremental run, then the cache and pending-change writes).
 */
export function createPrewarmService(deps: PrewarmServiceDeps): PrewarmService {
  const { store, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const leases = createRunLeases({ store, logger, clock, instanceId: deps.instanceId, ttlMs: deps.leaseTtlMs });
  const inFlight = new Map<string, { controller: AbortController; done: Promise<PrewarmRun> }>();

  async function start(connectorId: string, options: PrewarmOptions = {}) {
    const connector = deps.connectors.get(connectorId);
    if (!connector) throw new AppError(400, 'unknown_connector', `unknown connector "${connectorId}"`);
    if (connector.pushed) throw new AppError(409, 'prewarm_not_applicable', `${connectorId} is fed by the IdP's pushes (SCIM): there is nothing to pre-warm`);
    const runId = randomUUID();
    const controller = new AbortController();
    const lease = await leases.acquire(connectorId, runId, () => controller.abort(new Error('lost the pre-warm lease')));
    if (!lease) throw new AppError(409, 'prewarm_running', `a pre-warm run of ${connectorId} is already in progress`);
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
    try {
      await store.putPrewarmRun(run);
    } catch (error) {
      await lease.release();
      throw error;
    }

    // The lease goes before the run's end is recorded: whoever sees the run ended may start the next.
    const done = execute(connector, run, options, controller.signal, () => lease.release());
    inFlight.set(runId, { controller, done });
    void done.finally(() => inFlight.delete(runId));
    return { run: { ...run }, done };
  }

  /** Runs to the end and records the outcome; never throws. */
  async function execute(
    connector: Connector,
    run: PrewarmRun,
    options: PrewarmOptions,
    signal: AbortSignal,
    releaseLease: () => Promise<void>,
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
      const settings = deps.settingsFor(connector.id);
      const guard = await collectAndApply({ store, logger, clock, settings }, connector, options, { run, call, progress });
      deps.onConnectorOutcome?.(connectorSucceeded(connector.id, 'prewarm'));
      if (guard) return await finish(run, 'guarded', `stopped by the removal guard: ${guard}; confirm to apply`);
      Object.assign(run.figures, stats);
      // After collectAndApply has returned, so that the run's snapshot is garbage by now.
      run.details.driftSummary = await snapshotDrift(connector.id);
      return await finish(run, 'succeeded', null);
    } catch (error) {
      run.figures.errors++;
      Object.assign(run.figures, stats);
      const message = signal.aborted ? `stopped: ${String(signal.reason?.message ?? signal.reason)}` : errorMessage(error);
      const failure = signal.aborted ? null : connectorFailed(connector.id, 'prewarm', error);
      // An IdP's failure is logged once, by the connector status (rate-limited); anything else here.
      if (failure) deps.onConnectorOutcome?.(failure);
      else logger.warn({ connector: connector.id, run: run.id, err: error }, 'pre-warm run failed');
      return finish(run, 'failed', message);
    }

    async function finish(r: PrewarmRun, outcome: PrewarmRun['state'], error: string | null): Promise<PrewarmRun> {
      r.state = outcome;
      r.error = error;
      r.finishedAt = clock().toISOString();
      await releaseLease();
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

  return {
    start,
    async run(connectorId, options) {
      const { done } = await start(connectorId, options);
      return done;
    },
    get: (runId) => store.getPrewarmRun(runId),
    async cacheFigures(connectorId) {
      const [counts, state] = await Promise.all([store.countCachedMemberships(connectorId), store.getConnectorState(connectorId)]);
      return { ...counts, lastCompleteRunAt: state?.lastCompleteRunAt ?? null };
    },
    async close() {
      for (const { controller } of inFlight.values()) controller.abort(new Error('daemon shutting down'));
      await Promise.allSettled([...inFlight.values()].map(({ done }) => done));
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
