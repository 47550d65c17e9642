import type { CallOptions } from '../../connectors/types.js';
import type { CachedGroup, PrewarmRun } from '../../store/types.js';
import type { CacheChanges } from './snapshot.js';

/** What a run learned, held back until the removal guard lets it be written. */
export interface RunOutcome {
  changes: CacheChanges;
  /** A full run replaces the connector's group list; an incremental one upserts and deletes. */
  groups: { replace: CachedGroup[] | null; upsert: CachedGroup[]; delete: string[] };
  cursor: string | null;
}

/** The run being recorded, how to call the IdP for it, and how to report its progress. */
export interface RunContext {
  /** Mutated as the run goes: figures and details. */
  run: PrewarmRun;
  call: CallOptions;
  /** Stores the run's figures, at most once a second unless forced. */
  progress(force?: boolean): Promise<void>;
}

// Each batch is one write transaction on the login thread (see daemon/background), a few
// milliseconds: 500 sync-state sightings took 12-50 ms there, long enough to hold up logins.
export const CACHE_BATCH = 100;
