import {
  MEMBERSHIP_SOURCES,
  StoreError,
  type Account,
  type AuditEntry,
  type CacheOrigin,
  type CachedGroup,
  type ConnectorState,
  type CachedUser,
  type Identity,
  type Invitation,
  type InvitationState,
  type Lease,
  type Membership,
  type MembershipSource,
  type Organization,
  type PrewarmFigures,
  type PrewarmRun,
  type PrewarmRunDetails,
  type PrewarmRunState,
  type SyncState,
  type SyncStatus,
} from '../types.js';

/**
 * The stored document shapes and their decoders. What the database hands back is `unknown`
 * until a decoder here has checked every field; a malformed document is a `StoreError`.
 */

export interface AccountDoc {
  _id: string;
  username: string;
  email: string;
  name: string | null;
  disabled: boolean;
  identities: Identity[];
  /** `identityKey` of each identity: a plain string array, indexed for the login look-up. */
  identityKeys: string[];
  memberships: Membership[];
  /** `tupleKey(organization, group)` of each membership, indexed for group listings. */
  membershipKeys: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Claims an identity for one account: `_id` (the identity key) makes the claim unique. */
export interface IdentityClaimDoc {
  _id: string;
  connector: string;
  subject: string;
  userId: string;
  /** Wall-clock time of the claim, to recognise one left behind by a crashed writer. */
  claimedAt: Date;
}

export interface OrganizationDoc {
  _id: string;
  defaultGroup: string;
  groups: string[];
  rev: number;
}

export interface InvitationDoc {
  _id: string;
  organization: string;
  email: string;
  group: string | null;
  state: InvitationState;
  createdAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
}

/** Any document with a string `_id`. */
export interface KeyedDoc {
  _id: string;
}

export interface CachedUserDoc extends CachedUser {
  _id: string;
}

export interface CachedGroupDoc extends CachedGroup {
  _id: string;
}

export interface SyncStateDoc extends SyncState {
  _id: string;
}

export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: string;
  rev: number;
}

export interface PrewarmRunDoc extends Omit<PrewarmRun, 'id'> {
  _id: string;
}

export type AuditDoc = AuditEntry;

export interface ConnectorStateDoc extends ConnectorState {
  _id: string;
}

/** Unambiguous string key for a tuple of strings (connector ids and subjects may hold any character). */
export function tupleKey(...parts: string[]): string {
  return JSON.stringify(parts);
}

export function identityKey(identity: Identity): string {
  return tupleKey(identity.connector, identity.subject);
}

// ---- field readers -------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function record(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError(`malformed ${what} document: not an object`);
  }
  // A plain object with string keys: checked just above.
  return Object.fromEntries(Object.entries(value));
}

function str(doc: Fields, key: string, what: string): string {
  const value = doc[key];
  if (typeof value !== 'string') throw new StoreError(`malformed ${what} document: ${key} is not a string`);
  return value;
}

function optStr(doc: Fields, key: string, what: string): string | null {
  const value = doc[key];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new StoreError(`malformed ${what} document: ${key} is not a string`);
  return value;
}

function num(doc: Fields, key: string, what: string): number {
  const value = doc[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new StoreError(`malformed ${what} document: ${key} is not a number`);
  }
  return value;
}

function bool(doc: Fields, key: string, what: string): boolean {
  const value = doc[key];
  if (typeof value !== 'boolean') throw new StoreError(`malformed ${what} document: ${key} is not a boolean`);
  return value;
}

function strings(doc: Fields, key: string, what: string): string[] {
  const value = doc[key];
  if (!Array.isArray(value)) throw new StoreError(`malformed ${what} document: ${key} is not a list`);
  return value.map((item) => {
    if (typeof item !== 'string') throw new StoreError(`malformed ${what} document: ${key} holds a non-string`);
    return item;
  });
}

function list(doc: Fields, key: string, what: string): unknown[] {
  const value = doc[key];
  if (!Array.isArray(value)) throw new StoreError(`malformed ${what} document: ${key} is not a list`);
  return value;
}

function oneOf<T extends string>(doc: Fields, key: string, allowed: readonly T[], what: string): T {
  const value = doc[key];
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new StoreError(`malformed ${what} document: ${key} is not one of ${allowed.join(', ')}`);
  return found;
}

const CACHE_ORIGINS: readonly CacheOrigin[] = ['prewarm', 'live'];
const SYNC_STATUSES: readonly SyncStatus[] = ['fresh', 'stale', 'error', 'absent'];
const INVITATION_STATES: readonly InvitationState[] = ['pending', 'accepted'];
const RUN_STATES: readonly PrewarmRunState[] = ['running', 'succeeded', 'failed', 'guarded'];
const RUN_MODES: readonly PrewarmRun['mode'][] = ['full', 'incremental'];
const SOURCES: readonly MembershipSource[] = MEMBERSHIP_SOURCES;

function parseIdentity(value: unknown, what: string): Identity {
  const doc = record(value, what);
  return { connector: str(doc, 'connector', what), subject: str(doc, 'subject', what) };
}

function parseMembership(value: unknown, what: string): Membership {
  const doc = record(value, what);
  return {
    organization: str(doc, 'organization', what),
    group: str(doc, 'group', what),
    source: oneOf(doc, 'source', SOURCES, what),
  };
}

// ---- decoders ------------------------------------------------------------------------------

export function parseAccount(value: unknown): Account {
  const what = 'account';
  const doc = record(value, what);
  return {
    user: {
      id: str(doc, '_id', what),
      username: str(doc, 'username', what),
      email: str(doc, 'email', what),
      name: optStr(doc, 'name', what),
      disabled: bool(doc, 'disabled', what),
      identities: list(doc, 'identities', what).map((item) => parseIdentity(item, what)),
      createdAt: str(doc, 'createdAt', what),
      updatedAt: str(doc, 'updatedAt', what),
    },
    memberships: list(doc, 'memberships', what).map((item) => parseMembership(item, what)),
    version: num(doc, 'version', what),
  };
}

export function parseIdentityClaim(value: unknown): { userId: string; claimedAt: Date } {
  const doc = record(value, 'identity claim');
  const claimedAt = doc.claimedAt;
  if (!(claimedAt instanceof Date)) throw new StoreError('malformed identity claim document: claimedAt is not a date');
  return { userId: str(doc, 'userId', 'identity claim'), claimedAt };
}

export function parseOrganization(value: unknown): Organization & { rev: number } {
  const what = 'organization';
  const doc = record(value, what);
  return {
    key: str(doc, '_id', what),
    defaultGroup: str(doc, 'defaultGroup', what),
    groups: strings(doc, 'groups', what),
    rev: num(doc, 'rev', what),
  };
}

export function parseInvitation(value: unknown): Invitation {
  const what = 'invitation';
  const doc = record(value, what);
  return {
    id: str(doc, '_id', what),
    organization: str(doc, 'organization', what),
    email: str(doc, 'email', what),
    group: optStr(doc, 'group', what),
    state: oneOf(doc, 'state', INVITATION_STATES, what),
    createdAt: str(doc, 'createdAt', what),
    acceptedAt: optStr(doc, 'acceptedAt', what),
    acceptedBy: optStr(doc, 'acceptedBy', what),
  };
}

export function parseCachedUser(value: unknown): CachedUser {
  const what = 'cached user';
  const doc = record(value, what);
  return {
    connector: str(doc, 'connector', what),
    subject: str(doc, 'subject', what),
    email: optStr(doc, 'email', what),
    name: optStr(doc, 'name', what),
    groups: strings(doc, 'groups', what),
    nestedGroups: strings(doc, 'nestedGroups', what),
    fetchedAt: str(doc, 'fetchedAt', what),
    origin: oneOf(doc, 'origin', CACHE_ORIGINS, what),
    absentSince: optStr(doc, 'absentSince', what),
  };
}

export function parseCachedGroup(value: unknown): CachedGroup {
  const what = 'cached group';
  const doc = record(value, what);
  return {
    connector: str(doc, 'connector', what),
    id: str(doc, 'id', what),
    name: str(doc, 'name', what),
    fetchedAt: str(doc, 'fetchedAt', what),
  };
}

export function parseSyncState(value: unknown): SyncState {
  const what = 'sync state';
  const doc = record(value, what);
  return {
    userId: str(doc, 'userId', what),
    connector: str(doc, 'connector', what),
    subject: str(doc, 'subject', what),
    appliedGroups: strings(doc, 'appliedGroups', what),
    lastLoginAt: optStr(doc, 'lastLoginAt', what),
    lastReconciledAt: optStr(doc, 'lastReconciledAt', what),
    lastSeenByPrewarmAt: optStr(doc, 'lastSeenByPrewarmAt', what),
    pendingAdd: list(doc, 'pendingAdd', what).map((item) => parseMembership(item, what)),
    pendingRemove: list(doc, 'pendingRemove', what).map((item) => parseMembership(item, what)),
    status: oneOf(doc, 'status', SYNC_STATUSES, what),
    lastError: optStr(doc, 'lastError', what),
  };
}

export function parseLease(value: unknown): Lease & { rev: number } {
  const what = 'lease';
  const doc = record(value, what);
  return {
    name: str(doc, '_id', what),
    holder: str(doc, 'holder', what),
    expiresAt: str(doc, 'expiresAt', what),
    rev: num(doc, 'rev', what),
  };
}

function parseFigures(value: unknown): PrewarmFigures {
  const what = 'pre-warm run figures';
  const doc = record(value, what);
  return {
    apiCalls: num(doc, 'apiCalls', what),
    pages: num(doc, 'pages', what),
    retries: num(doc, 'retries', what),
    groups: num(doc, 'groups', what),
    users: num(doc, 'users', what),
    memberships: num(doc, 'memberships', what),
    errors: num(doc, 'errors', what),
  };
}

function count(doc: Fields, key: string, what: string): number {
  const n = num(doc, key, what);
  if (!Number.isInteger(n) || n < 0) throw new StoreError(`malformed ${what} document: ${key} is not a count`);
  return n;
}

function parseRunDetails(value: unknown): PrewarmRunDetails {
  const what = 'pre-warm run details';
  const doc = record(value, what);
  const guard = doc.guard === null || doc.guard === undefined ? null : record(doc.guard, what);
  return {
    groupsTotal: doc.groupsTotal === null || doc.groupsTotal === undefined ? null : count(doc, 'groupsTotal', what),
    absentMarked: count(doc, 'absentMarked', what),
    membershipsRemoved: count(doc, 'membershipsRemoved', what),
    guard:
      guard === null
        ? null
        : { reason: str(guard, 'reason', what), share: num(guard, 'share', what), limit: num(guard, 'limit', what) },
    driftSummary: parseDriftSummary(doc.driftSummary, what),
  };
}

/** Runs stored before drift snapshots existed have no `driftSummary`: read as `null`. */
function parseDriftSummary(value: unknown, what: string): Record<string, number> | null {
  if (value === null || value === undefined) return null;
  const doc = record(value, what);
  const summary: Record<string, number> = {};
  for (const kind of Object.keys(doc)) summary[kind] = count(doc, kind, what);
  return summary;
}

export function parseConnectorState(value: unknown): ConnectorState {
  const what = 'connector state';
  const doc = record(value, what);
  return {
    connector: str(doc, 'connector', what),
    cursor: optStr(doc, 'cursor', what),
    lastCompleteRunAt: optStr(doc, 'lastCompleteRunAt', what),
    lastRunId: optStr(doc, 'lastRunId', what),
  };
}

export function parsePrewarmRun(value: unknown): PrewarmRun {
  const what = 'pre-warm run';
  const doc = record(value, what);
  return {
    id: str(doc, '_id', what),
    connector: str(doc, 'connector', what),
    mode: oneOf(doc, 'mode', RUN_MODES, what),
    state: oneOf(doc, 'state', RUN_STATES, what),
    startedAt: str(doc, 'startedAt', what),
    finishedAt: optStr(doc, 'finishedAt', what),
    figures: parseFigures(doc.figures),
    details: parseRunDetails(doc.details),
    error: optStr(doc, 'error', what),
  };
}

export function parseAudit(value: unknown): AuditEntry {
  const what = 'audit';
  const doc = record(value, what);
  return {
    at: str(doc, 'at', what),
    actor: str(doc, 'actor', what),
    action: str(doc, 'action', what),
    userId: optStr(doc, 'userId', what),
    details: record(doc.details, 'audit details'),
  };
}
