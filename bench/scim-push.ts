import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfigYaml, HOOK_TOKEN } from './config.js';
import { startWorker, type Worker } from './ipc.js';
import type { PacedResult } from './paced.js';
import { buildDirectory, fileSubject, groupName, userEmail, userName } from './shape.js';

/**
 * An IdP's initial SCIM push, as Microsoft Entra ID sends it: one `POST /Users` per user, then per
 * group one `POST /Groups` and member `PATCH`es of up to 1,000 members each, from a few
 * connections at once, into a `scim` connector on SQLite, on its own listener (`server.scimListen`,
 * served by the SCIM thread). Meanwhile logins arrive at a fixed rate
 * (the paced open-loop generator, through a `file` connector seeded beforehand), so the figure is
 * what a push costs the logins. Afterwards the pushed users, groups and members are counted
 * through the SCIM API: a push that lost any is an error, not a figure.
 */

export interface ScimPushResult {
  users: number;
  groups: number;
  memberships: number;
  requests: { users: number; groups: number; memberPatches: number; total: number };
  pushSeconds: number;
  requestsPerSecond: number;
  /** Logins during the push, paced at `login.rate`; the run is as long as the push at its target rate. */
  login: PacedResult;
  /** Logins while the IdP lists every group with its members, again and again (an import, a reconciliation). */
  listing: { lists: number; seconds: number; login: PacedResult };
  checks: string[];
}

const SCIM_TOKEN = 'bench-scim-token-0123456789abcdef';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Entra's largest member PATCH. */
const MEMBERS_PER_PATCH = 1_000;
/** Requests in flight at once: an IdP's provisioning job sends a few at a time. */
const PUSH_CONCURRENCY = 8;
/** How long logins are timed while the IdP lists every group with its members. */
const LIST_SECONDS = 5;
/** The target, which sets the paced run's length so that both end together when it is met. */
export const TARGET_SCIM_REQUESTS_PER_SECOND = 500;

export async function benchScimPush(options: {
  users: number;
  groups: number;
  loginRate: number;
  /** Where to write a CPU profile of the daemon's login thread during the push (`--profile`). */
  profileDir?: string;
  log(line: string): void;
}): Promise<ScimPushResult> {
  const { log, users, groups } = options;
  const dir = mkdtempSync(join(tmpdir(), 'jitsync-bench-scim-'));
  let storeWorker: Worker | undefined;
  let daemon: Worker | undefined;
  const checks: string[] = [];
  try {
    const yaml = benchConfigYaml({
      store: 'sqlite:./jitsync.db',
      // SCIM facing the IdP on a listener of its own, as docs/scim.md advises: served by the SCIM thread.
      server: '  scimListen: 127.0.0.1:0\n',
      groups,
      connectors: [
        '  - { id: corp, type: file, path: ./directory.json }',
        // The rate limit is the IdP's guard, not what is measured here.
        `  - { id: entra-scim, type: scim, token: ${SCIM_TOKEN}, rateLimit: { perSecond: 100000, burst: 100000 } }`,
      ].join('\n'),
    });
    const directory = buildDirectory({ users, groups });
    log(`  seeding ${users} accounts for the logins (file connector)…`);
    storeWorker = startWorker('store-worker.js');
    await storeWorker.call('seed', { yaml, baseDir: dir, users, groups }, 30 * 60_000);
    await storeWorker.call('stop');
    storeWorker.kill();
    storeWorker = undefined;

    daemon = startWorker('daemon-worker.js', { execArgv: ['--v8-pool-size=1'] });
    const { url, scimUrl } = await daemon.call<{ url: string; scimUrl: string }>('start', { yaml, baseDir: dir });
    const scim = scimClient(`${scimUrl}/scim/v2/entra-scim`);

    const patches = directory.groupMembers.reduce((sum, members) => sum + Math.ceil(members.length / MEMBERS_PER_PATCH), 0);
    const planned = users + groups + patches;
    const loginSeconds = Math.max(2, Math.round(planned / TARGET_SCIM_REQUESTS_PER_SECOND));
    log(`  push: ${users} users, ${groups} groups, ${directory.memberships} members in ${patches} PATCHes (${planned} requests), logins at ${options.loginRate}/s for ${loginSeconds} s…`);

    let cursor = 0;
    const loginBodies = Array.from({ length: options.loginRate * loginSeconds }, () => {
      const u = (cursor++ * 7919) % users;
      return JSON.stringify({ connector: 'corp', subject: fileSubject(u), email: userEmail(u), name: userName(u) });
    });
    const generator = startWorker('paced-worker.js');
    const loginRun = generator.call<PacedResult>(
      'run',
      { url, rate: options.loginRate, durationSeconds: loginSeconds, path: '/v1/logins', headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` }, bodies: loginBodies },
      10 * 60_000,
    );

    if (options.profileDir) await daemon.call('profileStart');
    const started = performance.now();
    const userIds = new Array<string>(users);
    await inParallel(users, async (u) => {
      const created = await scim('POST', '/Users', {
        schemas: [CORE_USER],
        externalId: `oid-${u}`,
        userName: userEmail(u),
        active: true,
        displayName: userName(u),
        name: { givenName: 'User', familyName: String(u) },
        emails: [{ primary: true, type: 'work', value: userEmail(u) }],
      }, 201);
      userIds[u] = String(created.id);
    });
    const usersSeconds = (performance.now() - started) / 1000;
    await inParallel(groups, async (g) => {
      const created = await scim('POST', '/Groups', { schemas: [CORE_GROUP], externalId: `gid-${g}`, displayName: groupName(g) }, 201);
      const members = directory.groupMembers[g]!;
      for (let from = 0; from < members.length; from += MEMBERS_PER_PATCH) {
        const value = members.slice(from, from + MEMBERS_PER_PATCH).map((u) => ({ value: userIds[u]! }));
        await scim('PATCH', `/Groups/${String(created.id)}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value }] }, 200);
      }
    });
    const pushSeconds = Math.round((performance.now() - started) / 10) / 100;
    log(`  user POSTs ${usersSeconds.toFixed(1)} s, groups and their members ${(pushSeconds - usersSeconds).toFixed(1)} s`);
    if (options.profileDir) await daemon.call('profileStop', { path: join(options.profileDir, 'scim-push.cpuprofile') });
    const login = await loginRun;
    if (login.failed > 0) throw new Error(`paced logins during the push: ${login.failed} failed: no figure is reported`);

    // The largest read an IdP makes: every group with its members (a SCIM import lists them so).
    const listSeconds = LIST_SECONDS;
    log(`  logins at ${options.loginRate}/s for ${listSeconds} s while every group is listed with its members, again and again…`);
    const listRun = generator.call<PacedResult>(
      'run',
      { url, rate: options.loginRate, durationSeconds: listSeconds, path: '/v1/logins', headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` }, bodies: loginBodies.slice(0, options.loginRate * listSeconds) },
      10 * 60_000,
    );
    let lists = 0;
    for (const until = performance.now() + listSeconds * 1000; performance.now() < until; lists++) {
      await scim('GET', `/Groups?count=${groups}&attributes=members`, undefined, 200);
    }
    const listing = { lists, seconds: listSeconds, login: await listRun };
    await generator.stop().catch(() => undefined);
    generator.kill();
    if (listing.login.failed > 0) throw new Error(`paced logins during the lists: ${listing.login.failed} failed: no figure is reported`);

    const expectSame = (what: string, actual: number, wanted: number) => {
      if (actual !== wanted) throw new Error(`correctness check failed: ${what} is ${actual}, expected ${wanted}`);
      checks.push(`${what} = ${actual}`);
    };
    expectSame('SCIM users after the push', Number((await scim('GET', '/Users?count=0', undefined, 200)).totalResults), users);
    const listed = await scim('GET', `/Groups?count=${groups}&attributes=members`, undefined, 200);
    expectSame('SCIM groups after the push', Number(listed.totalResults), groups);
    const resources = listed.Resources as Array<{ members?: unknown[] }>;
    expectSame('SCIM group members after the push', resources.reduce((sum, r) => sum + (r.members?.length ?? 0), 0), directory.memberships);

    await daemon.call('stop');
    await daemon.exited;
    daemon = undefined;
    return {
      users,
      groups,
      memberships: directory.memberships,
      requests: { users, groups, memberPatches: patches, total: planned },
      pushSeconds,
      requestsPerSecond: Math.round(planned / pushSeconds),
      login,
      listing,
      checks,
    };
  } finally {
    daemon?.kill();
    storeWorker?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A SCIM request that must answer `status`; its JSON body. */
function scimClient(base: string) {
  return async (method: string, path: string, body: unknown, status: number): Promise<Record<string, unknown>> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${SCIM_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== status) throw new Error(`SCIM ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
}

/** Runs `task(0)` … `task(count - 1)`, PUSH_CONCURRENCY at a time. */
async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, count) }, lane));
}
