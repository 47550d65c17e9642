import { z } from 'zod';
import {
  accountSchema,
  auditEntrySchema,
  cachedGroupSchema,
  cachedUserSchema,
  connectorStateSchema,
  invitationSchema,
  leaseSchema,
  organizationSchema,
  prewarmRunSchema,
  readStored,
  syncStateSchema,
} from '../schemas.js';
import type {
  Account,
  AuditEntry,
  CachedGroup,
  CachedUser,
  ConnectorState,
  Identity,
  Invitation,
  InvitationState,
  Lease,
  Membership,
  Organization,
  PrewarmRun,
  SyncState,
} from '../types.js';

/**
 * The stored document shapes and their decoders. What the database hands back is `unknown`
 * until the shared schema of its shape (store/schemas.ts) has read it; a malformed document is a
 * `StoreError` naming the collection, the document and the field.
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

// ---- decoders: a document mapped to its stored shape, then read by that shape's schema --------

type Fields = Record<string, unknown>;

function fieldsOf(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : {};
}

/** How a document is named in errors: its kind, `_id` and collection. */
function named(kind: string, collection: string, doc: Fields): string {
  return `${kind} document ${JSON.stringify(doc._id ?? null)} in ${collection}`;
}

/** Read with `schema`, the document's `_id` given the domain's name for it (`id`, `key`, `name`). */
function read<T>(schema: z.ZodType<T>, raw: unknown, kind: string, collection: string, idAs?: string): T {
  const doc = fieldsOf(raw);
  const { _id, ...fields } = doc;
  return readStored(schema, idAs === undefined ? fields : { ...fields, [idAs]: _id }, named(kind, collection, doc));
}

export function parseAccount(raw: unknown): Account {
  const doc = fieldsOf(raw);
  const shaped = {
    user: {
      id: doc._id,
      username: doc.username,
      email: doc.email,
      name: doc.name,
      disabled: doc.disabled,
      identities: doc.identities,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
    },
    memberships: doc.memberships,
    version: doc.version,
  };
  return readStored(accountSchema, shaped, named('account', 'accounts', doc));
}

const identityClaimSchema = z.object({ userId: z.string(), claimedAt: z.date() });

export function parseIdentityClaim(raw: unknown): { userId: string; claimedAt: Date } {
  return read(identityClaimSchema, raw, 'identity claim', 'identities');
}

const organizationDocSchema = organizationSchema.extend({ rev: z.number() });

export function parseOrganization(raw: unknown): Organization & { rev: number } {
  return read(organizationDocSchema, raw, 'organization', 'organizations', 'key');
}

export const parseInvitation = (raw: unknown): Invitation => read(invitationSchema, raw, 'invitation', 'invitations', 'id');
export const parseCachedUser = (raw: unknown): CachedUser => read(cachedUserSchema, raw, 'cached user', 'cached_users');
export const parseCachedGroup = (raw: unknown): CachedGroup => read(cachedGroupSchema, raw, 'cached group', 'cached_groups');
export const parseSyncState = (raw: unknown): SyncState => read(syncStateSchema, raw, 'sync state', 'sync_states');

const leaseDocSchema = leaseSchema.extend({ rev: z.number() });

export function parseLease(raw: unknown): Lease & { rev: number } {
  return read(leaseDocSchema, raw, 'lease', 'leases', 'name');
}

export const parsePrewarmRun = (raw: unknown): PrewarmRun => read(prewarmRunSchema, raw, 'pre-warm run', 'prewarm_runs', 'id');
export const parseConnectorState = (raw: unknown): ConnectorState =>
  read(connectorStateSchema, raw, 'connector state', 'connector_states');
export const parseAudit = (raw: unknown): AuditEntry => read(auditEntrySchema, raw, 'audit', 'audit');
