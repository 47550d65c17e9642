import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { ADMIN_TOKEN, benchConfigYaml, HOOK_TOKEN, organizationOf } from './config.js';
import { startWorker, type Worker } from './ipc.js';
import { startBenchMongo, type BenchMongo } from './mongo.js';
import { benchStoreLock, type LockFigures } from './isolation.js';
import type { PacedResult } from './paced.js';
import { buildDirectory, fileSubject, groupName, userEmail, userName, type Directory } from './shape.js';

/**
 * The login hook under load. The daemon runs alone in its process on a store seeded
 * through pre-warm and real logins; the load comes from this process over loopback. Runs, in
 * order: no-change logins at full speed, `/healthz` at full speed (the no-op ceiling of the same
 * server), logins at a fixed rate (1,000/s, or half the measured throughput: autocannon and a paced generator), then logins that each
 * drop one membership. The store is counted before and after: a run that changed what it should
 * not, or failed to change what it should, is an error, not a figure.
 */

export interface ThroughputFigures {
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; p99_9: number; max: number };
  requests: number;
  non2xx: number;
  errors: number;
}

export interface LoginBenchResult {
  store: string;
  users: number;
  groups: number;
  memberships: number;
  seed: { totalSeconds: number; prewarmSeconds: number; accountsSeconds: number; accountsPerSecond: number };
  noChange: ThroughputFigures;
  healthz: ThroughputFigures;
  ratio: number;
  fixedRate: {
    /** Logins per second of the fixed-rate runs. */
    rate: number;
    autocannon: ThroughputFigures;
    /** Three runs each: the machine's speed drifts, so the best of three is reported beside all three. */
    paced: PacedResult[];
    pacedDuringDriftBuild: PacedResult;
    pacedWithDriftModel: PacedResult[];
    pacedDuringFullPrewarm: PacedResult;
  };
  /** A full pre-warm run of every user, started as the paced run during it starts. */
  fullPrewarmSeconds: number;
  /** Another process holds the SQLite write lock (SQLite only). */
  lock: LockFigures | null;
  withChange: ThroughputFigures & { membershipsRemoved: number };
  daemon: { peakRssMiB: number; cpuSeconds: number };
  /** The first `GET /v1/drift?limit=50` of the daemon (after the no-change runs): builds the drift model. */
  driftCold: DriftFigures;
  /** `GET /v1/drift?limit=50` after the changing run, twice: the model folded the logins in. */
  drift: DriftFigures[];
  checks: string[];
}

export interface DriftFigures {
  seconds: number;
  status: number;
  items: number;
  summary: Record<string, number>;
}

async function timeDrift(url: string): Promise<DriftFigures> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/drift?limit=50`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' },
    signal: AbortSignal.timeout(10 * 60_000),
  });
  const body: unknown = await response.json();
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  if (response.status !== 200 || typeof body !== 'object' || body === null || !('summary' in body) || !('items' in body)) {
    throw new Error(`GET /v1/drift answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  const summary = body.summary as Record<string, number>;
  const items = Array.isArray(body.items) ? body.items.length : -1;
  return { seconds, status: response.status, items, summary };
}

/** Starts a full pre-warm run of the bench's connector over HTTP and waits for it to succeed. */
async function timeFullPrewarm(url: string): Promise<number> {
  const started = performance.now();
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const answer = await fetch(`${url}/v1/prewarm`, { method: 'POST', headers, body: JSON.stringify({ connector: 'corp', full: true }) });
  const body = (await answer.json()) as { runs?: Array<{ id: string }> };
  const id = body.runs?.[0]?.id;
  if (answer.status !== 202 || !id) throw new Error(`POST /v1/prewarm answered ${answer.status}: ${JSON.stringify(body)}`);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const run = (await (await fetch(`${url}/v1/prewarm/${id}`, { headers })).json()) as { state: string };
    if (run.state === 'running') continue;
    if (run.state !== 'succeeded') throw new Error(`the full pre-warm run ended ${run.state}`);
    return Math.round((performance.now() - started) / 100) / 10;
  }
}

interface Counts {
  users: number;
  accounts: number;
  identities: number;
  memberships: number;
  cachedUsers: number;
  audit: Record<string, number>;
}

const CONNECTIONS = 16;

/** The Node options jitsync is run with: `npm start`, the package's bin and the image. */
const DAEMON_NODE_OPTIONS = ['--v8-pool-size=1'];

/** Memberships a login from the cache gives each user: matched groups plus one default per organization. */
function expectedMemberships(directory: Directory): number {
  let total = 0;
  for (const groups of directory.userGroups) {
    const orgs = new Set<number>();
    for (const g of groups) {
      const org = organizationOf(g);
      if (org === null) continue;
      total++;
      orgs.add(org);
    }
    total += orgs.size;
  }
  return total;
}

/** Users with two matched groups in one organization, and the group a token can drop (one membership change). */
function droppableGroups(directory: Directory): Array<{ user: number; groups: string[] }> {
  const out: Array<{ user: number; groups: string[] }> = [];
  directory.userGroups.forEach((groups, user) => {
    const byOrg = new Map<number, number[]>();
    for (const g of groups) {
      const org = organizationOf(g);
      if (org !== null) byOrg.set(org, [...(byOrg.get(org) ?? []), g]);
    }
    const pair = [...byOrg.values()].find((list) => list.length >= 2);
    if (!pair) return;
    const drop = pair[0]!;
    out.push({ user, groups: groups.filter((g) => g !== drop).map(groupName) });
  });
  return out;
}

function throughput(result: Result): ThroughputFigures {
  return {
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, p99_9: result.latency.p99_9, max: result.latency.max },
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function requireClean(label: string, figures: { non2xx: number; errors: number }): void {
  if (figures.non2xx > 0 || figures.errors > 0) {
    throw new Error(`${label}: ${figures.non2xx} non-2xx answers and ${figures.errors} errors: no figure is reported`);
  }
}

export async function benchLogin(options: {
  store: 'sqlite' | 'mongodb';
  users: number;
  groups: number;
  execArgv: string[];
  /** Where to write CPU profiles of the no-change and changing runs (`--profile`). */
  profileDir?: string;
  log(line: string): void;
  /** Shorter runs (the MongoDB variant). */
  short?: boolean;
  /**
   * Logins per second of the fixed-rate runs: 1,000 by default; `half-throughput` for a server
   * that cannot take 1,000 (half the no-change throughput, in steps of 10), where 1,000/s would
   * measure only the queue.
   */
  rate?: number | 'half-throughput';
}): Promise<LoginBenchResult> {
  const { log } = options;
  const dir = mkdtempSync(join(tmpdir(), 'jitsync-bench-login-'));
  let mongo: BenchMongo | undefined;
  let storeWorker: Worker | undefined;
  let daemon: Worker | undefined;
  const checks: string[] = [];
  const seconds = options.short ? 8 : 15;
  try {
    let storeUrl = 'sqlite:./jitsync.db';
    let storeName = 'SQLite (embedded)';
    if (options.store === 'mongodb') {
      mongo = await startBenchMongo();
      storeUrl = `${mongo.uri.replace(/\/$/, '')}/jitsync_bench`;
      storeName = mongo.description;
    }
    const yaml = benchConfigYaml({
      store: storeUrl,
      groups: options.groups,
      connectors: '  - { id: corp, type: file, path: ./directory.json }',
    });
    const directory = buildDirectory({ users: options.users, groups: options.groups });
    const expected = expectedMemberships(directory);

    log(`  seeding ${options.users} users x ${options.groups} groups (${directory.memberships} IdP memberships) on ${storeName}…`);
    storeWorker = startWorker('store-worker.js');
    const seedTimeout = options.store === 'mongodb' ? 5 * 60_000 : 30 * 60_000;
    const seed = await storeWorker.call<LoginBenchResult['seed']>('seed', { yaml, baseDir: dir, users: options.users, groups: options.groups }, seedTimeout);
    const count = () => storeWorker!.call<Counts>('count', { yaml, baseDir: dir });
    const seeded = await count();
    const expectSame = (what: string, actual: number, wanted: number) => {
      if (actual !== wanted) throw new Error(`correctness check failed: ${what} is ${actual}, expected ${wanted}`);
      checks.push(`${what} = ${actual}`);
    };
    expectSame('accounts after seeding', seeded.users, options.users);
    expectSame('identities after seeding', seeded.identities, options.users);
    expectSame('cached users after seeding', seeded.cachedUsers, options.users);
    expectSame('memberships after seeding', seeded.memberships, expected);
    expectSame('account.created audit entries', seeded.audit['account.created'] ?? 0, options.users);
    log(`  seeded in ${seed.totalSeconds.toFixed(1)} s (pre-warm ${seed.prewarmSeconds.toFixed(1)} s, accounts ${seed.accountsSeconds.toFixed(1)} s)`);

    // As `npm start` and the image run it (see docs/architecture.md).
    daemon = startWorker('daemon-worker.js', { execArgv: [...DAEMON_NODE_OPTIONS] });
    const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      if (!options.profileDir) return run();
      await daemon!.call('profileStart');
      const result = await run();
      await daemon!.call('profileStop', { path: join(options.profileDir, `${options.store}-${name}.cpuprofile`) });
      return result;
    };
    const { url } = await daemon.call<{ url: string }>('start', { yaml, baseDir: dir });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` };

    // Users in a scattered order (a stride coprime with the count), as logins arrive.
    let cursor = 0;
    const userStride = coprimeStride(options.users);
    const noChangeBody = () => {
      const u = (cursor++ * userStride) % options.users;
      return JSON.stringify({ connector: 'corp', subject: fileSubject(u), email: userEmail(u), name: userName(u) });
    };
    const loginRequests = [{ method: 'POST', path: '/v1/logins', headers, setupRequest: (req: { body?: string }) => ({ ...req, body: noChangeBody() }) }];

    log('  warm-up…');
    await autocannon({ url, connections: CONNECTIONS, duration: 3, requests: loginRequests });

    log(`  logins, no membership change, ${seconds} s…`);
    const noChange = throughput(
      await profiled('login-no-change', () => autocannon({ url, connections: CONNECTIONS, duration: seconds, requests: loginRequests })),
    );
    requireClean('no-change logins', noChange);
    log(`    ${noChange.requestsPerSecond}/s, p50 ${noChange.latencyMs.p50} ms, p99 ${noChange.latencyMs.p99} ms`);

    log(`  /healthz, ${seconds} s…`);
    const healthz = throughput(await autocannon({ url: `${url}/healthz`, connections: CONNECTIONS, duration: seconds }));
    requireClean('/healthz', healthz);
    log(`    ${healthz.requestsPerSecond}/s`);

    const rateSeconds = options.short ? 10 : 20;
    const rate =
      options.rate === 'half-throughput'
        ? Math.min(1000, Math.max(10, Math.floor(noChange.requestsPerSecond / 2 / 10) * 10))
        : (options.rate ?? 1000);
    const perSecond = `${rate.toLocaleString('en-US')}/s`;
    log(`  logins at ${perSecond} (autocannon overallRate), ${rateSeconds} s…`);
    const fixedAutocannon = throughput(
      await autocannon({ url, connections: CONNECTIONS, duration: rateSeconds, overallRate: rate, requests: loginRequests }),
    );
    requireClean('fixed-rate logins (autocannon)', fixedAutocannon);
    log(`    ${fixedAutocannon.requestsPerSecond}/s, p50 ${fixedAutocannon.latencyMs.p50} ms, p99 ${fixedAutocannon.latencyMs.p99} ms`);
    const pacedRun = async (label: string) => {
      log(`  logins at ${perSecond} (paced, open loop), ${label}, ${rateSeconds} s…`);
      const bodies = Array.from({ length: rate * rateSeconds }, noChangeBody);
      const generator = startWorker('paced-worker.js');
      let result: PacedResult;
      try {
        const args = { url, rate, durationSeconds: rateSeconds, path: '/v1/logins', headers, bodies };
        result = await generator.call<PacedResult>('run', args, 5 * 60_000);
        await generator.stop();
      } finally {
        generator.kill();
      }
      if (result.failed > 0) throw new Error(`paced logins: ${result.failed} failed: no figure is reported`);
      log(`    p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, p99.9 ${result.latencyMs.p99_9} ms`);
      return result;
    };
    const paced: PacedResult[] = [];
    for (let i = 1; i <= 3; i++) paced.push(await profiled(`login-paced-${i}`, () => pacedRun(`no drift model in memory (${i}/3)`)));

    // The drift model, once built, stays in the daemon's heap (and is what a later report reuses):
    // the same paced run again measures what holding it costs the logins.
    // The first report builds the model from the whole store, for seconds: what do the logins
    // that arrive meanwhile wait? The report is asked for as the paced run starts.
    log(`  drift report, the first since start (builds the drift model), under ${perSecond} logins…`);
    const [pacedDuringBuild, driftCold] = await profiled('login-during-drift-build', () =>
      Promise.all([pacedRun('while the drift model builds'), timeDrift(url)]),
    );
    log(`    ${driftCold.seconds} s`);
    const pacedWithModel: PacedResult[] = [];
    for (let i = 1; i <= 3; i++) {
      pacedWithModel.push(await profiled(`login-paced-with-model-${i}`, () => pacedRun(`drift model in memory (${i}/3)`)));
    }

    // A full pre-warm run rewrites every cache entry of the connector (and makes the next drift
    // report rebuild its model): what do the logins that arrive meanwhile wait? Before the changing
    // run, so that these logins change nothing; then one report rebuilds the model, untimed.
    log(`  full pre-warm of every user, under ${perSecond} logins…`);
    const [pacedDuringPrewarm, fullPrewarmSeconds] = await profiled('login-during-full-prewarm', () =>
      Promise.all([pacedRun('while a full pre-warm applies its writes'), timeFullPrewarm(url)]),
    );
    log(`    pre-warm ${fullPrewarmSeconds} s`);
    await timeDrift(url);

    const afterNoChange = await count();
    expectSame('memberships after the no-change runs', afterNoChange.memberships, expected);
    expectSame('account.reconciled audit entries after the no-change runs', afterNoChange.audit['account.reconciled'] ?? 0, 0);
    expectSame('accounts after the no-change runs', afterNoChange.users, options.users);

    const droppable = droppableGroups(directory);
    let changeCursor = 0;
    const changeStride = coprimeStride(droppable.length);
    // Bodies already applied: sent again, they change nothing (the lock test's steady logins).
    const applied: string[] = [];
    const changeBody = () => {
      const { user, groups } = droppable[(changeCursor++ * changeStride) % droppable.length]!;
      const body = JSON.stringify({ connector: 'corp', subject: fileSubject(user), email: userEmail(user), name: userName(user), groups });
      if (applied.length < 10_000) applied.push(body);
      return body;
    };
    log(`  logins that each drop one membership, ~${seconds} s (${droppable.length} eligible users)…`);
    const changeResult = throughput(
      await profiled('login-change', () => autocannon({
        url,
        connections: CONNECTIONS,
        // Each user logs in once: every login is a change. Bounded by the eligible users.
        amount: Math.min(droppable.length - CONNECTIONS, Math.round(noChange.requestsPerSecond * seconds)),
        requests: [{ method: 'POST', path: '/v1/logins', headers, setupRequest: (req: { body?: string }) => ({ ...req, body: changeBody() }) }],
      })),
    );
    requireClean('changing logins', changeResult);
    log(`    ${changeResult.requestsPerSecond}/s`);
    if (changeResult.requests > droppable.length) throw new Error('the changing run outran its distinct users: raise the user count');
    log('  drift report (GET /v1/drift?limit=50), twice…');
    const drift: DriftFigures[] = [];
    for (let i = 0; i < 2; i++) drift.push(await timeDrift(url));
    log(`    ${drift.map((d) => `${d.seconds} s`).join(', ')}; summary ${JSON.stringify(drift[0]!.summary)}`);
    let lock: LockFigures | null = null;
    let lockCursor = 0;
    if (options.store === 'sqlite') {
      log('  another process holds the SQLite write lock for 8 s…');
      lock = await benchStoreLock({
        url,
        dbPath: join(dir, 'jitsync.db'),
        holdSeconds: 8,
        noChangeBody: () => applied[lockCursor++ % applied.length]!,
        // Token groups: no live look-up (which would read the file connector's whole export), so
        // the first write this login meets is its account's.
        firstLoginBody: JSON.stringify({ connector: 'corp', subject: 'lock-newcomer', email: 'lock-newcomer@example.com', name: 'Lock Newcomer', groups: [] }),
      });
      log(`    ${JSON.stringify(lock)}`);
    }
    const daemonStats = await daemon.call<{ peakRssMiB: number; cpuSeconds: number }>('stop');
    await daemon.exited;
    daemon = undefined;

    const afterChange = await count();
    const reconciled = afterChange.audit['account.reconciled'] ?? 0;
    const removed = expected - afterChange.memberships;
    // Requests in flight when autocannon stopped may still have been applied: at least as many.
    if (reconciled < changeResult.requests) {
      throw new Error(`correctness check failed: ${reconciled} reconciled logins recorded, ${changeResult.requests} answered`);
    }
    expectSame('memberships removed by the changing run (one per reconciled login)', removed, reconciled);
    // The lock test's newcomer is the one account added after seeding.
    expectSame('accounts after the changing run and the lock test', afterChange.users, options.users + (lock ? 1 : 0));
    if (lock && (lock.firstLogin.code !== 'store_busy' || lock.afterRelease.status !== 200 || !lock.afterRelease.created || lock.afterRelease.againCreated)) {
      throw new Error(`correctness check failed: the lock test answered ${JSON.stringify(lock)}`);
    }
    // The changing logins dropped memberships the cache still lists (never an organization's
    // last one, so no default group goes): the report must show exactly those as pending adds.
    for (const [i, figures] of drift.entries()) {
      expectSame(`drift pending_add after the changing run (request ${i + 1})`, figures.summary.pending_add ?? -1, removed);
    }

    return {
      store: storeName,
      users: options.users,
      groups: options.groups,
      memberships: expected,
      seed: {
        totalSeconds: round(seed.totalSeconds),
        prewarmSeconds: round(seed.prewarmSeconds),
        accountsSeconds: round(seed.accountsSeconds),
        accountsPerSecond: seed.accountsPerSecond,
      },
      noChange,
      healthz,
      ratio: Math.round((noChange.requestsPerSecond / healthz.requestsPerSecond) * 1000) / 1000,
      fixedRate: {
        rate,
        autocannon: fixedAutocannon,
        paced,
        pacedDuringDriftBuild: pacedDuringBuild,
        pacedWithDriftModel: pacedWithModel,
        pacedDuringFullPrewarm: pacedDuringPrewarm,
      },
      fullPrewarmSeconds,
      lock,
      withChange: { ...changeResult, membershipsRemoved: removed },
      daemon: daemonStats,
      driftCold,
      drift,
      checks,
    };
  } finally {
    daemon?.kill();
    await storeWorker?.call('stop').catch(() => undefined);
    storeWorker?.kill();
    await mongo?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A stride that visits every index of `n` once before repeating (coprime with `n`). */
function coprimeStride(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let stride = 7919;
  while (gcd(stride, n) !== 1) stride += 2;
  return stride;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
