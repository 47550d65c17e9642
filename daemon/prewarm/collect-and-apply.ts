import type { Logger } from 'pino';
import { ConnectorError, hasIncrementalFeed, type Connector } from '../../connectors/types.js';
import type { Store } from '../../store/types.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { fullRun } from './full-run.js';
import { incrementalRun } from './incremental-run.js';
import { CACHE_BATCH, type RunContext, type RunOutcome } from './run-types.js';
import { recordSightings } from './sightings.js';
import { removalGuard } from './snapshot.js';

export interface CollectAndApplyDeps {
  store: Store;
  logger: Logger;
  clock: () => Date;
  settings: ProvisioningSettings;
}

/**
 * Reads the IdP (an incremental run when the connector has a feed and a cursor, else a full one)
 * and, unless the removal guard stops it, writes the cache, the sync states and the connector
 * state. Returns the guard's reason when it stopped.
 */
export async function collectAndApply(
  deps: CollectAndApplyDeps,
  connector: Connector,
  options: { full?: boolean; confirmRemovals?: boolean },
  context: RunContext,
): Promise<string | null> {
  const { store, logger, settings } = deps;
  const { run } = context;
  const state = await store.getConnectorState(connector.id);
  const feed = hasIncrementalFeed(connector) && !options.full ? connector : null;
  const cursor = state?.cursor ?? null;
  let outcome: RunOutcome;
  if (feed && cursor) {
    run.mode = 'incremental';
    try {
      outcome = await incrementalRun(deps, feed, cursor, context);
    } catch (error) {
      if (!(error instanceof ConnectorError && error.kind === 'cursor_expired')) throw error;
      logger.info({ connector: connector.id }, 'incremental cursor expired: running a full snapshot');
      run.mode = 'full';
      outcome = await fullRun(deps, connector, context);
    }
  } else {
    outcome = await fullRun(deps, connector, context);
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
  await recordSightings(deps, connector, changes.writes, run.mode === 'full');
  await store.putConnectorState({
    connector: connector.id,
    cursor: outcome.cursor,
    lastCompleteRunAt: run.startedAt,
    lastRunId: run.id,
  });
  return null;
}
