import { z } from 'zod';
import {
  MEMBERSHIP_SOURCES,
  StoreError,
  type Account,
  type AuditEntry,
  type CachedGroup,
  type CachedUser,
  type ConnectorState,
  type Invitation,
  type Lease,
  type Membership,
  type Organization,
  type PrewarmFigures,
  type PrewarmRun,
  type PrewarmRunDetails,
  type SyncState,
} from './types.js';

/**
 * One schema per stored shape, shared by both backends: what the database hands back is checked
 * against these before it is used, never trusted. MongoDB checks whole documents (any field may
 * have been written by hand); SQLite checks its JSON columns with the schema of their field (its
 * other columns are typed and constrained by the table).
 */

const text = z.string();
// A missing optional field reads as null, as the hand-written decoders before these read it.
const optionalText = z.string().nullable().default(null);
const count = z.number().int().nonnegative();

export const identitySchema = z.object({ connector: text, subject: text });

export const membershipSchema = z.object({
  organization: text,
  group: text,
  source: z.enum(MEMBERSHIP_SOURCES as readonly [Membership['source'], ...Membership['source'][]]),
}) satisfies z.ZodType<Membership>;

export const membershipsSchema = z.array(membershipSchema);
export const stringsSchema = z.array(text);

export const accountSchema = z.object({
  user: z.object({
    id: text,
    username: text,
    email: text,
    name: optionalText,
    disabled: z.boolean(),
    identities: z.array(identitySchema),
    createdAt: text,
    updatedAt: text,
  }),
  memberships: membershipsSchema,
  version: z.number().int().positive(),
}) satisfies z.ZodType<Account>;

export const organizationSchema = z.object({ key: text, defaultGroup: text, groups: stringsSchema }) satisfies z.ZodType<Organization>;

export const invitationSchema = z.object({
  id: text,
  organization: text,
  email: text,
  group: optionalText,
  state: z.enum(['pending', 'accepted']),
  createdAt: text,
  acceptedAt: optionalText,
  acceptedBy: optionalText,
}) satisfies z.ZodType<Invitation>;

export const cachedUserSchema = z.object({
  connector: text,
  subject: text,
  email: optionalText,
  name: optionalText,
  groups: stringsSchema,
  nestedGroups: stringsSchema,
  fetchedAt: text,
  origin: z.enum(['prewarm', 'live']),
  absentSince: optionalText,
}) satisfies z.ZodType<CachedUser>;

export const cachedGroupSchema = z.object({ connector: text, id: text, name: text, fetchedAt: text }) satisfies z.ZodType<CachedGroup>;

export const syncStateSchema = z.object({
  userId: text,
  connector: text,
  subject: text,
  appliedGroups: stringsSchema,
  lastLoginAt: optionalText,
  lastReconciledAt: optionalText,
  lastSeenByPrewarmAt: optionalText,
  status: z.enum(['fresh', 'stale', 'error', 'absent']),
  lastError: optionalText,
}) satisfies z.ZodType<SyncState>;

export const leaseSchema = z.object({ name: text, holder: text, expiresAt: text }) satisfies z.ZodType<Lease>;

export const prewarmFiguresSchema = z.object({
  apiCalls: z.number().finite(),
  pages: z.number().finite(),
  retries: z.number().finite(),
  groups: z.number().finite(),
  users: z.number().finite(),
  memberships: z.number().finite(),
  errors: z.number().finite(),
}) satisfies z.ZodType<PrewarmFigures>;

export const prewarmRunDetailsSchema = z.object({
  groupsTotal: count.nullable(),
  absentMarked: count,
  membershipsRemoved: count,
  guard: z.object({ reason: text, share: z.number(), limit: z.number() }).nullable(),
  // Runs stored before drift snapshots existed have none.
  driftSummary: z
    .record(z.string(), count)
    .nullish()
    .transform((summary) => summary ?? null),
}) satisfies z.ZodType<PrewarmRunDetails>;

export const prewarmRunSchema = z.object({
  id: text,
  connector: text,
  mode: z.enum(['full', 'incremental']),
  state: z.enum(['running', 'succeeded', 'failed', 'guarded']),
  startedAt: text,
  finishedAt: optionalText,
  figures: prewarmFiguresSchema,
  details: prewarmRunDetailsSchema,
  error: optionalText,
}) satisfies z.ZodType<PrewarmRun>;

export const connectorStateSchema = z.object({
  connector: text,
  cursor: optionalText,
  lastCompleteRunAt: optionalText,
  lastRunId: optionalText,
}) satisfies z.ZodType<ConnectorState>;

export const auditDetailsSchema = z.record(z.string(), z.unknown());

export const auditEntrySchema = z.object({
  at: text,
  actor: text,
  action: text,
  userId: optionalText,
  details: auditDetailsSchema,
}) satisfies z.ZodType<AuditEntry>;

/**
 * `value` as `schema` reads it, or a `StoreError` naming where it was stored (`what`, e.g.
 * `accounts document "u1"` or `column sync_states.pending_add`) and the first field at fault.
 */
export function readStored<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new StoreError(`malformed ${what}: ${describeIssue(parsed.error.issues[0])}`);
}

/** A stored JSON text, parsed and read by `schema` (see `readStored`). */
export function readStoredJson<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new StoreError(`malformed ${what}: not valid JSON`);
  }
  return readStored(schema, value, what);
}

/** Input to a write, checked by the schema its stored form is read with: bad input writes nothing. */
export function checkWritten<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new StoreError(`invalid ${what}: ${describeIssue(parsed.error.issues[0])}`);
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'unreadable';
  const path = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `;
  return `${path}${issue.message}`;
}
