import { z } from 'zod';
import type { ConnectorErrorKind, ConnectorType } from '../../connectors/types.js';
import { MEMBERSHIP_SOURCES } from '../../store/types.js';
import { DRIFT_KINDS, type DriftKind } from '../drift/types.js';
import { nameRule } from '../text-rules.js';

/** Shapes of the HTTP API (docs/api.md), shared by validation and the OpenAPI document. */

const name = nameRule;

export const organizationKey = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64');

export const groupName = name;

export const userId = z.string().min(1).max(64);

/** A configured connector: the document lists them, since any other answers `400 unknown_connector`. */
export const connectorId = (connectorIds: readonly string[]) =>
  z
    .string()
    .min(1)
    .max(64)
    .meta(connectorIds.length > 0 ? { enum: [...connectorIds] } : {});

/**
 * An email address as the API takes it: zod's rule, with RFC 5321's limits that the document's
 * `format: email` promises (at most 64 characters before the `@`; DNS labels of at most 63
 * that neither start nor end with `-`).
 */
export const emailAddress = z
  .email({
    pattern: /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/,
  })
  .max(254)
  .refine((email) => email.lastIndexOf('@') <= 64, 'at most 64 characters before the @');

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const membership = z.object({
  organization: z.string(),
  group: z.string(),
  source: z.enum(MEMBERSHIP_SOURCES),
});

export const organization = z.object({
  key: z.string(),
  defaultGroup: z.string(),
  groups: z.array(z.string()),
});

export const syncState = z.object({
  userId: z.string(),
  connector: z.string(),
  subject: z.string(),
  appliedGroups: z.array(z.string()),
  lastLoginAt: z.string().nullable(),
  lastReconciledAt: z.string().nullable(),
  lastSeenByPrewarmAt: z.string().nullable(),
  pendingAdd: z.array(membership),
  pendingRemove: z.array(membership),
  status: z.enum(['fresh', 'stale', 'error', 'absent']),
  lastError: z.string().nullable(),
});

export const userView = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  disabled: z.boolean(),
  identities: z.array(z.object({ connector: z.string(), subject: z.string(), scimId: z.string().optional() })),
  memberships: z.array(membership),
  organizations: z.array(z.string()),
  syncState: z.array(syncState),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const loginAllowed = z.object({
  decision: z.literal('allow'),
  user: z.object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    created: z.boolean(),
  }),
  memberships: z.array(membership),
  organizations: z.array(z.string()),
  changes: z.object({
    added: z.array(membership),
    removed: z.array(membership),
    invitationsAccepted: z.array(z.string()),
    nameUpdated: z.boolean(),
    identityLinked: z.boolean(),
  }),
  groups: z.object({
    source: z.enum(['token', 'cache', 'live', 'stale-cache']),
    fetchedAt: z.string(),
    ageSeconds: z.number(),
    names: z.array(z.string()),
  }),
});

export const loginDenied = z.object({
  decision: z.literal('deny'),
  reason: z.enum(['signup_blocked', 'not_in_allowed_groups', 'idp_unavailable', 'user_disabled']),
});

export const invitation = z.object({
  id: z.string(),
  organization: z.string(),
  email: z.string(),
  group: z.string().nullable(),
  state: z.enum(['pending', 'accepted']),
  createdAt: z.string(),
  acceptedAt: z.string().nullable(),
  acceptedBy: z.string().nullable(),
});

export const membershipParams = z.object({
  org: organizationKey,
  group: groupName,
  userId,
});

const count = z.number().int().nonnegative();

export const prewarmRun = z.object({
  id: z.string(),
  connector: z.string(),
  mode: z.enum(['full', 'incremental']),
  state: z.enum(['running', 'succeeded', 'failed', 'guarded']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  figures: z.object({
    apiCalls: count,
    pages: count,
    retries: count,
    groups: count,
    users: count,
    memberships: count,
    errors: count,
  }),
  details: z.object({
    groupsTotal: count.nullable(),
    absentMarked: count,
    membershipsRemoved: count,
    guard: z.object({ reason: z.string(), share: z.number(), limit: z.number() }).nullable(),
    driftSummary: z.record(z.string(), count).nullable(),
  }),
  error: z.string().nullable(),
});

const driftKind = z.enum(DRIFT_KINDS);
const driftSummary = z.object(Object.fromEntries(DRIFT_KINDS.map((kind) => [kind, count])) as Record<DriftKind, typeof count>);

/** `GET /v1/drift` as JSON (the CSV and HTML answers carry the same items). */
export const driftPage = z.object({
  generatedAt: z.string(),
  dataAsOf: z.string().nullable(),
  summary: driftSummary,
  previousSummary: driftSummary.nullable(),
  total: count,
  items: z.array(
    z.object({
      kind: driftKind,
      connector: z.string(),
      user: z.object({ id: z.string().nullable(), email: z.string().nullable(), subject: z.string().nullable() }).nullable(),
      organization: z.string().nullable(),
      group: z.string().nullable(),
      idpGroup: z.string().nullable(),
      source: z.enum(MEMBERSHIP_SOURCES).nullable(),
      detail: z.string(),
    }),
  ),
});

/** Every kind and type, so that the enums below cannot miss one. */
const CONNECTOR_ERROR_KINDS: Record<ConnectorErrorKind, true> = {
  invalid_config: true,
  auth_failed: true,
  rate_limited: true,
  bad_response: true,
  unreachable: true,
  timeout: true,
  cursor_expired: true,
};
const CONNECTOR_TYPES: Record<ConnectorType, true> = { file: true, okta: true, entra: true, gitlab: true, ldap: true, scim: true };

/** A connector's last success and last error (`GET /v1/connectors`, `/readyz`). */
export const connectorStatus = z.object({
  id: z.string(),
  type: z.enum(Object.keys(CONNECTOR_TYPES) as [ConnectorType, ...ConnectorType[]]),
  lastSuccessAt: z.string().nullable(),
  lastError: z
    .object({
      kind: z.enum(Object.keys(CONNECTOR_ERROR_KINDS) as [ConnectorErrorKind, ...ConnectorErrorKind[]]),
      message: z.string(),
      at: z.string(),
      source: z.enum(['login', 'prewarm']),
    })
    .nullable(),
});
