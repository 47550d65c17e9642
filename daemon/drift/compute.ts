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
 * The drift report (README: Drift report): the directory cache against the provisioned state, run through the
 * login's own rules (`isAllowed`, `planMemberships`, the cache-confirmation rule), so what the
 * report says a login will change is what the next login changes. Pure; linear in users, groups
 * and memberships (maps throughout, no pairwise loops).
 */
export function computeDrift(input: DriftInput): DriftReport {
  return assembleDrift(buildDriftModel(input), input.now);
}

/**
 * The report before the clock is applied, kept between reports so that a change to one account
 * costs one account (`updateDriftModel`), not the whole directory. Everything here but `stale` is
 * independent of the time; `stale` is decided at assembly.
 */
export interface DriftModel {
  connectors: ConnectorModel[];
  organizations: readonly Organization[];
  invitationsByEmail: ReadonlyMap<string, readonly Invitation[]>;
  /** Sync states in `error` or `stale` status, by `syncKey`: the only ones a report reads. */
  troubled: Map<string, SyncState>;
  /** Account id by linked identity (`identityKey`). */
  identityOwner: Map<string, string>;
  /** Account id by lower-cased email. */
  emailOwner: Map<string, string>;
  /** Organizations each account holds a membership in (the organization filter). */
  organizationsByUser: Map<string, readonly string[]>;
}

export interface ConnectorModel {
  connector: string;
  settings: ProvisioningSettings;
  orgIndex: OrganizationIndex;
  lastCompleteRunAt: string | null;
  /**
   * The oldest `fetchedAt` of the cache (entries and group list) as built, lowered by later
   * writes, never raised: rewritten old entries leave it older than the cache is until the next
   * rebuild. `dataAsOf` stays on the safe (older) side. Null for an empty cache.
   */
  oldestFetchedAt: string | null;
  /** The cached group list's names. */
  groupNames: readonly string[];
  /** Present cache entries holding each group name: the IdP names the group items read. */
  holders: Map<string, number>;
  /** By `cachedKey(subject)` for a cache entry, `uncachedKey(userId)` for an account with none. */
  records: Map<string, DriftRecord>;
  /** Keys of the cache records linked to each account. */
  linked: Map<string, string[]>;
  /** Cache subjects by lower-cased email (for `linkByEmail`). */
  subjectsByEmail: Map<string, string[]>;
  groupItems: DriftItem[];
}

/** One cache entry's items, or one uncached account's: all but `stale`. */
export interface DriftRecord {
  user: DriftUser;
  /** The linked account, if any. */
  userId: string | null;
  items: readonly DriftItem[];
  /** Whether `stale` applies at assembly: a linked cache entry (with its `fetchedAt`) or no entry at all. */
  freshness: { kind: 'cached'; fetchedAt: string } | { kind: 'uncached' } | null;
  /** The group names of a present cache entry (counted in `holders`). */
  held: readonly string[];
}

export function buildDriftModel(input: DriftInput): DriftModel {
  const steps = buildDriftModelSteps(input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Cache entries planned (about 20 ms on 2 cores), or accounts indexed, between two yields. */
const BUILD_STEP = 100;

/**
 * `buildDriftModel` in steps: it yields every `BUILD_STEP` records, so that a caller on the event
 * loop can let other work (logins) run between steps of a build that takes seconds.
 */
export function* buildDriftModelSteps(input: DriftInput): Generator<void, DriftModel, void> {
  const model: DriftModel = {
    connectors: [],
    organizations: input.organizations,
    invitationsByEmail: input.invitationsByEmail,
    troubled: new Map(),
    identityOwner: new Map(),
    emailOwner: new Map(),
    organizationsByUser: new Map(),
  };
  const accountsById = new Map<string, Account>();
  let done = 0;
  for (const account of input.accounts) {
    accountsById.set(account.user.id, account);
    indexAccount(model, account);
    if (++done % (BUILD_STEP * 10) === 0) yield;
  }
  for (const state of input.syncStates) noteSyncState(model, state);

  for (const data of input.connectors) {
    const cm: ConnectorModel = {
      connector: data.connector,
      settings: data.settings,
      orgIndex: createOrganizationIndex(input.organizations, data.settings),
      lastCompleteRunAt: null,
      oldestFetchedAt: null,
      groupNames: [],
      holders: new Map(),
      records: new Map(),
      linked: new Map(),
      subjectsByEmail: new Map(),
      groupItems: [],
    };
    model.connectors.push(cm);
    for (const cached of data.cachedUsers) {
      if (cached.email) push(cm.subjectsByEmail, cached.email.toLowerCase(), cached.subject);
      const owner = ownerOf(model, cm, cached);
      setCachedRecord(model, cm, cached, owner === null ? null : (accountsById.get(owner) ?? null));
      if (++done % BUILD_STEP === 0) yield;
    }
    for (const account of input.accounts) {
      refreshUncached(cm, account);
      if (++done % (BUILD_STEP * 10) === 0) yield;
    }
    noteConnectorData(cm, data);
  }
  return model;
}

/**
 * Brings the model up to date after pre-warm wrote cache entries of one connector, or its group
 * list or state (`data`: as the store has them now). `accountOf` reads the accounts the entries
 * link to. Returns false when an entry changed hands between accounts: the caller then rebuilds.
 */
export async function updateCacheEntries(
  model: DriftModel,
  data: Pick<ConnectorDriftData, 'connector' | 'cachedGroups' | 'state'>,
  entries: readonly CachedUser[],
  accountOf: (userId: string) => Promise<Account | null>,
): Promise<boolean> {
  const cm = model.connectors.find((c) => c.connector === data.connector);
  if (!cm) return true; // not a configured connector: no report reads it
  for (const cached of entries) {
    if (cached.email) {
      const email = cached.email.toLowerCase();
      if (!cm.subjectsByEmail.get(email)?.includes(cached.subject)) push(cm.subjectsByEmail, email, cached.subject);
    }
    const owner = ownerOf(model, cm, cached);
    const previous = cm.records.get(cachedKey(cached.subject));
    if (previous && previous.userId !== owner) return false;
    const account = owner === null ? null : await accountOf(owner);
    if (owner !== null && !account) return false;
    setCachedRecord(model, cm, cached, account);
    if (account) refreshUncached(cm, account);
  }
  noteConnectorData(cm, { cachedUsers: entries, cachedGroups: data.cachedGroups, state: data.state });
  return true;
}

/** The connector-wide part: run time, data age, the group list and the group items. */
function noteConnectorData(cm: ConnectorModel, data: Pick<ConnectorDriftData, 'cachedUsers' | 'cachedGroups' | 'state'>): void {
  cm.lastCompleteRunAt = data.state?.lastCompleteRunAt ?? null;
  for (const item of [...data.cachedUsers, ...data.cachedGroups]) {
    if (cm.oldestFetchedAt === null || item.fetchedAt < cm.oldestFetchedAt) cm.oldestFetchedAt = item.fetchedAt;
  }
  cm.groupNames = data.cachedGroups.map((g) => g.name);
  // Group-level drift needs a group list: skipped for a connector that was never pre-warmed.
  cm.groupItems = cm.lastCompleteRunAt !== null || cm.groupNames.length > 0 ? groupDrift(cm) : [];
}

/**
 * Brings the model up to date after a write to one account (as the store returned it). `cachedEntry`
 * reads the cache entries the account touches. Returns false when the change relinks a cache entry
 * to a different account: the caller then rebuilds the model.
 */
export async function updateDriftModel(
  model: DriftModel,
  account: Account,
  cachedEntry: (connector: string, subject: string) => Promise<CachedUser | null>,
): Promise<boolean> {
  const userId = account.user.id;
  indexAccount(model, account);
  for (const cm of model.connectors) {
    const subjects = new Set<string>();
    for (const key of cm.linked.get(userId) ?? []) subjects.add(subjectOf(key));
    for (const identity of account.user.identities) if (identity.connector === cm.connector) subjects.add(identity.subject);
    if (cm.settings.linkByEmail) for (const subject of cm.subjectsByEmail.get(account.user.email.toLowerCase()) ?? []) subjects.add(subject);

    for (const subject of subjects) {
      const record = cm.records.get(cachedKey(subject));
      if (!record) continue; // an identity with no cache entry: the uncached record below
      const cached = await cachedEntry(cm.connector, subject);
      if (!cached) return false;
      const owner = ownerOf(model, cm, cached);
      if (owner !== userId) {
        if (owner === record.userId) continue; // linked to someone else, as before: unchanged
        return false;
      }
      setCachedRecord(model, cm, cached, account);
    }
    refreshUncached(cm, account);
  }
  return true;
}

/** Records a sync state write: only `error` and `stale` ones matter to a report. */
export function noteSyncState(model: DriftModel, state: SyncState): void {
  const key = syncKey(state.userId, state.connector);
  if (state.status === 'error' || state.status === 'stale') model.troubled.set(key, state);
  else model.troubled.delete(key);
}

/** The report at `now`: the records' items, the `stale` checks, the group items, sorted. */
export function assembleDrift(model: DriftModel, now: Date, connectorIds?: ReadonlySet<string>): DriftReport {
  const items: DriftItem[] = [];
  let dataAsOf: string | null = null;
  for (const cm of model.connectors) {
    if (connectorIds && !connectorIds.has(cm.connector)) continue;
    // The connector's oldest confirmation: `max(oldest fetchedAt, lastCompleteRunAt)`.
    const asOf = cm.oldestFetchedAt === null ? cm.lastCompleteRunAt : confirmedAt({ fetchedAt: cm.oldestFetchedAt }, cm.lastCompleteRunAt);
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
  if (record.freshness?.kind === 'uncached') {
    const failed = state ? `; ${syncDetail(state)}` : '';
    return blankItem('stale', cm.connector, record.user, `no cache entry: the next login asks the IdP live${failed}`);
  }
  if (record.freshness?.kind !== 'cached') return null;
  const why = staleness(confirmedAt(record.freshness, cm.lastCompleteRunAt), state, cm.settings, now);
  return why ? blankItem('stale', cm.connector, record.user, why) : null;
}

function indexAccount(model: DriftModel, account: Account): void {
  const { user } = account;
  model.emailOwner.set(user.email.toLowerCase(), user.id);
  for (const identity of user.identities) model.identityOwner.set(identityKey(identity.connector, identity.subject), user.id);
  model.organizationsByUser.set(user.id, [...new Set(account.memberships.map((m) => m.organization))]);
}

/** The login's account look-up (README: How a login is reconciled, step 4): by identity, else by email when `linkByEmail`. */
function ownerOf(model: DriftModel, cm: ConnectorModel, cached: CachedUser): string | null {
  return (
    model.identityOwner.get(identityKey(cm.connector, cached.subject)) ??
    (cm.settings.linkByEmail && cached.email ? model.emailOwner.get(cached.email.toLowerCase()) : undefined) ??
    null
  );
}

function setCachedRecord(model: DriftModel, cm: ConnectorModel, cached: CachedUser, account: Account | null): void {
  const key = cachedKey(cached.subject);
  const previous = cm.records.get(key);
  if (previous?.userId) {
    const keys = cm.linked.get(previous.userId)?.filter((k) => k !== key) ?? [];
    if (keys.length > 0) cm.linked.set(previous.userId, keys);
    else cm.linked.delete(previous.userId);
  }
  const record = cachedUserRecord(cm, cached, account, model.invitationsByEmail);
  for (const name of previous?.held ?? []) {
    const count = cm.holders.get(name)! - 1;
    if (count > 0) cm.holders.set(name, count);
    else cm.holders.delete(name);
  }
  for (const name of record.held) cm.holders.set(name, (cm.holders.get(name) ?? 0) + 1);
  cm.records.set(key, record);
  if (record.userId) {
    push(cm.linked, record.userId, key);
  }
}

/** An account of the connector that no cache entry links to: the next login asks the IdP live. */
function refreshUncached(cm: ConnectorModel, account: Account): void {
  const { user } = account;
  const key = uncachedKey(user.id);
  const identity = user.identities.find((i) => i.connector === cm.connector);
  if (!identity || user.disabled || cm.linked.has(user.id)) {
    cm.records.delete(key);
    return;
  }
  cm.records.set(key, {
    user: { id: user.id, email: user.email, subject: identity.subject },
    userId: user.id,
    items: NO_ITEMS,
    freshness: UNCACHED,
    held: NO_NAMES,
  });
}

function cachedUserRecord(
  cm: ConnectorModel,
  cached: CachedUser,
  account: Account | null,
  invitationsByEmail: ReadonlyMap<string, readonly Invitation[]>,
): DriftRecord {
  const { connector, settings, orgIndex } = cm;
  const user: DriftUser = { id: account?.user.id ?? null, email: account?.user.email ?? cached.email, subject: cached.subject };
  const items: DriftItem[] = [];
  // Most records have no items: they share one empty array (100,000 records, 100,000 fewer arrays).
  const record: DriftRecord = {
    user,
    userId: account?.user.id ?? null,
    items: NO_ITEMS,
    freshness: null,
    held: cached.absentSince ? NO_NAMES : cached.groups,
  };
  const done = (): DriftRecord => (items.length > 0 ? { ...record, items } : record);
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
    if (account) items.push(item('absent_from_idp', `gone from the IdP since ${cached.absentSince}; JIT keeps the account`));
    return done();
  }
  if (account?.user.disabled) return done(); // refused at login: nothing changes
  if (account) record.freshness = { kind: 'cached', fetchedAt: cached.fetchedAt };
  if (!isAllowed(cached.groups, settings.allowedGroups)) {
    items.push(item('blocked', `in none of the allowed groups (${settings.allowedGroups.join(', ')}): login refused`));
    return done();
  }
  if (!account && settings.signUp === 'blocked') {
    items.push(item('blocked', 'no account, and sign-up is blocked: first login refused'));
    return done();
  }

  const email = (account?.user.email ?? cached.email ?? '').toLowerCase();
  const current = account?.memberships ?? [];
  const invitations = invitationsByEmail.get(email) ?? [];
  const plan = planMemberships({
    current,
    idpGroups: cached.groups,
    organizations: orgIndex.forUser({ idpGroups: cached.groups, current, invitations }),
    invitations,
    settings,
  });
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
  return done();
}

function identityKey(connector: string, subject: string): string {
  return `${connector}\u0000${subject}`;
}

const NO_ITEMS: readonly DriftItem[] = Object.freeze([]);
const UNCACHED = Object.freeze({ kind: 'uncached' as const });
const NO_NAMES: readonly string[] = Object.freeze([]);

function cachedKey(subject: string): string {
  return `s:${subject}`;
}

function uncachedKey(userId: string): string {
  return `a:${userId}`;
}

function subjectOf(key: string): string {
  return key.slice(2);
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function groupDrift(cm: ConnectorModel): DriftItem[] {
  const { connector, settings, orgIndex } = cm;
  const items: DriftItem[] = [];
  const idpNames = new Set([...cm.groupNames, ...cm.holders.keys()]);

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
  return items;
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
