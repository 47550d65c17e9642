import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrewarmRun } from '../store/types.js';
import { createSelfSignedCert, TLS_ENV } from '../test/fakes/entra/tls.js';
import { benchConfigYaml } from './config.js';
import { startWorker, type Worker } from './ipc.js';

/**
 * Pre-warm at scale: a full run then an incremental run after 1% of the memberships
 * changed, against the Okta fake and the Entra fake, each fake in its own process and each run in
 * a fresh process. Every run is checked against the fake's directory before a figure is kept.
 */

export interface PrewarmFigures {
  idp: 'okta' | 'entra';
  mode: 'full' | 'incremental';
  wallSeconds: number;
  apiCalls: number;
  minimumCalls: number;
  memberships: number;
  membershipsPerSecond: number;
  peakRssMiB: number;
  cpuSeconds: number;
  fakeCpuSeconds: number;
  note: string;
}

export interface PrewarmBenchResult {
  idp: 'okta' | 'entra';
  seedSeconds: number;
  full: PrewarmFigures;
  incremental: PrewarmFigures;
  incrementalChange: { changes: number; groupsTouched: number };
  runs: PrewarmRun[];
}

interface WorkerRun {
  run: PrewarmRun;
  wallSeconds: number;
  peakRssMiB: number;
  cpuSeconds: number;
  cache: { users: number; absent: number; memberships: number; groups: number };
}

interface FakeStatus {
  calls: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

interface ChangeAnswer {
  changes: number;
  groupsTouched: number;
  minimumCalls: number;
}

export interface PrewarmShape {
  users: number;
  groups: number;
  /** Extra node flags for the pre-warm process (e.g. `--cpu-prof`). */
  execArgv?: string[];
  log(line: string): void;
}

/** The pre-warm process: one daemon for both runs, as the daemon's cron runs them. */
async function openPrewarmer(yaml: string, baseDir: string, env: NodeJS.ProcessEnv, execArgv: string[]) {
  const worker = startWorker('prewarm-worker.js', { env, execArgv });
  await worker.call('open', { yaml, baseDir }, 60_000);
  return {
    run: (connector: string) => worker.call<WorkerRun>('run', { connector }, 14 * 60_000),
    close: () => worker.stop(),
  };
}

function check(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`correctness check failed: ${what} is ${actual}, expected ${expected}`);
}

function checkRun(label: string, result: WorkerRun, expected: { usersInGroups: number; memberships: number; groups: number }): void {
  if (result.run.state !== 'succeeded') throw new Error(`${label}: run ended ${result.run.state}: ${result.run.error}`);
  // Users the IdP lists but who are in no group are cached too (with no groups); count those in groups.
  check(`${label}: cached memberships`, result.cache.memberships, expected.memberships);
  check(`${label}: cached groups`, result.cache.groups, expected.groups);
  if (result.cache.users < expected.usersInGroups) {
    check(`${label}: cached users in groups`, result.cache.users, expected.usersInGroups);
  }
}

async function benchIdp(
  idp: 'okta' | 'entra',
  shape: PrewarmShape,
  fake: Worker,
  fakeInfo: { seedSeconds: number },
  connectorYaml: string,
  env: NodeJS.ProcessEnv,
  sizes: Record<string, number>,
): Promise<PrewarmBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), `jitsync-bench-${idp}-`));
  let prewarmer: Awaited<ReturnType<typeof openPrewarmer>> | undefined;
  try {
    const yaml = benchConfigYaml({ store: 'sqlite:./jitsync.db', groups: shape.groups, connectors: connectorYaml });
    const minimumFull = await fake.call<number>('minimum', sizes);
    const expected = await fake.call<{ usersInGroups: number; memberships: number }>('expected');

    await fake.call('resetCalls');
    const cpuBefore = (await fake.call<FakeStatus>('calls')).cpuSeconds;
    shape.log(`  ${idp}: full pre-warm run…`);
    prewarmer = await openPrewarmer(yaml, dir, env, shape.execArgv ?? []);
    const full = await prewarmer.run(idp);
    const afterFull = await fake.call<FakeStatus>('calls');
    checkRun(`${idp} full`, full, { ...expected, groups: shape.groups });

    shape.log(`  ${idp}: changing 1% of memberships, incremental run…`);
    const change = await fake.call<ChangeAnswer>('change', { share: 0.01, ...sizes });
    const expectedAfter = await fake.call<{ usersInGroups: number; memberships: number }>('expected');
    await fake.call('resetCalls');
    const incremental = await prewarmer.run(idp);
    const afterIncremental = await fake.call<FakeStatus>('calls');
    checkRun(`${idp} incremental`, incremental, { ...expectedAfter, groups: shape.groups });
    if (incremental.run.mode !== 'incremental') throw new Error(`${idp}: the second run was ${incremental.run.mode}, not incremental`);

    const figures = (mode: 'full' | 'incremental', r: WorkerRun, calls: number, minimum: number, fakeCpu: number, note: string): PrewarmFigures => ({
      idp,
      mode,
      wallSeconds: round(r.wallSeconds, 2),
      apiCalls: calls,
      minimumCalls: minimum,
      memberships: r.run.figures.memberships,
      membershipsPerSecond: Math.round(r.run.figures.memberships / r.wallSeconds),
      peakRssMiB: r.peakRssMiB,
      cpuSeconds: r.cpuSeconds,
      fakeCpuSeconds: round(fakeCpu, 1),
      note,
    });
    return {
      idp,
      seedSeconds: fakeInfo.seedSeconds,
      full: figures('full', full, afterFull.calls, minimumFull, afterFull.cpuSeconds - cpuBefore, `cache: ${full.cache.users} users, ${full.cache.memberships} memberships`),
      incremental: figures(
        'incremental',
        incremental,
        afterIncremental.calls,
        change.minimumCalls,
        afterIncremental.cpuSeconds - afterFull.cpuSeconds,
        `${change.changes} changes in ${change.groupsTouched} groups; cache: ${incremental.cache.memberships} memberships`,
      ),
      incrementalChange: { changes: change.changes, groupsTouched: change.groupsTouched },
      runs: [full.run, incremental.run],
    };
  } finally {
    await prewarmer?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPrewarmOkta(shape: PrewarmShape): Promise<PrewarmBenchResult> {
  const fake = startWorker('okta-fake-worker.js');
  try {
    shape.log(`  okta: seeding the fake (${shape.users} users x ${shape.groups} groups)…`);
    const info = await fake.call<{ url: string; token: string; seedSeconds: number }>('start', { users: shape.users, groups: shape.groups });
    const sizes = { groupsPage: 200, membersPage: 1000, usersPage: 200 };
    const connector = `  - { id: okta, type: okta, orgUrl: "${info.url}", token: ${info.token}, pageSize: ${sizes.groupsPage}, membersPageSize: ${sizes.membersPage}, membershipEvents: true, timeoutMs: 120000 }`;
    return await benchIdp('okta', shape, fake, info, connector, {}, sizes);
  } finally {
    await fake.call('stop').catch(() => undefined);
    fake.kill();
  }
}

export async function benchPrewarmEntra(shape: PrewarmShape): Promise<PrewarmBenchResult> {
  // Node reads NODE_EXTRA_CA_CERTS only at start: the certificate is made before either process.
  const tlsDir = mkdtempSync(join(tmpdir(), 'jitsync-bench-tls-'));
  const { certPath, keyPath } = await createSelfSignedCert(tlsDir, AbortSignal.timeout(30_000));
  const bundle = join(tlsDir, 'extra-ca.pem');
  const inherited = process.env.NODE_EXTRA_CA_CERTS ? readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8') : '';
  writeFileSync(bundle, `${inherited}\n${readFileSync(certPath, 'utf8')}`);
  const env = { NODE_EXTRA_CA_CERTS: bundle, [TLS_ENV.cert]: certPath, [TLS_ENV.key]: keyPath };
  const fake = startWorker('entra-fake-worker.js', { env });
  try {
    shape.log(`  entra: seeding the fake (${shape.users} users x ${shape.groups} groups)…`);
    const info = await fake.call<{ url: string; tenantId: string; clientId: string; clientSecret: string; seedSeconds: number }>('start', {
      users: shape.users,
      groups: shape.groups,
    });
    const sizes = { groupsPage: 999, membersPage: 999, usersPage: 999 };
    const connector =
      `  - { id: entra, type: entra, tenantId: "${info.tenantId}", clientId: "${info.clientId}", clientSecret: "${info.clientSecret}",` +
      ` authorityHost: "${info.url}", graphUrl: "${info.url}", pageSize: 999, timeoutMs: 120000 }`;
    return await benchIdp('entra', shape, fake, info, connector, env, sizes);
  } finally {
    await fake.call('stop').catch(() => undefined);
    fake.kill();
    rmSync(tlsDir, { recursive: true, force: true });
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
