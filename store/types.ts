import type { ScimResourceStore } from './scim-types.js';

/**
 * The store contract: jitsync's provisioned state (its system of record), the directory cache,
 * per-user sync state and the audit log. `Store` is composed of one part per aggregate (below);
 * every backend (SQLite, MongoDB) implements it, reports each committed write to `onChange`
 * listeners, and passes the same contract suite in `test/store-contract/`.
 *
 * Error contract: lookups return `null` when nothing matches; writes throw `NotFoundError`,
 * `AlreadyExistsError` (a unique key is taken) or `ConflictError` (a compare-and-swap lost).
 * Any call may throw `StoreBusyError` (another writer held the lock past the busy timeout:
 * transient) or `StoreUnavailableError` (the store cannot read or write at all).
 */

export type MembershipSource = 'sync' | 'manual' | 'invitation' | 'fallback' | 'default';
export const MEMBERSHIP_SOURCES: readonly MembershipSource[] = [
  'sync',
  'manual',
  'invitation',
  'fallback',
  'default',
];

/** One user's place in one group of one organization. At most one per (organization, group). */
export interface Membership {
  organization: string;
  group: string;
  source: MembershipSource;
}

export interface Identity {
  connector: string;
  subject: string;
}

export interface User {
  id: string;
  username: string;
  /** Stored lower-cased; unique. */
  email: string;
  name: string | null;
  disabled: boolean;
  identities: Identity[];
  createdAt: string;
  updatedAt: string;
}

/** A user with memberships: the unit of compare-and-swap. `version` grows by one per write. */
export interface Account {
  user: User;
  memberships: Membership[];
  version: number;
}

export interface Organization {
  key: string;
  /** The organization's default members group: derived, never synced from the IdP. */
  defaultGroup: string;
  /** The other groups, by name (case-sensitive). */
  groups: string[];
}

export type InvitationState = 'pending' | 'accepted';

export interface Invitation {
  id: string;
  organization: string;
  /** Lower-cased. */
  email: string;
  group: string | null;
  state: InvitationState;
  createdAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
}

/** How the directory cache learned a user's groups. */
export type CacheOrigin = 'prewarm' | 'live';

export interface CachedGroup {
  connector: string;
  id: string;
  name: string;
  fetchedAt: string;
}

export interface CachedUser {
  connector: string;
  subject: string;
  email: string | null;
  name: string | null;
  /** IdP group names as matching uses them (display name, `cn`, GitLab full path). */
  groups: string[];
  /** Group names the user holds only through nesting (subset of `groups`). */
  nestedGroups: string[];
  fetchedAt: string;
  origin: CacheOrigin;
  /** Set by pre-warm when a complete snapshot no longer has the user. */
  absentSince: string | null;
}

export type SyncStatus = 'fresh' | 'stale' | 'error' | 'absent';

/**
 * Per (user, connector): what the last login applied and when pre-warm last saw the user. What
 * the next login will change is not stored: the user view derives it when read (`decideLogin`).
 */
export interface SyncState {
  userId: string;
  connector: string;
  subject: string;
  appliedGroups: string[];
  lastLoginAt: string | null;
  lastReconciledAt: string | null;
  lastSeenByPrewarmAt: string | null;
  status: SyncStatus;
  lastError: string | null;
}

/** The times of a login that changed nothing else, written later in a batch (`recordLoginTimes`). */
export interface LoginTimes {
  userId: string;
  connector: string;
  /** ISO time, both `lastLoginAt` and `lastReconciledAt`. */
  at: string;
}

export interface AuditEntry {
  at: string;
  /** `login:<connector>`, `scim:<connector>`, `admin`, `prewarm:<connector>`, `cli`. */
  actor: string;
  action: string;
  userId: string | null;
  details: Record<string, unknown>;
}

export interface Lease {
  name: string;
  holder: string;
  expiresAt: string;
}

export type PrewarmRunState = 'running' | 'succeeded' | 'failed' | 'guarded';

export interface PrewarmFigures {
  apiCalls: number;
  pages: number;
  retries: number;
  groups: number;
  users: number;
  memberships: number;
  errors: number;
}

/** What a run found beyond its counters: progress, what it removes, and why it stopped. */
export interface PrewarmRunDetails {
  /** Groups to walk, once listed: `figures.groups` of `groupsTotal` is the progress. */
  groupsTotal: number | null;
  /** Cached users the run marks absent (no longer in the IdP). */
  absentMarked: number;
  /** Cached IdP group memberships the run removes. */
  membershipsRemoved: number;
  /** Set when the removal guard stopped the run; nothing was written. */
  guard: { reason: string; share: number; limit: number } | null;
  /**
   * Drift summary (count per drift kind) for the run's connector, taken when a run succeeds, so
   * a drift report can show the change since then; `null` for other runs and runs stored before.
   */
  driftSummary: Record<string, number> | null;
}

export interface PrewarmRun {
  id: string;
  connector: string;
  mode: 'full' | 'incremental';
  state: PrewarmRunState;
  startedAt: string;
  finishedAt: string | null;
  figures: PrewarmFigures;
  details: PrewarmRunDetails;
  error: string | null;
}

/** Per connector: where the incremental feed stands and when the last complete run ended. */
export interface ConnectorState {
  connector: string;
  /** The IdP's incremental cursor after the last successful run; null = next run is full. */
  cursor: string | null;
  lastCompleteRunAt: string | null;
  lastRunId: string | null;
}

export interface NewUser {
  id: string;
  username: string;
  email: string;
  name: string | null;
  identities: Identity[];
}

/** Changes an account updater may make. Identities are only ever added. */
export interface AccountChange {
  name?: string | null;
  disabled?: boolean;
  addIdentities?: Identity[];
  memberships?: Membership[];
}

/**
 * Computes the change to apply to the account as read. Must be pure and synchronous: a store may
 * call it more than once (after losing a compare-and-swap) and SQLite calls it inside a write
 * transaction. Returning `null` means "nothing to change" and writes nothing.
 */
export type AccountUpdater<T> = (current: Account) => { change: AccountChange | null; result: T };

/** The server behind a store and how it writes, for logs and `/readyz`. */
export interface StoreDetails {
  /** `SQLite 3.50.4`, `MongoDB 7.0.14`, `FerretDB 2.5.0 (DocumentDB, MongoDB 7.0.77 wire)`. */
  server: string;
  /**
   * How a compare-and-swap is written: `transactions` (SQLite), `atomic` (a conditional update:
   * MongoDB, DocumentDB) or `guarded` (guard documents: FerretDB 1.x). See store/mongo/write-guards.ts.
   */
  writeMode: 'transactions' | 'atomic' | 'guarded';
}

/** What the login writes of a sync state: every field but pre-warm's (see `SyncStateStore`). */
export type LoginSyncState = Omit<SyncState, 'lastSeenByPrewarmAt'>;

/**
 * What pre-warm writes of one existing sync state: whether the IdP still has the user (`seenAt`:
 * the run's time, or null when the user is gone from the IdP), as of the state it read
 * (`readLoginAt` is that state's `lastLoginAt`).
 */
export interface PrewarmSighting {
  userId: string;
  connector: string;
  readLoginAt: string | null;
  seenAt: string | null;
}

/**
 * A committed write, as the store reports it to `Store.onChange` listeners (the drift model, on
 * the background thread): plain data, so that it crosses a thread boundary.
 */
export type ChangeEvent =
  | { kind: 'account'; account: Account }
  /** The state as stored after the write (all its fields). */
  | { kind: 'sync-state'; state: SyncState }
  | { kind: 'cached-users'; users: readonly CachedUser[] }
  /** A connector's cached group list or its state (cursor, last complete run). */
  | { kind: 'connector'; connector: string }
  /** Organizations or invitations changed, or a write failed (it may have been applied in part). */
  | { kind: 'other' };

/**
 * Told of each committed write, right after it committed (in commit order on SQLite, whose writes
 * complete synchronously). Must not throw: the write has happened.
 */
export type ChangeListener = (event: ChangeEvent) => void;

// The store is composed of one part per aggregate. `store/write-events.ts` says, for every method
// of every part, whether it reads, writes silently, or which change events its commit reports.

/** The store itself: server, health, and its change feed. */
export interface StoreOps {
  /** The backend's name and version, for logs and `/readyz`. */
  describe(): string;
  details(): StoreDetails;
  ping(): Promise<void>;
  /** A small durable write, to learn whether the store takes writes again after a failure. */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
  /**
   * A value that changes whenever another process or connection commits a write, or null when the
   * backend cannot tell. Writes through this store object do not change it: they are reported to
   * `onChange` listeners instead.
   */
  changeToken(): Promise<string | null>;
  /**
   * Tells `listener` of every write this store object commits from now on, with the events
   * `store/write-events.ts` lists; a failed write is reported as `other`. Returns the unsubscribe.
   */
  onChange(listener: ChangeListener): () => void;
}

export interface AccountStore {
  getAccount(userId: string): Promise<Account | null>;
  findAccountByIdentity(identity: Identity): Promise<Account | null>;
  findAccountByEmail(email: string): Promise<Account | null>;
  /** Throws `AlreadyExistsError` naming the key (`id`, `identity`, `email`, `username`). */
  createAccount(user: NewUser, memberships: Membership[], now: string): Promise<Account>;
  /**
   * Reads the account, runs `updater`, writes its change if the account's version is still the
   * one read, and retries (bounded) when another writer came first. Throws `NotFoundError`,
   * `AlreadyExistsError` (an added identity belongs to someone else) or `ConflictError` when
   * retries run out.
   */
  updateAccount<T>(
    userId: string,
    updater: AccountUpdater<T>,
    now: string,
  ): Promise<{ account: Account; result: T; changed: boolean }>;
  /** Memberships of one group, for admin listings. */
  listGroupMembers(organization: string, group: string): Promise<string[]>;
  countUsers(): Promise<number>;
  /** Accounts in `id` order, at most `limit` after `afterId`: for pre-warm and reports. */
  listAccounts(page: { afterId: string | null; limit: number }): Promise<Account[]>;
}

export interface OrganizationStore {
  listOrganizations(): Promise<Organization[]>;
  getOrganization(key: string): Promise<Organization | null>;
  /** Throws `AlreadyExistsError` when the key is taken. */
  createOrganization(org: Organization): Promise<Organization>;
  /** Creates the organization or adds missing groups; never removes anything. */
  ensureOrganization(org: Organization): Promise<Organization>;
  /** Throws `NotFoundError` (organization) or `AlreadyExistsError` (group). */
  addGroup(organization: string, group: string): Promise<Organization>;
}

export interface InvitationStore {
  createInvitation(invitation: Invitation): Promise<Invitation>;
  pendingInvitations(email: string): Promise<Invitation[]>;
  /** Every pending invitation, ordered by email, creation and id: for drift reports. */
  listPendingInvitations(): Promise<Invitation[]>;
  /** Marks pending invitations accepted; ignores ones already accepted (idempotent). */
  acceptInvitations(ids: string[], userId: string, now: string): Promise<void>;
}

export interface DirectoryCacheStore {
  getCachedUser(connector: string, subject: string): Promise<CachedUser | null>;
  putCachedUser(user: CachedUser): Promise<void>;
  /** Bulk write for pre-warm. */
  putCachedUsers(users: CachedUser[]): Promise<void>;
  listCachedUsers(connector: string): Promise<CachedUser[]>;
  /** The cached users of these subjects, those the cache holds (bulk read for an incremental run). */
  getCachedUsers(connector: string, subjects: readonly string[]): Promise<CachedUser[]>;
  /** Present (not absent) cached users and their memberships: the removal guard's denominators. */
  countCachedMemberships(connector: string): Promise<{ users: number; memberships: number }>;
  putCachedGroups(groups: CachedGroup[]): Promise<void>;
  /** A complete run's group list: replaces every cached group of the connector at once. */
  replaceCachedGroups(connector: string, groups: CachedGroup[]): Promise<void>;
  deleteCachedGroups(connector: string, ids: string[]): Promise<void>;
  listCachedGroups(connector: string): Promise<CachedGroup[]>;
}

/**
 * Sync state has two writers, the login and pre-warm, and each writes only its own fields, in one
 * atomic step per row, so that neither overwrites what the other wrote meanwhile:
 *
 * - the login (`recordLogin`): `subject`, `appliedGroups`, `lastLoginAt`, `lastReconciledAt`,
 *   `status` and `lastError`. `lastSeenByPrewarmAt` is kept, and so is `lastLoginAt` when the
 *   write's is null (a SCIM push provisioning the account: no login happened; null on a new row).
 *   `recordLoginTimes` moves only the two times.
 * - pre-warm (`recordPrewarmSightings`): `lastSeenByPrewarmAt` always (when it saw the user);
 *   and, only when no login has written the row since pre-warm read it (`lastLoginAt`
 *   unchanged), the status the sighting implies: `absent` for a user gone from the IdP, else
 *   `fresh` with `lastError` cleared. A login since then reconciled against the cache pre-warm
 *   had already written, so its answer is the newer one and stands.
 */
export interface SyncStateStore {
  getSyncState(userId: string, connector: string): Promise<SyncState | null>;
  listSyncStates(connector?: string): Promise<SyncState[]>;
  /** Writes the whole row, both writers' fields: for imports and tests, not for the services. */
  putSyncState(state: SyncState): Promise<void>;
  /** The login's write (see above): creates the row or updates the login's fields; returns the row. */
  recordLogin(state: LoginSyncState): Promise<SyncState>;
  /**
   * Sets `lastLoginAt` and `lastReconciledAt` of existing sync states, never moving either back;
   * nothing else of the row is touched. States that do not exist are left out.
   */
  recordLoginTimes(times: readonly LoginTimes[]): Promise<void>;
  /**
   * Pre-warm's write (see above). Rows that do not exist are left out (pre-warm never creates
   * one). Returns the rows as stored afterwards.
   */
  recordPrewarmSightings(sightings: readonly PrewarmSighting[]): Promise<SyncState[]>;
}

/** Leases: one holder at a time; an expired lease can be taken over. */
export interface LeaseStore {
  /** Atomically takes the lease if free, expired or already ours (renewal). */
  acquireLease(name: string, holder: string, ttlMs: number, now: string): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}

export interface PrewarmRunStore {
  putPrewarmRun(run: PrewarmRun): Promise<void>;
  getPrewarmRun(id: string): Promise<PrewarmRun | null>;
  getConnectorState(connector: string): Promise<ConnectorState | null>;
  putConnectorState(state: ConnectorState): Promise<void>;
}

export interface AuditStore {
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(filter: { userId?: string; limit?: number }): Promise<AuditEntry[]>;
}

export interface Store
  extends StoreOps,
    AccountStore,
    OrganizationStore,
    InvitationStore,
    DirectoryCacheStore,
    SyncStateStore,
    LeaseStore,
    PrewarmRunStore,
    AuditStore,
    ScimResourceStore {}

/** Every store method a backend implements with data (all but the ops it answers itself). */
export type StoreMethods = Omit<Store, 'describe' | 'details' | 'close' | 'onChange'>;

export class StoreError extends Error {}

export class NotFoundError extends StoreError {
  constructor(
    readonly entity: string,
    readonly key: string,
  ) {
    super(`${entity} not found: ${key}`);
    this.name = 'NotFoundError';
  }
}

export type UniqueKey = 'id' | 'identity' | 'email' | 'username' | 'organization' | 'group' | 'invitation';

export class AlreadyExistsError extends StoreError {
  constructor(
    readonly key: UniqueKey,
    readonly value: string,
  ) {
    super(`${key} already exists: ${value}`);
    this.name = 'AlreadyExistsError';
  }
}

export class ConflictError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A SCIM resource's userName or displayName (case-insensitively), or externalId, is taken. */
export class ScimUniquenessError extends StoreError {
  constructor(
    readonly attribute: 'userName' | 'displayName' | 'externalId',
    readonly value: string,
  ) {
    super(`${attribute} already exists: ${value}`);
    this.name = 'ScimUniquenessError';
  }
}

/** Another writer (usually another process) held the store's lock past the busy timeout. Transient. */
export class StoreBusyError extends StoreError {
  constructor(readonly waitedMs: number) {
    super(`the store is locked by another writer (waited ${waitedMs} ms)`);
    this.name = 'StoreBusyError';
  }
}

/**
 * The store cannot read or write: disk full, I/O error, read-only file, server unreachable. The
 * message names the store and the cause, never credentials.
 */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Membership identity: at most one membership per (organization, group). */
export function membershipKey(m: { organization: string; group: string }): string {
  return `${m.organization}\u0000${m.group}`;
}

/**
 * A store error as plain data, so that it crosses a thread boundary (a worker's store call runs
 * on the thread that writes); `storeErrorFromData` makes it again, of the same class.
 */
export type StoreErrorData =
  | { kind: 'busy'; waitedMs: number }
  | { kind: 'unavailable'; message: string }
  | { kind: 'not-found'; entity: string; key: string }
  | { kind: 'already-exists'; key: UniqueKey; value: string }
  | { kind: 'conflict'; message: string }
  | { kind: 'scim-uniqueness'; attribute: ScimUniquenessError['attribute']; value: string }
  | { kind: 'other'; message: string };

export function storeErrorData(error: StoreError): StoreErrorData {
  if (error instanceof StoreBusyError) return { kind: 'busy', waitedMs: error.waitedMs };
  if (error instanceof StoreUnavailableError) return { kind: 'unavailable', message: error.message };
  if (error instanceof NotFoundError) return { kind: 'not-found', entity: error.entity, key: error.key };
  if (error instanceof AlreadyExistsError) return { kind: 'already-exists', key: error.key, value: error.value };
  if (error instanceof ConflictError) return { kind: 'conflict', message: error.message };
  if (error instanceof ScimUniquenessError) return { kind: 'scim-uniqueness', attribute: error.attribute, value: error.value };
  return { kind: 'other', message: error.message };
}

export function storeErrorFromData(data: StoreErrorData): StoreError {
  switch (data.kind) {
    case 'busy':
      return new StoreBusyError(data.waitedMs);
    case 'unavailable':
      return new StoreUnavailableError(data.message);
    case 'not-found':
      return new NotFoundError(data.entity, data.key);
    case 'already-exists':
      return new AlreadyExistsError(data.key, data.value);
    case 'conflict':
      return new ConflictError(data.message);
    case 'scim-uniqueness':
      return new ScimUniquenessError(data.attribute, data.value);
    case 'other':
      return new StoreError(data.message);
  }
}
