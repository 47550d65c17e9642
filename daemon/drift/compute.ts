import {
  membershipKey,
  type Account,
  type CachedGroup,
  type CachedUser,
  type ConnectorState,
  type Invitation,
  type Membership,
  type Organization,
  type SyncState,
} from '../../store/types.js';
import { isAllowed, matchGroups } from '../reconcile/match.js';
import { planMemberships, type MembershipPlan } from '../reconcile/plan.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { createNearMissIndex, type NearMiss, type NearMissIndex } from './near-miss.js';
import { createOrganizationIndex, type OrganizationIndex } from './relevant-organizations.js';
import { DRIFT_KINDS, summarize, type DriftItem, type DriftKind, type DriftReport, type DriftUser } from './types.js';

/** What the report knows about one connector: its directory cache and its provisioning settings. */
export interface ConnectorDriftData {
  connector: string;
  settings: ProvisioningSettings;
  cachedUsers: readonly CachedUser[];
  cachedGroups: readonly CachedGroup[];
  state: ConnectorState | null;
}

export interface DriftInput {
  connectors: readonly ConnectorDriftData[];
  accounts: readonly Account[];
  syncStates: readonly SyncState[];
  organizations: readonly Organization[];
  /** Pending invitations by lower-cased email. */
  invitationsByEmail: ReadonlyMap<string, readonly Invitation[]>;
  now: Date;
}

/**
 * The drift report (SPEC §6): the directory cache against the provisioned state, run through the
 * login's own rules (`isAllowed`, `planMemberships`, the cache-confirmation rule), so what the
 * report says a login will change is what the next login changes. Pure; linear in users, groups
 * and memberships (maps throughout, no pairwise loops).
 */
export function computeDrift(input: DriftInput): DriftReport {
  const items: DriftItem[] = [];
  const accountsByIdentity = new Map<string, Map<string, Account>>();
  const accountsByEmail = new Map<string, Account>();
  for (const account of input.accounts) {
    accountsByEmail.set(account.user.email.toLowerCase(), account);
    for (const identity of account.user.identities) {
      let bySubject = accountsByIdentity.get(identity.connector);
      if (!bySubject) accountsByIdentity.set(identity.connector, (bySubject = new Map()));
      bySubject.set(identity.subject, account);
    }
  }
  const syncStates = new Map(input.syncStates.map((s) => [syncKey(s.userId, s.connector), s]));
  let dataAsOf: string | null = null;

  for (const data of input.connectors) {
    const asOf = connectorDataAsOf(data);
    if (asOf !== null && (dataAsOf === null || asOf < dataAsOf)) dataAsOf = asOf;
    connectorDrift(data, items, {
      organizations: input.organizations,
      accountsBySubject: accountsByIdentity.get(data.connector) ?? new Map(),
      accountsByEmail,
      syncStates,
      invitationsByEmail: input.invitationsByEmail,
      now: input.now,
    });
  }

  items.sort(compareItems);
  return { generatedAt: input.now.toISOString(), dataAsOf, summary: summarize(items), items };
}

/** Bounds the plan memo's memory on directories where few users share a plan. */
const MAX_MEMO = 50_000;

interface Shared {
  organizations: readonly Organization[];
  accountsBySubject: ReadonlyMap<string, Account>;
  accountsByEmail: ReadonlyMap<string, Account>;
  syncStates: ReadonlyMap<string, SyncState>;
  invitationsByEmail: ReadonlyMap<string, readonly Invitation[]>;
  now: Date;
}

/** Appends the connector's items to `items` (no spreading: a large report would overflow the stack). */
function connectorDrift(data: ConnectorDriftData, items: DriftItem[], shared: Shared): void {
  const { connector, settings } = data;
  const orgIndex = createOrganizationIndex(shared.organizations, settings);
  const lastCompleteRunAt = data.state?.lastCompleteRunAt ?? null;
  const seen = new Set<string>();
  // planMemberships is pure: users with the same groups, memberships and invitations share a plan
  // (in a real directory most users share their group set with many others).
  const plans = new Map<string, MembershipPlan>();
  const planFor = (idpGroups: readonly string[], current: readonly Membership[], invitations: readonly Invitation[]) => {
    const key = JSON.stringify([idpGroups, current.map((m) => [m.organization, m.group, m.source]), invitations.map((i) => i.id)]);
    let plan = plans.get(key);
    if (!plan) {
      plan = planMemberships({
        current,
        idpGroups,
        organizations: orgIndex.forUser({ idpGroups, current, invitations }),
        invitations,
        settings,
      });
      if (plans.size < MAX_MEMO) plans.set(key, plan);
    }
    return plan;
  };

  for (const cached of data.cachedUsers) {
    const account =
      shared.accountsBySubject.get(cached.subject) ??
      (settings.linkByEmail && cached.email ? shared.accountsByEmail.get(cached.email.toLowerCase()) : undefined) ??
      null;
    if (account) seen.add(account.user.id);
    const user: DriftUser = { id: account?.user.id ?? null, email: account?.user.email ?? cached.email, subject: cached.subject };
    const item = (kind: DriftKind, detail: string, extra?: Pick<DriftItem, 'organization' | 'group' | 'idpGroup' | 'source'>): DriftItem => ({
      kind,
      connector,
      user,
      organization: extra?.organization ?? null,
      group: extra?.group ?? null,
      idpGroup: extra?.idpGroup ?? null,
      source: extra?.source ?? null,
      detail,
    });

    if (cached.absentSince) {
      if (account) {
        items.push(item('absent_from_idp', `gone from the IdP since ${cached.absentSince}; JIT keeps the account`));
      }
      continue;
    }
    if (account?.user.disabled) continue; // refused at login: nothing changes
    if (account) {
      const stale = staleness(confirmedAt(cached, lastCompleteRunAt), shared.syncStates.get(syncKey(account.user.id, connector)), settings, shared.now);
      if (stale) items.push(item('stale', stale));
    }
    if (!isAllowed(cached.groups, settings.allowedGroups)) {
      items.push(item('blocked', `in none of the allowed groups (${settings.allowedGroups.join(', ')}): login refused`));
      continue;
    }
    if (!account && settings.signUp === 'blocked') {
      items.push(item('blocked', 'no account, and sign-up is blocked: first login refused'));
      continue;
    }

    const email = (account?.user.email ?? cached.email ?? '').toLowerCase();
    const current = account?.memberships ?? [];
    const invitations = shared.invitationsByEmail.get(email) ?? [];
    const plan = planFor(cached.groups, current, invitations);
    if (account) {
      for (const m of plan.added) items.push(item('pending_add', addDetail(m), membershipFields(m)));
      for (const m of plan.removed) items.push(item('pending_remove', removeDetail(m), membershipFields(m)));
    }
    if (plan.memberships.length === 0) {
      items.push(
        item(
          'no_organization',
          account
            ? 'no IdP group matches an app group: after the next login the user is in no organization'
            : 'no IdP group matches an app group: the first login lands in no organization',
        ),
      );
    }
    for (const idpGroup of cached.nestedGroups) {
      for (const ref of matchGroups([idpGroup], orgIndex.forUser({ idpGroups: [idpGroup], current: [], invitations: [] }), settings)) {
        items.push(
          item('nested_or_overage', `holds ${idpGroup} only through a nested group`, {
            organization: ref.organization,
            group: ref.group,
            idpGroup,
            source: null,
          }),
        );
      }
    }
  }

  // Provisioned users of the connector with no cache entry: the next login asks the IdP live.
  for (const account of shared.accountsBySubject.values()) {
    if (seen.has(account.user.id) || account.user.disabled) continue;
    seen.add(account.user.id);
    const identity = account.user.identities.find((i) => i.connector === connector);
    const user: DriftUser = { id: account.user.id, email: account.user.email, subject: identity?.subject ?? null };
    const state = shared.syncStates.get(syncKey(account.user.id, connector));
    const failed = state && (state.status === 'error' || state.status === 'stale') ? `; ${syncDetail(state)}` : '';
    items.push(blankItem('stale', connector, user, `no cache entry: the next login asks the IdP live${failed}`));
  }

  // Group-level drift needs a group list: skipped for a connector that was never pre-warmed.
  if (lastCompleteRunAt !== null || data.cachedGroups.length > 0) {
    groupDrift(data, items, orgIndex);
  }
}

function groupDrift(data: ConnectorDriftData, items: DriftItem[], orgIndex: OrganizationIndex): void {
  const { connector, settings } = data;
  const idpNames = new Set(data.cachedGroups.map((g) => g.name));
  for (const user of data.cachedUsers) {
    if (!user.absentSince) for (const name of user.groups) idpNames.add(name);
  }

  const fed = new Set<string>();
  const unmatched: string[] = [];
  for (const name of idpNames) {
    const refs = matchGroups([name], orgIndex.forUser({ idpGroups: [name], current: [], invitations: [] }), settings);
    if (refs.length === 0) unmatched.push(name);
    for (const ref of refs) fed.add(membershipKey(ref));
  }

  const expected = expectedIdpNames(orgIndex.all, settings);
  const appSide = createNearMissIndex(expected.keys());
  for (const idpGroup of unmatched) {
    const miss = appSide.find(idpGroup);
    const target = miss ? expected.get(miss.name)?.[0] : undefined;
    items.push({
      ...blankItem('unmatched_idp_group', connector, null, unmatchedDetail(miss)),
      idpGroup,
      organization: target?.organization ?? null,
      group: target?.group ?? null,
    });
  }

  const idpSide: NearMissIndex = createNearMissIndex(idpNames);
  for (const org of orgIndex.all) {
    for (const group of org.groups) {
      if (group === org.defaultGroup || fed.has(membershipKey({ organization: org.key, group }))) continue;
      const feeding = expectedNamesFor(org.key, group, settings);
      const miss = feeding.map((name) => idpSide.find(name)).find((m): m is NearMiss => m !== null) ?? null;
      items.push({
        ...blankItem('orphan_app_group', connector, null, orphanDetail(feeding, miss)),
        organization: org.key,
        group,
        idpGroup: miss?.name ?? null,
      });
    }
  }
}

/** The IdP group names that would feed each app group, in the connector's matching mode. */
function expectedIdpNames(
  organizations: readonly Organization[],
  settings: ProvisioningSettings,
): Map<string, Array<{ organization: string; group: string }>> {
  const expected = new Map<string, Array<{ organization: string; group: string }>>();
  for (const org of organizations) {
    for (const group of org.groups) {
      if (group === org.defaultGroup) continue;
      for (const name of expectedNamesFor(org.key, group, settings)) {
        const list = expected.get(name);
        if (list) list.push({ organization: org.key, group });
        else expected.set(name, [{ organization: org.key, group }]);
      }
    }
  }
  return expected;
}

function expectedNamesFor(organization: string, group: string, settings: ProvisioningSettings): string[] {
  if (settings.matching === 'exact') return [group];
  return [
    ...settings.mappings.filter((r) => r.organization === organization && r.group === group).map((r) => r.idpGroup),
    `${organization}:${group}`,
  ];
}

/**
 * The login's freshness rule (`resolve-groups.ts`): a complete pre-warm run confirms every cache
 * entry as of its start, so an entry is as fresh as `max(fetchedAt, lastCompleteRunAt)`.
 */
export function confirmedAt(entry: Pick<CachedUser, 'fetchedAt'>, lastCompleteRunAt: string | null): string {
  return lastCompleteRunAt && lastCompleteRunAt > entry.fetchedAt ? lastCompleteRunAt : entry.fetchedAt;
}

/** Why a provisioned user's data is stale, or null when it is fresh. */
function staleness(
  confirmed: string,
  state: SyncState | undefined,
  settings: ProvisioningSettings,
  now: Date,
): string | null {
  const reasons: string[] = [];
  const ageMs = now.getTime() - Date.parse(confirmed);
  // The login reads the cache only while it is younger than staleAfter.
  if (ageMs >= settings.staleAfterMs) {
    reasons.push(`cache confirmed ${formatAge(ageMs)} ago (staleAfter ${formatAge(settings.staleAfterMs)})`);
  }
  if (state && (state.status === 'error' || state.status === 'stale')) reasons.push(syncDetail(state));
  return reasons.length > 0 ? reasons.join('; ') : null;
}

function syncDetail(state: SyncState): string {
  const what = state.status === 'error' ? 'last sync failed' : 'last login used a stale cache';
  return state.lastError ? `${what}: ${state.lastError}` : what;
}

/** The connector's oldest confirmation time: `max(oldest fetchedAt, lastCompleteRunAt)`. */
function connectorDataAsOf(data: ConnectorDriftData): string | null {
  let oldest: string | null = null;
  for (const user of data.cachedUsers) if (oldest === null || user.fetchedAt < oldest) oldest = user.fetchedAt;
  for (const group of data.cachedGroups) if (oldest === null || group.fetchedAt < oldest) oldest = group.fetchedAt;
  const last = data.state?.lastCompleteRunAt ?? null;
  if (oldest === null) return last;
  return confirmedAt({ fetchedAt: oldest }, last);
}

export function formatAge(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return `${Math.max(0, Math.round(ms))}ms`;
}

function addDetail(m: Membership): string {
  switch (m.source) {
    case 'sync':
      return 'an IdP group backs it: the next login adds it';
    case 'default':
      return 'joins the organization: the default group follows';
    case 'invitation':
      return 'a pending invitation: the next login accepts it';
    case 'fallback':
      return 'in no organization: the default organization applies';
    case 'manual':
      return 'the next login adds it';
  }
}

function removeDetail(m: Membership): string {
  switch (m.source) {
    case 'sync':
      return 'no IdP group backs it any more: the next login removes it';
    case 'manual':
      return 'a manual membership the IdP does not back: the reset drops it';
    case 'default':
      return 'no other membership left in the organization: the user leaves it';
    case 'invitation':
    case 'fallback':
      return 'the next login removes it';
  }
}

function unmatchedDetail(miss: NearMiss | null): string {
  if (!miss) return 'matches no app group';
  switch (miss.reason) {
    case 'case':
      return `matches no app group; "${miss.name}" differs only in case`;
    case 'path':
      return `matches no app group; "${miss.name}" differs in path (GitLab full path vs name)`;
    case 'edit':
      return `matches no app group; near miss "${miss.name}" (${miss.distance} edit${miss.distance === 1 ? '' : 's'})`;
  }
}

function orphanDetail(feeding: readonly string[], miss: NearMiss | null): string {
  const wanted = feeding.map((n) => `"${n}"`).join(' or ');
  if (!miss) return `no IdP group ${wanted} feeds it`;
  const why = miss.reason === 'case' ? 'differs in case' : miss.reason === 'path' ? 'differs in path' : `${miss.distance} edit${miss.distance === 1 ? '' : 's'} away`;
  return `no IdP group ${wanted} feeds it; IdP has "${miss.name}" (${why})`;
}

function blankItem(kind: DriftKind, connector: string, user: DriftUser | null, detail: string): DriftItem {
  return { kind, connector, user, organization: null, group: null, idpGroup: null, source: null, detail };
}

function membershipFields(m: Membership): Pick<DriftItem, 'organization' | 'group' | 'idpGroup' | 'source'> {
  return { organization: m.organization, group: m.group, idpGroup: null, source: m.source };
}

function syncKey(userId: string, connector: string): string {
  return `${userId}\u0000${connector}`;
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
