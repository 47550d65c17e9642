import type { SyncState } from '../../store/types.js';
import { confirmedAt } from '../reconcile/freshness.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { buildDriftModel, syncKey, type ConnectorModel, type DriftInput, type DriftModel } from './model.js';
import { DRIFT_KINDS, summarize, type DriftItem, type DriftKind, type DriftReport, type DriftUser } from './types.js';
import type { DriftRecord } from './user-items.js';
import { staleCacheDetail, syncDetail, uncachedDetail } from './wording.js';

/**
 * The drift report (docs/drift.md): the directory cache against the provisioned state, run
 * through the login's own decision (`decideLogin`) and freshness rule, so what the report says a
 * login will do is what the next login does. Pure; linear in users, groups and memberships.
 */
export function computeDrift(input: DriftInput): DriftReport {
  return assembleDrift(buildDriftModel(input), input.now);
}

/** The report at `now`: the records' items, the `stale` checks, the group items, sorted. */
export function assembleDrift(model: DriftModel, now: Date, connectorIds?: ReadonlySet<string>): DriftReport {
  const items: DriftItem[] = [];
  let dataAsOf: string | null = null;
  for (const cm of model.connectors) {
    if (connectorIds && !connectorIds.has(cm.connector)) continue;
    // The connector's oldest confirmation: `max(oldest fetchedAt, lastCompleteRunAt)`.
    const asOf = cm.oldestFetchedAt === null ? cm.lastCompleteRunAt : confirmedAt(cm.oldestFetchedAt, cm.lastCompleteRunAt);
    if (asOf !== null && (dataAsOf === null || asOf < dataAsOf)) dataAsOf = asOf;
    for (const record of cm.records.values()) {
      for (const item of record.items) items.push(item);
      const stale = record.freshness && record.userId !== null ? staleItem(model, cm, record, record.userId, now) : null;
      if (stale) items.push(stale);
    }
    for (const item of cm.groupItems) items.push(item);
  }
  items.sort(compareItems);
  return { generatedAt: now.toISOString(), dataAsOf, summary: summarize(items), items };
}

function staleItem(model: DriftModel, cm: ConnectorModel, record: DriftRecord, userId: string, now: Date): DriftItem | null {
  const state = model.troubled.get(syncKey(userId, cm.connector));
  if (record.freshness?.kind === 'uncached') return staleUserItem(cm.connector, record.user, uncachedDetail(state));
  if (record.freshness?.kind !== 'cached') return null;
  const why = staleness(confirmedAt(record.freshness.fetchedAt, cm.lastCompleteRunAt), state, cm.settings, now);
  return why ? staleUserItem(cm.connector, record.user, why) : null;
}

/** Why a provisioned user's data is stale, or null when it is fresh. */
function staleness(confirmed: string, state: SyncState | undefined, settings: ProvisioningSettings, now: Date): string | null {
  const reasons: string[] = [];
  const ageMs = now.getTime() - Date.parse(confirmed);
  // The login reads the cache only while it is younger than staleAfter.
  if (ageMs >= settings.staleAfterMs) reasons.push(staleCacheDetail(ageMs, settings.staleAfterMs));
  if (state && (state.status === 'error' || state.status === 'stale')) reasons.push(syncDetail(state));
  return reasons.length > 0 ? reasons.join('; ') : null;
}

function staleUserItem(connector: string, user: DriftUser, detail: string): DriftItem {
  return { kind: 'stale', connector, user, organization: null, group: null, idpGroup: null, source: null, detail };
}

const KIND_ORDER = new Map<DriftKind, number>(DRIFT_KINDS.map((kind, i) => [kind, i]));

function compareItems(a: DriftItem, b: DriftItem): number {
  return (
    (KIND_ORDER.get(a.kind) ?? 0) - (KIND_ORDER.get(b.kind) ?? 0) ||
    cmp(a.connector, b.connector) ||
    cmp(a.user?.email ?? '', b.user?.email ?? '') ||
    cmp(a.user?.subject ?? '', b.user?.subject ?? '') ||
    (a.kind === 'unmatched_idp_group' ? cmp(a.idpGroup ?? '', b.idpGroup ?? '') : 0) ||
    cmp(a.organization ?? '', b.organization ?? '') ||
    cmp(a.group ?? '', b.group ?? '') ||
    cmp(a.idpGroup ?? '', b.idpGroup ?? '')
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
