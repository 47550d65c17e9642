import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { connectorDefinitions } from '../../connectors/registry.js';
import { loadConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/logger.js';
import { createDaemon, type Daemon } from '../../daemon/main.js';
import type { Membership } from '../../store/types.js';

/**
 * Shared setup of the pre-warm acceptance tests: a real YAML config file in a temp folder (SQLite
 * store beside it), the built CLI run as a child process, and the daemon started in-process on
 * the same file with real HTTP on a free loopback port.
 */

export const HOOK_TOKEN = 'prewarm-hook-token-0123456789';
export const ADMIN_TOKEN = 'prewarm-admin-token-0123456789';

/** The CLI as users run it: the built bin (`npm test` builds `dist/` before vitest). */
const BIN = resolve('dist/daemon/cli.js');
const execFileAsync = promisify(execFile);

export interface OrganizationSeed {
  key: string;
  defaultGroup?: string;
  groups: string[];
}

export interface Workspace {
  dir: string;
  configPath: string;
  /** Deletes the temp folder (config and SQLite file). */
  remove(): void;
}

/**
 * Writes `jitsync.yaml` with one connector entry (as a user would type it) and the given
 * organizations. The SQLite file lives next to it; the daemon listens on a free port.
 */
export function writeConfig(options: {
  connector: Record<string, unknown>;
  organizations: OrganizationSeed[];
  provisioning?: Record<string, unknown>;
}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'jitsync-prewarm-'));
  const document = {
    server: { listen: '127.0.0.1:0', hookToken: HOOK_TOKEN, adminToken: ADMIN_TOKEN },
    store: 'sqlite:./jitsync.db',
    log: { level: 'silent' },
    provisioning: { membership: 'reset', ...options.provisioning },
    organizations: options.organizations,
    connectors: [options.connector],
  };
  const configPath = join(dir, 'jitsync.yaml');
  writeFileSync(configPath, stringify(document));
  return { dir, configPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/daemon/cli.js …`; the env (with the fake Entra's CA bundle) is inherited. */
export async function jitsync(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const env = { ...process.env };
  delete env.JITSYNC_HOOK_TOKEN;
  delete env.JITSYNC_ADMIN_TOKEN;
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], { env, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: String(failed.stdout ?? ''),
      stderr: String(failed.stderr ?? error),
    };
  }
}

/** The `name  value` lines `jitsync prewarm` prints for a finished run. */
export function summaryOf(stdout: string): Record<string, string> {
  const rows: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^(\S(?:.*?\S)?) {2,}(.*)$/.exec(line);
    if (match) rows[match[1]!] = match[2]!;
  }
  return rows;
}

export interface RunningDaemon {
  daemon: Daemon;
  url: string;
  /** A request with the right token for the route, unless `token` says otherwise. */
  call<T = ApiBody>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  login(body: Record<string, unknown>): Promise<{ status: number; body: LoginBody }>;
  stop(): Promise<void>;
}

/** JSON answers are read loosely here; each test asserts the fields it relies on. */
export type ApiBody = Record<string, unknown> & { error?: { code: string; message: string } };

export interface LoginBody {
  decision: 'allow' | 'deny';
  reason?: string;
  memberships: Membership[];
  organizations: string[];
  groups: { source: string; names: string[]; fetchedAt: string; ageSeconds: number };
  error?: { code: string; message: string };
}

/** `createDaemon` + `listen` on the config file, as `jitsync serve` does. */
export async function startDaemon(configPath: string): Promise<RunningDaemon> {
  const config = loadConfig(configPath, { env: {}, definitions: connectorDefinitions });
  const daemon = await createDaemon(config, createLogger('silent'));
  const url = await daemon.listen();

  const call = async <T = ApiBody>(method: string, path: string, body?: unknown, token?: string) => {
    const bearer = token ?? (path.startsWith('/v1/logins') ? HOOK_TOKEN : ADMIN_TOKEN);
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };

  return {
    daemon,
    url,
    call,
    login: (body) => call<LoginBody>('POST', '/v1/logins', body),
    stop: () => daemon.close(),
  };
}

/** Memberships in a stable order, for exact comparison. */
export function sortedMemberships(memberships: readonly Membership[]): Membership[] {
  const key = (m: Membership) => `${m.organization}\u0000${m.group}\u0000${m.source}`;
  return [...memberships].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** `sync` memberships for each group name in each organization holding it, plus their default groups. */
export function expectedMemberships(organizations: readonly OrganizationSeed[], idpGroups: readonly string[]): Membership[] {
  const out: Membership[] = [];
  for (const org of organizations) {
    const matched = org.groups.filter((group) => idpGroups.includes(group));
    for (const group of matched) out.push({ organization: org.key, group, source: 'sync' });
    if (matched.length > 0) out.push({ organization: org.key, group: org.defaultGroup ?? 'Members', source: 'default' });
  }
  return sortedMemberships(out);
}
