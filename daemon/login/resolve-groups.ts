import { toConnectorError } from '../../connectors/errors.js';
import type { Connector } from '../../connectors/types.js';
import { StoreError, type CachedUser, type Store } from '../../store/types.js';
import { connectorFailed, connectorSucceeded, type ConnectorOutcomeSink } from '../connector-status.js';
import { confirmedAt } from '../reconcile/freshness.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import type { LoginInput } from './input.js';
import { tokenSignalsOverage } from './overage.js';

export type GroupsSource = 'token' | 'cache' | 'live' | 'stale-cache';

export interface ResolvedGroups {
  source: GroupsSource;
  fetchedAt: string;
  names: string[];
  /** Names held only through nesting, when the IdP said. */
  nestedGroups: string[];
  /** Why the live look-up failed, when `source` is `stale-cache`. */
  liveError: string | null;
}

export type GroupsResolution =
  | { ok: true; groups: ResolvedGroups }
  | { ok: false; reason: 'idp_unavailable'; liveError: string };

export interface ResolveGroupsDeps {
  store: Store;
  connector: Connector;
  settings: Pick<ProvisioningSettings, 'staleAfterMs' | 'onIdpUnavailable'>;
  now: Date;
  /** Upper bound for the whole live look-up, retries included. */
  liveTimeoutMs: number;
  /** Told of each live look-up's outcome (the connector status: `GET /v1/connectors`). */
  onLookup?: ConnectorOutcomeSink;
}

/**
 * Step 2 of the login rules (docs/behaviour.md): token groups when given and complete; else a fresh cache entry; else a live
 * look-up (stored back into the cache); and when that fails, the cache whatever its age
 * (`use-cache`) or a denial (`deny`). A failure is never read as "no groups".
 */
export async function resolveGroups(input: LoginInput, deps: ResolveGroupsDeps): Promise<GroupsResolution> {
  const now = deps.now.toISOString();
  const overage = input.groupsOverage === true || (input.claims !== undefined && tokenSignalsOverage(input.claims));
  if (input.groups && !overage) {
    const names = [...new Set(input.groups)];
    return { ok: true, groups: { source: 'token', fetchedAt: now, names, nestedGroups: [], liveError: null } };
  }

  const [entry, state] = await Promise.all([
    deps.store.getCachedUser(deps.connector.id, input.subject),
    deps.store.getConnectorState(deps.connector.id),
  ]);
  const cached = entry && withConfirmation(entry, state?.lastCompleteRunAt ?? null);
  if (cached && !cached.absentSince && ageMs(cached, deps.now) < deps.settings.staleAfterMs) {
    return { ok: true, groups: fromCache(cached, 'cache') };
  }
  // A pushed (SCIM) connector's cache is the whole answer, whatever its age: a subject never
  // pushed, or deprovisioned, has no groups.
  if (deps.connector.pushed) {
    const present = cached && !cached.absentSince ? cached : null;
    return { ok: true, groups: present ? fromCache(present, 'cache') : { source: 'cache', fetchedAt: now, names: [], nestedGroups: [], liveError: null } };
  }

  let live: Awaited<ReturnType<Connector['lookupUser']>>;
  try {
    live = await deps.connector.lookupUser(
      { subject: input.subject, email: input.email },
      { signal: AbortSignal.timeout(deps.liveTimeoutMs) },
    );
  } catch (error) {
    // A connector reads no store, but should one of the store's errors come through here, it is a
    // store failure (503), never an IdP outage.
    if (error instanceof StoreError) throw error;
    const failure = toConnectorError(error, { connector: deps.connector.id, what: 'live look-up' });
    deps.onLookup?.(connectorFailed(deps.connector.id, 'login', failure, deps.now));
    const liveError = failure.message;
    if (cached && deps.settings.onIdpUnavailable === 'use-cache') {
      return { ok: true, groups: { ...fromCache(cached, 'stale-cache'), liveError } };
    }
    return { ok: false, reason: 'idp_unavailable', liveError };
  }
  deps.onLookup?.(connectorSucceeded(deps.connector.id, 'login', deps.now));
  // An IdP that does not know the subject has no groups for it: that is an answer, not a fault.
  const fresh: CachedUser = {
    connector: deps.connector.id,
    subject: input.subject,
    email: live?.email ?? input.email.toLowerCase(),
    name: live?.name ?? input.name ?? null,
    groups: live?.groups ?? [],
    nestedGroups: live?.nestedGroups ?? [],
    fetchedAt: now,
    origin: 'live',
    absentSince: null,
  };
  // Outside the try: a store that fails here is a store failure (503), never an IdP outage.
  await deps.store.putCachedUser(fresh);
  return { ok: true, groups: fromCache(fresh, 'live') };
}

/** The entry as of its confirmation (`confirmedAt`: a complete run confirms every entry). */
function withConfirmation(entry: CachedUser, lastCompleteRunAt: string | null): CachedUser {
  const fetchedAt = confirmedAt(entry.fetchedAt, lastCompleteRunAt);
  return fetchedAt === entry.fetchedAt ? entry : { ...entry, fetchedAt };
}

function fromCache(entry: CachedUser, source: GroupsSource): ResolvedGroups {
  return {
    source,
    fetchedAt: entry.fetchedAt,
    names: entry.groups,
    nestedGroups: entry.nestedGroups,
    liveError: null,
  };
}

function ageMs(entry: CachedUser, now: Date): number {
  return now.getTime() - Date.parse(entry.fetchedAt);
}
