import { hasUserListing, type Connector } from '../../connectors/types.js';
import type { CachedUser, PrewarmSighting, Store } from '../../store/types.js';
import { CACHE_BATCH } from './run-types.js';

export interface SightingDeps {
  store: Store;
  clock: () => Date;
}

/**
 * Records on each provisioned user's sync state whether the IdP still has the user: after a full
 * run for everyone, after an incremental one for the users it touched. What the next login will
 * change is not recorded: the user view and drift derive it when read.
 */
export async function recordSightings(
  deps: SightingDeps,
  connector: Connector,
  written: readonly CachedUser[],
  fullRun: boolean,
): Promise<void> {
  const { store } = deps;
  const bySubject = new Map(written.map((u) => [u.subject, u]));
  const now = deps.clock().toISOString();
  let batch: PrewarmSighting[] = [];
  for (const state of await store.listSyncStates(connector.id)) {
    const cached = bySubject.get(state.subject);
    if (!cached && !fullRun) continue;
    // Missing from a full snapshot: gone from the IdP if it lists its users, else in no group.
    const gone = cached ? cached.absentSince !== null : hasUserListing(connector);
    // Pre-warm's fields only, and the status only if no login wrote the row since it was read here.
    batch.push({ userId: state.userId, connector: state.connector, readLoginAt: state.lastLoginAt, seenAt: gone ? null : now });
    if (batch.length >= CACHE_BATCH) {
      await store.recordPrewarmSightings(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.recordPrewarmSightings(batch);
}
