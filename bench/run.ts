import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchReadyAfterSpawn, type ReadyFigures } from './isolation.js';
import { benchLogin, type LoginBenchResult } from './login.js';
import { benchLoginParts, type LoginPartsResult } from './login-parts.js';
import { benchPrewarmEntra, benchPrewarmOkta, type PrewarmBenchResult } from './prewarm.js';
import { formatReport } from './report.js';
import { benchScimPush, type ScimPushResult } from './scim-push.js';

/**
 * `npm run bench`: every benchmark, one table. Options:
 *   --only login,mongo,prewarm-okta,prewarm-entra,scim-push,ready,login-parts   run a subset
 *   --small                                          10x smaller data (a quick check of the harness)
 *   --profile                                        run the measured processes with --cpu-prof
 *   --mongo-users N                                  accounts of the MongoDB variant (see below)
 * The MongoDB variant runs on FerretDB 2 over DocumentDB when JITSYNC_BENCH_DOCUMENTDB names its
 * start.sh, else on MONGODB_URI (both: 20,000 users x 2,000 groups by default, the SQLite run's
 * shape), else with `--only mongo` on FerretDB 1.x (10,000 x 500: it is far slower).
 * Results also go to bench/results/latest.json and latest.md (the figures BENCHMARKS.md records).
 */

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    small: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'mongo-users': { type: 'string' },
  },
});

const all = ['login', 'mongo', 'prewarm-okta', 'prewarm-entra', 'scim-push', 'ready', 'login-parts'] as const;
const selected = new Set(values.only ? values.only.split(',') : all);
const scale = values.small ? 10 : 1;
const here = dirname(fileURLToPath(import.meta.url));
// dist/bench → the source tree's bench/results
const resultsDir = join(here, '..', '..', 'bench', 'results');
const profileDir = join(resultsDir, 'profiles');
const execArgv = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
if (values.profile) mkdirSync(profileDir, { recursive: true });
const profiling = values.profile ? { profileDir } : {};

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
  };
  log(`jitsync benchmarks on ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}`);

  const results: {
    login?: LoginBenchResult;
    mongo?: LoginBenchResult | { skipped: string };
    prewarm: PrewarmBenchResult[];
    scimPush?: ScimPushResult;
    ready?: ReadyFigures;
    loginParts?: LoginPartsResult;
  } = { prewarm: [] };

  if (selected.has('login')) {
    log('login hook, SQLite store:');
    results.login = await benchLogin({ store: 'sqlite', users: 100_000 / scale, groups: 2_000 / scale, execArgv, log, ...profiling });
  }
  // FerretDB 1.x (the fallback without a server named) is far too slow to seed at any useful scale
  // here: the MongoDB variant runs by default only against DocumentDB or a real MongoDB.
  const namedServer = Boolean(process.env.JITSYNC_BENCH_DOCUMENTDB || process.env.MONGODB_URI);
  if (selected.has('mongo') && (values.only !== undefined || namedServer)) {
    log('login hook, MongoDB store:');
    const users = Number(values['mongo-users'] ?? (namedServer ? 20_000 : 10_000)) / scale;
    const groups = (namedServer ? 2_000 : 500) / scale;
    try {
      results.mongo = await benchLogin({ store: 'mongodb', users, groups, execArgv, log, short: true, rate: 'half-throughput', ...profiling });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`  skipped: ${reason}`);
      results.mongo = { skipped: reason };
    }
  } else if (selected.has('mongo')) {
    results.mongo = {
      skipped: 'neither JITSYNC_BENCH_DOCUMENTDB nor MONGODB_URI is set (the FerretDB 1.x fallback is too slow to seed here; `--only mongo` tries it)',
    };
  }
  if (selected.has('prewarm-okta')) {
    log('pre-warm, Okta fake:');
    results.prewarm.push(await benchPrewarmOkta({ users: 100_000 / scale, groups: 2_000 / scale, execArgv, log }));
  }
  if (selected.has('prewarm-entra')) {
    log('pre-warm, Entra fake:');
    results.prewarm.push(await benchPrewarmEntra({ users: 100_000 / scale, groups: 2_000 / scale, execArgv, log }));
  }

  if (selected.has('scim-push')) {
    log('SCIM initial push, Entra-style, SQLite store, under paced logins:');
    results.scimPush = await benchScimPush({ users: 10_000 / scale, groups: 500 / scale, loginRate: 1000, ...profiling, log });
    const r = results.scimPush;
    log(`  ${r.pushSeconds} s, ${r.requestsPerSecond} requests/s; logins p99 ${r.login.latencyMs.p99} ms; during the lists p99 ${r.listing.login.latencyMs.p99} ms, max ${r.listing.login.latencyMs.max} ms`);
  }

  if (selected.has('ready')) {
    log('jitsync serve with the example config, spawn to ready, 3 times:');
    results.ready = await benchReadyAfterSpawn();
    log(`  ${results.ready.runsMs.join(', ')} ms`);
  }

  if (selected.has('login-parts')) {
    log('parts of a login, in this process: the decision, the answer written:');
    results.loginParts = benchLoginParts();
    log(`  decision ${results.loginParts.decisionMicros} µs; answer ${results.loginParts.answerMicros.fast} µs (zod + JSON.stringify ${results.loginParts.answerMicros.zodAndStringify} µs)`);
  }

  const totalSeconds = Math.round((Date.now() - started) / 1000);
  const report = formatReport({ machine, ...results, totalSeconds, scale });
  process.stdout.write(`${report}\n`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify({ machine, ...results, totalSeconds, scale }, null, 2));
  writeFileSync(join(resultsDir, 'latest.md'), `${report}\n`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
