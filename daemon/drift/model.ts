import type {
  Account,
  CachedGroup,
  CachedUser,
  ConnectorState,
  Invitation,
  Organization,
  SyncState,
} from '../../store/types.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { groupItems } from './group-items.js';
import { createOrganizationIndex, type OrganizationIndex } from './relevant-organizations.js';
import type { DriftItem } from './types.js';
import { cachedUserRecord, uncachedRecord, type DriftRecord, type FoundAccount } from './user-items.js';

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
 * The report before the clock is applied, kept between reports so that a change to one account
 * costs one account (`updateDriftModel`), not the whole directory. Everything here but `stale` is
 * independent of the time; `stale` is decided at assembly (`assemble.ts`).
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
  /** Cache subjects by lower-cased email (the login's look-up by email). */
  subjectsByEmail: Map<string, string[]>;
  groupItems: DriftItem[];
}

export function buildDriftModel(input: DriftInput): DriftModel {
  const steps = buildDriftModelSteps(input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Cache entries planned, or accounts indexed, between two yields. */
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
      const look = lookUp(model, cm, cached);
      const account = look && accountsById.get(look.id);
      setCachedRecord(model, cm, cached, look && account ? { account, via: look.via } : null);
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
 * lead to. Returns false when an entry changed hands between accounts: the caller then rebuilds.
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
    const look = lookUp(model, cm, cached);
    const previous = cm.records.get(cachedKey(cached.subject));
    if (previous && previous.foundId !== (look?.id ?? null)) return false;
    const account = look === null ? null : await accountOf(look.id);
    if (look !== null && !account) return false;
    const record = setCachedRecord(model, cm, cached, look && account ? { account, via: look.via } : null);
    if (account && record.userId === account.user.id) refreshUncached(cm, account);
  }
  noteConnectorData(cm, { cachedUsers: entries, cachedGroups: data.cachedGroups, state: data.state });
  return true;
}

/**
 * Brings the model up to date after a write to one account (as the store returned it). `cachedEntry`
 * reads the cache entries the account touches. Returns false when the change moves a cache entry
 * from one account to another: the caller then rebuilds the model.
 */
export async function updateDriftModel(
  model: DriftModel,
  account: Account,
  cachedEntry: (connector: string, subject: string) => Promise<CachedUser | null>,
): Promise<boolean> {
  const userId = account.user.id;
  indexAccount(model, account);
  for (const cm of model.connectors) {
    // Every entry whose look-up can find this account: linked ones, its identities, its email
    // (under `linkByEmail: false` too: there the login answers `email_conflict`).
    const subjects = new Set<string>();
    for (const key of cm.linked.get(userId) ?? []) subjects.add(subjectOf(key));
    for (const identity of account.user.identities) if (identity.connector === cm.connector) subjects.add(identity.subject);
    for (const subject of cm.subjectsByEmail.get(account.user.email.toLowerCase()) ?? []) subjects.add(subject);

    for (const subject of subjects) {
      const record = cm.records.get(cachedKey(subject));
      if (!record) continue; // an identity with no cache entry: the uncached record below
      const cached = await cachedEntry(cm.connector, subject);
      if (!cached) return false;
      const look = lookUp(model, cm, cached);
      if (look?.id !== userId) {
        if ((look?.id ?? null) === record.foundId) continue; // leads elsewhere, as before: unchanged
        return false;
      }
      if (record.foundId !== null && record.foundId !== userId) return false;
      setCachedRecord(model, cm, cached, { account, via: look.via });
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

export function syncKey(userId: string, connector: string): string {
  return `${userId}\u0000${connector}`;
}

/** The connector-wide part: run time, data age, the group list and the group items. */
function noteConnectorData(cm: ConnectorModel, data: Pick<ConnectorDriftData, 'cachedUsers' | 'cachedGroups' | 'state'>): void {
  cm.lastCompleteRunAt = data.state?.lastCompleteRunAt ?? null;
  for (const item of [...data.cachedUsers, ...data.cachedGroups]) {
    if (cm.oldestFetchedAt === null || item.fetchedAt < cm.oldestFetchedAt) cm.oldestFetchedAt = item.fetchedAt;
  }
  cm.groupNames = data.cachedGroups.map((g) => g.name);
  // Group-level drift needs a group list: skipped for a connector that was never pre-warmed.
  cm.groupItems = cm.lastCompleteRunAt !== null || cm.groupNames.length > 0 ? groupItems(cm) : [];
}

function indexAccount(model: DriftModel, account: Account): void {
  const { user } = account;
  model.emailOwner.set(user.email.toLowerCase(), user.id);
  for (const identity of user.identities) model.identityOwner.set(identityKey(identity.connector, identity.subject), user.id);
  model.organizationsByUser.set(user.id, [...new Set(account.memberships.map((m) => m.organization))]);
}

/** The login's account look-up (docs/behaviour.md, step 4): by identity, else by email. */
function lookUp(model: DriftModel, cm: ConnectorModel, cached: CachedUser): { id: string; via: FoundAccount['via'] } | null {
  const byIdentity = model.identityOwner.get(identityKey(cm.connector, cached.subject));
  if (byIdentity !== undefined) return { id: byIdentity, via: 'identity' };
  const byEmail = cached.email ? model.emailOwner.get(cached.email.toLowerCase()) : undefined;
  return byEmail !== undefined ? { id: byEmail, via: 'email' } : null;
}

function setCachedRecord(model: DriftModel, cm: ConnectorModel, cached: CachedUser, found: FoundAccount | null): DriftRecord {
  const key = cachedKey(cached.subject);
  const previous = cm.records.get(key);
  if (previous?.userId) {
    const keys = cm.linked.get(previous.userId)?.filter((k) => k !== key) ?? [];
    if (keys.length > 0) cm.linked.set(previous.userId, keys);
    else cm.linked.delete(previous.userId);
  }
  const record = cachedUserRecord(cm, cached, found, model.invitationsByEmail);
  for (const name of previous?.held ?? []) {
    const count = cm.holders.get(name)! - 1;
    if (count > 0) cm.holders.set(name, count);
    else cm.holders.delete(name);
  }
  for (const name of record.held) cm.holders.set(name, (cm.holders.get(name) ?? 0) + 1);
  cm.records.set(key, record);
  if (record.userId) push(cm.linked, record.userId, key);
  return record;
}

/** An account of the connector that no cache entry links to: the next login asks the IdP live. */
function refreshUncached(cm: ConnectorModel, account: Account): void {
  const key = uncachedKey(account.user.id);
  const record = uncachedRecord(cm.connector, account, cm.linked.has(account.user.id));
  if (record) cm.records.set(key, record);
  else cm.records.delete(key);
}

function identityKey(connector: string, subject: string): string {
  return `${connector}\u0000${subject}`;
}

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
