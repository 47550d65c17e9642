import type { ZodType } from 'zod';

/**
 * The connector contract: one configured IdP source. Every connector can list its groups, list
 * a group's members and look up one user's groups live. Optional capabilities (an incremental
 * feed) are separate interfaces, checked where they are used.
 */

export type ConnectorType = 'file' | 'okta' | 'entra' | 'gitlab' | 'ldap' | 'scim';

export interface IdpGroup {
  /** The IdP's stable id for the group. */
  id: string;
  /** What matching uses: display name (Okta, Entra), `cn` (LDAP), full path (GitLab). */
  name: string;
}

export interface IdpUser {
  /** The user's stable id in the IdP (the SSO subject). */
  subject: string;
  email: string | null;
  name: string | null;
}

/** A group member as `listMembers` reports it. */
export interface IdpMember extends IdpUser {
  /**
   * `true` when the user holds the group only through nested groups, `false` when directly.
   * Left out when the connector's listing does not say (pre-warm then keeps what a live
   * look-up said).
   */
  nested?: boolean;
}

export interface IdpUserGroups extends IdpUser {
  /** Every group name the user holds, nested memberships resolved. */
  groups: string[];
  /** The names in `groups` held only through nesting. */
  nestedGroups: string[];
}

/** Counters a connector bumps so pre-warm runs can report their figures. */
export interface CallStats {
  apiCalls: number;
  pages: number;
  retries: number;
}

export interface CallOptions {
  signal: AbortSignal;
  stats?: CallStats;
}

export interface Connector {
  readonly id: string;
  readonly type: ConnectorType;
  /**
   * Fed by the IdP's pushes (SCIM): the directory cache is the whole answer, never stale, with no
   * live look-up and no pre-warm.
   */
  readonly pushed?: boolean;
  /** Pages of groups. */
  listGroups(options: CallOptions): AsyncIterable<IdpGroup[]>;
  /** Pages of one group's members, nested members included (flagged `nested` when the listing says). */
  listMembers(group: IdpGroup, options: CallOptions): AsyncIterable<IdpMember[]>;
  /**
   * One user's groups, live. `null` when the IdP does not know the subject. Throws a
   * `ConnectorError` when the IdP could not answer: never reads a failure as "no groups".
   */
  lookupUser(query: { subject: string; email: string }, options: CallOptions): Promise<IdpUserGroups | null>;
  close?(): Promise<void>;
}

export type ConnectorErrorKind =
  | 'invalid_config'
  | 'auth_failed'
  | 'rate_limited'
  | 'bad_response'
  | 'unreachable'
  | 'timeout'
  | 'cursor_expired';

export class ConnectorError extends Error {
  /** How long the IdP asked us to wait before retrying (`Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly kind: ConnectorErrorKind,
    readonly connector: string,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(`${connector}: ${message}`, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.name = 'ConnectorError';
  }
}

/**
 * Optional capability: an incremental feed (Okta `lastMembershipUpdated`, Graph delta queries,
 * LDAP `modifyTimestamp`). Pre-warm re-lists the members of each changed group, applies member
 * changes a feed can state exactly, and leaves everything else in the cache as the last complete
 * run left it.
 */
export interface IncrementalFeed {
  /** A cursor marking "now", taken before a full run starts, so the next run misses nothing. */
  startCursor(options: CallOptions): Promise<string>;
  /**
   * What changed since `cursor`, and the cursor for the next run. Throws `ConnectorError` kind
   * `cursor_expired` when the IdP no longer honours the cursor (Graph `410 Gone`): the caller
   * runs a full resync.
   */
  changedGroups(cursor: string, options: CallOptions): Promise<FeedChanges>;
  /** The users behind subjects a feed reported as added but the cache does not know yet. */
  describeUsers?(subjects: string[], options: CallOptions): Promise<IdpUser[]>;
}

/** A feed that reports member changes, and so can describe the users they add. */
export type MemberChangeFeed = IncrementalFeed & Required<Pick<IncrementalFeed, 'describeUsers'>>;

export interface FeedChanges {
  /** Groups created or changed whose members pre-warm re-lists (nested members included). */
  changed: IdpGroup[];
  /**
   * Groups whose every member is direct (no nesting below or above them), with the subjects
   * added and removed: applied to the cache as they are, without re-listing the group. A feed
   * that gives any must implement `describeUsers`.
   */
  memberChanges?: MemberChanges[];
  /** Ids of groups deleted since the cursor. */
  deleted: string[];
  cursor: string;
}

export interface MemberChanges {
  group: IdpGroup;
  added: string[];
  removed: string[];
}

export function hasIncrementalFeed(connector: Connector): connector is Connector & IncrementalFeed {
  const candidate = connector as Partial<IncrementalFeed>;
  return typeof candidate.startCursor === 'function' && typeof candidate.changedGroups === 'function';
}

export interface ConnectorDeps {
  /** Folder of the config file: relative paths in connector config resolve against it. */
  baseDir: string;
}

/** What the config loader needs of a connector type: the schema of its `connectors:` entries. */
export interface ConnectorSchema<C extends { id: string; type: ConnectorType }> {
  type: C['type'];
  /** The whole entry: `connectorBaseSchema.extend({ type: z.literal(...), ... }).strict()`. */
  configSchema: ZodType<C, unknown>;
}

/** What each `connectors/<type>/index.ts` exports: the schema, and how to build the connector. */
export interface ConnectorDefinition<C extends { id: string; type: ConnectorType }> extends ConnectorSchema<C> {
  create(config: C, deps: ConnectorDeps): Connector;
}

/** Any connector type's schema, keyed by its type: the loader's view of the registry. */
export type AnyConnectorSchema = ConnectorSchema<{ id: string; type: ConnectorType }>;
export type ConnectorSchemas = Readonly<Partial<Record<ConnectorType, AnyConnectorSchema>>>;

/**
 * A `connectors:` entry as its type's `configSchema` parsed it: the base keys every entry has,
 * the type-specific keys kept (so it can be handed to `create`).
 */
export interface ConnectorEntryBase {
  id: string;
  type: ConnectorType;
  readonly [key: string]: unknown;
}

/**
 * Optional capability: every user of the directory. With it, a complete pre-warm run can tell a
 * user who left the IdP (marked absent) from one who is merely in no group.
 */
export interface UserListing {
  /** Pages of users, within the connector's configured scope. */
  listUsers(options: CallOptions): AsyncIterable<IdpUser[]>;
}

export function hasUserListing(connector: Connector): connector is Connector & UserListing {
  return typeof (connector as Partial<UserListing>).listUsers === 'function';
}
