import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { ConnectorType } from '../../connectors/types.js';
import type { Organization } from '../../store/types.js';
import { readMongoUrl } from '../../store/mongo/url.js';
import { DEFAULT_SETTINGS, type ProvisioningSettings } from '../reconcile/settings.js';
import { nameRule } from '../text-rules.js';
import { parseDuration } from './duration.js';
import type { Problem } from './problems.js';

/**
 * The config file's schema, one zod schema per top-level section (the loader parses them one by
 * one so that a broken section does not hide problems elsewhere). Every object is strict: a
 * misspelt key is an error, not a silently ignored setting.
 */

export interface ListenAddress {
  /** Without brackets for IPv6 (`::1`), as `listen()` wants it. */
  host: string;
  /** 0 asks the OS for a free port. */
  port: number;
}

export interface ServerConfig {
  listen: ListenAddress;
  hookToken: string;
  adminToken: string;
  /** How long a write waits for another process's lock before the answer is `503 store_busy`. */
  storeBusyTimeoutMs: number;
  /** How long a stop (SIGTERM) may take to answer requests in flight before it gives up. */
  shutdownTimeoutMs: number;
  /** A listener of its own for the SCIM routes (facing the IdP); null: they are on `listen`. */
  scimListen: ListenAddress | null;
  /** TLS of the SCIM listener: PEM files, relative to the config file's folder. */
  scimTls: { certFile: string; keyFile: string } | null;
}

export type StoreConfig = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogConfig {
  level: LogLevel;
}

/**
 * One `connectors:` entry as its definition's `configSchema` parsed it (type-specific keys kept,
 * so the entry can be handed to `definition.create`), with `provisioning` replaced by the
 * validated overrides.
 */
export interface ConnectorEntry {
  id: string;
  type: ConnectorType;
  prewarm?: string;
  timeoutMs: number;
  maxRetries: number;
  /** Overrides of provisioning keys for logins through this connector; see `settingsFor`. */
  provisioning: Partial<ProvisioningSettings>;
  readonly [key: string]: unknown;
}

/**
 * What the config names that does not exist (yet), found while loading it. The daemon runs with
 * these and logs them at start; `jitsync config check` prints them and fails on `errors`.
 */
export interface ConfigFindings {
  /** A file a connector reads is missing or unreadable: that connector answers nothing until it appears. */
  errors: Problem[];
  /** A rule names an organization or group the config does not declare (the API may create it). */
  warnings: Problem[];
}

export interface JitsyncConfig {
  server: ServerConfig;
  store: StoreConfig;
  provisioning: ProvisioningSettings;
  /** Seeded at start: created, or given their missing groups; never shrunk. */
  organizations: Organization[];
  connectors: ConnectorEntry[];
  log: LogConfig;
  /** The config file's folder: relative paths in connector entries resolve against it. */
  baseDir: string;
  findings: ConfigFindings;
}


export const TOP_LEVEL_KEYS = ['server', 'store', 'provisioning', 'organizations', 'connectors', 'log'] as const;

export const DEFAULT_LISTEN = '127.0.0.1:8787';
export const DEFAULT_STORE = 'sqlite:./data/jitsync.db';
export const MIN_TOKEN_LENGTH = 16;

/** A group name in the config: the API's rule (text-rules.ts); names match case-sensitively. */
const nameSchema = nameRule;

// ---- server ----

const listenSchema = z
  .string()
  .prefault(DEFAULT_LISTEN)
  .transform((text, ctx): ListenAddress => {
    const parsed = parseListen(text);
    if (typeof parsed === 'string') {
      ctx.issues.push({ code: 'custom', message: parsed, input: text });
      return z.NEVER;
    }
    return parsed;
  });

/** `127.0.0.1:8787`, `localhost:8787`, `[::1]:8787` → host and port, or why not. */
export function parseListen(text: string): ListenAddress | string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  const usage = 'expected host:port, e.g. 127.0.0.1:8787 or [::1]:8787';
  if (!match) return usage;
  const [, ipv6, host, portText] = match;
  const port = Number(portText);
  if (port > 65_535) return 'port must be between 0 and 65535';
  if (ipv6 !== undefined) {
    if (isIP(ipv6) !== 6) return `${usage} (the bracketed part must be an IPv6 address)`;
    return { host: ipv6, port };
  }
  if (host === undefined) return usage;
  return { host, port };
}

// A client sends the token in an Authorization header, so only visible ASCII can be presented
// (RFC 9110's token68 and field values): spaces or other characters would lock every client out.
const tokenSchema = z
  .string()
  .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`)
  .regex(/^[\x21-\x7e]*$/, 'must be visible ASCII characters only (no spaces or accents)');

const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null) {
    ctx.issues.push({ code: 'custom', message: 'expected a duration such as 30s, 15m, 1h or 2d', input: text });
    return z.NEVER;
  }
  return ms;
});

export const DEFAULT_STORE_BUSY_TIMEOUT = '2s';
/** Under the 10 s a container runtime waits between SIGTERM and SIGKILL. */
export const DEFAULT_SHUTDOWN_TIMEOUT = '8s';

export const serverSchema = z
  .object({
    listen: listenSchema,
    hookToken: tokenSchema,
    adminToken: tokenSchema,
    storeBusyTimeout: durationSchema.prefault(DEFAULT_STORE_BUSY_TIMEOUT),
    shutdownTimeout: durationSchema.prefault(DEFAULT_SHUTDOWN_TIMEOUT),
    scimListen: listenSchema.nullable().default(null),
    scimTls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().nullable().default(null),
  })
  .strict()
  .superRefine((server, ctx) => {
    if (server.hookToken === server.adminToken) {
      ctx.addIssue({ code: 'custom', path: ['adminToken'], message: 'must differ from server.hookToken' });
    }
    const { listen, scimListen, scimTls } = server;
    if (scimListen && scimListen.port !== 0 && scimListen.port === listen.port && scimListen.host === listen.host) {
      ctx.addIssue({ code: 'custom', path: ['scimListen'], message: 'must differ from server.listen (leave it out to serve SCIM on server.listen)' });
    }
    // TLS on the main listener would change the hook's and admin API's scheme: a proxy's job there.
    if (scimTls && !scimListen) {
      ctx.addIssue({ code: 'custom', path: ['scimTls'], message: 'needs server.scimListen (TLS is for the SCIM listener only)' });
    }
  })
  .transform(({ storeBusyTimeout, shutdownTimeout, ...rest }): ServerConfig => ({
    ...rest,
    storeBusyTimeoutMs: storeBusyTimeout,
    shutdownTimeoutMs: shutdownTimeout,
  }));

// ---- store ----

/** `sqlite:PATH` (relative to `baseDir`; `sqlite::memory:` for a throwaway store) or a MongoDB URL. */
export function storeSchema(baseDir: string) {
  return z
    .string()
    .prefault(DEFAULT_STORE)
    .transform((text, ctx): StoreConfig => {
      const parsed = parseStore(text, baseDir);
      if (typeof parsed === 'string') {
        ctx.issues.push({ code: 'custom', message: parsed, input: text });
        return z.NEVER;
      }
      return parsed;
    });
}

export function parseStore(text: string, baseDir: string): StoreConfig | string {
  if (text.startsWith('sqlite:')) {
    const path = text.slice('sqlite:'.length);
    if (path === '') return 'sqlite: needs a file path, e.g. sqlite:./data/jitsync.db';
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(baseDir, path) };
  }
  if (text.startsWith('mongodb://') || text.startsWith('mongodb+srv://')) {
    // Not echoed in messages: the URL may hold a password.
    const read = readMongoUrl(text);
    if (!read.ok) return read.problem;
    if (read.database === null) return 'the MongoDB URL must name a database, e.g. mongodb://127.0.0.1:27017/jitsync';
    return { kind: 'mongodb', url: text };
  }
  return 'expected sqlite:PATH or a mongodb:// / mongodb+srv:// URL';
}

// ---- provisioning ----

const groupRefSchema = z.object({ organization: nameSchema, group: nameSchema }).strict();

const mappingSchema = z.object({ idpGroup: nameSchema, organization: nameSchema, group: nameSchema }).strict();

const defaultOrganizationSchema = z
  .object({ organization: nameSchema, group: nameSchema.optional() })
  .strict()
  .nullable()
  .transform((value) => (value === null ? null : { organization: value.organization, group: value.group ?? null }));

/** Every provisioning key, all optional: the shape of both the global block and the overrides. */
const provisioningKeysSchema = z
  .object({
    signUp: z.enum(['allowed', 'blocked']),
    allowedGroups: z.array(nameSchema),
    matching: z.enum(['exact', 'mapping']),
    mappings: z.array(mappingSchema),
    membership: z.enum(['reset', 'managed', 'additive']),
    protectedGroups: z.array(groupRefSchema),
    linkByEmail: z.boolean(),
    defaultOrganization: defaultOrganizationSchema,
    staleAfter: durationSchema,
    onIdpUnavailable: z.enum(['use-cache', 'deny']),
    maxRemovalShare: z.number().min(0).max(1),
  })
  .strict()
  .partial();

/** A connector's `provisioning` block: any provisioning key, same validation, no defaults. */
export const provisioningOverridesSchema = provisioningKeysSchema.transform((raw) => {
  const { staleAfter, ...rest } = raw;
  // zod leaves absent keys out (YAML cannot write `undefined`), so spreading keeps only what is set.
  const overrides: Partial<ProvisioningSettings> = { ...rest };
  if (staleAfter !== undefined) overrides.staleAfterMs = staleAfter;
  return overrides;
});

/**
 * Just the rules that name organizations and groups, read leniently (other keys are ignored), so
 * they can be checked against the seeded organizations even when another key is wrong.
 */
export const provisioningRulesSchema = provisioningKeysSchema
  .pick({ mappings: true, protectedGroups: true, defaultOrganization: true })
  .loose();

export type ProvisioningRules = Pick<Partial<ProvisioningSettings>, 'mappings' | 'protectedGroups' | 'defaultOrganization'>;

/** The global `provisioning` block: what is written, over `DEFAULT_SETTINGS`. */
export const provisioningSchema = provisioningOverridesSchema
  .prefault({})
  .transform((overrides): ProvisioningSettings => ({ ...DEFAULT_SETTINGS, ...overrides }));

// ---- organizations ----

export const organizationSchema = z
  .object({
    key: nameSchema,
    defaultGroup: nameSchema.default('Members'),
    groups: z.array(nameSchema).default([]),
  })
  .strict()
  .superRefine((org, ctx) => {
    const seen = new Set<string>();
    org.groups.forEach((group, index) => {
      if (group === org.defaultGroup) {
        ctx.addIssue({
          code: 'custom',
          path: ['groups', index],
          message: `is the default group (${org.defaultGroup}); list only the other groups`,
        });
      } else if (seen.has(group)) {
        ctx.addIssue({ code: 'custom', path: ['groups', index], message: `duplicate group ${group}` });
      }
      seen.add(group);
    });
  });

export const organizationsSchema = z
  .array(organizationSchema)
  .default([])
  .superRefine((orgs, ctx) => {
    const seen = new Set<string>();
    orgs.forEach((org, index) => {
      if (seen.has(org.key)) {
        ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `duplicate organization key ${org.key}` });
      }
      seen.add(org.key);
    });
  });

// ---- log ----

export const logSchema = z
  .object({ level: z.enum(LOG_LEVELS).default('info') })
  .strict()
  .prefault({});

// ---- per-connector settings ----

/** The provisioning settings for logins through one connector: its overrides over the global block. */
export function settingsFor(config: Pick<JitsyncConfig, 'provisioning' | 'connectors'>, connectorId: string): ProvisioningSettings {
  const entry = config.connectors.find((c) => c.id === connectorId);
  if (!entry) throw new Error(`unknown connector: ${connectorId}`);
  return { ...config.provisioning, ...entry.provisioning };
}

/**
 * A connector's own bearer token (a `scim` connector's `token`) must differ from the hook and
 * admin tokens: whoever holds it (the IdP) must not be able to call the login hook or the admin API.
 */
export function connectorTokenClashes(server: Pick<ServerConfig, 'hookToken' | 'adminToken'>, connectors: readonly ConnectorEntry[]): Problem[] {
  return connectors.flatMap((entry, index) =>
    entry.token !== undefined && (entry.token === server.hookToken || entry.token === server.adminToken)
      ? [{ path: `connectors[${index}].token`, message: 'must differ from server.hookToken and server.adminToken' }]
      : [],
  );
}
