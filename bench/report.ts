import type { ReadyFigures } from './isolation.js';
import type { LoginBenchResult } from './login.js';
import type { LoginPartsResult } from './login-parts.js';
import type { PacedResult } from './paced.js';
import type { PrewarmBenchResult } from './prewarm.js';
import { TARGET_SCIM_REQUESTS_PER_SECOND, type ScimPushResult } from './scim-push.js';

/** The one table `npm run bench` prints (Markdown, so it pastes into BENCHMARKS.md). */

export interface ReportInput {
  machine: { date: string; node: string; cpus: number; cpuModel: string; memoryGiB: number; platform: string };
  login?: LoginBenchResult;
  mongo?: LoginBenchResult | { skipped: string };
  prewarm: PrewarmBenchResult[];
  scimPush?: ScimPushResult;
  ready?: ReadyFigures;
  loginParts?: LoginPartsResult;
  totalSeconds: number;
  scale: number;
}

type Row = [string, string, string, string];

const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const n = (value: number) => value.toLocaleString('en-US');

function loginRows(label: string, r: LoginBenchResult, withTargets: boolean): Row[] {
  const rows: Row[] = [
    [`${label}: seeding ${n(r.users)} accounts (pre-warm + first logins)`, `${r.seed.totalSeconds} s (pre-warm ${r.seed.prewarmSeconds} s; accounts ${r.seed.accountsSeconds} s = ${n(r.seed.accountsPerSecond)}/s)`, '', ''],
    [`${label}: logins/s, no membership change`, `${n(r.noChange.requestsPerSecond)} (p50 ${r.noChange.latencyMs.p50} ms, p99 ${r.noChange.latencyMs.p99} ms, ${CONN} conns)`, '', ''],
    [`${label}: logins/s, each login drops one membership`, `${n(r.withChange.requestsPerSecond)} (${n(r.withChange.membershipsRemoved)} memberships removed, checked)`, '', ''],
    [`${label}: /healthz requests/s (no-op route, same server)`, n(r.healthz.requestsPerSecond), '', ''],
    [`${label}: login / no-op throughput`, `${(r.ratio * 100).toFixed(1)} %`, withTargets ? '≥ 40 %' : '', withTargets ? verdict(r.ratio >= 0.4) : ''],
    ...pacedRows(label, r, withTargets),
    [
      `${label}: latency at ${rateOf(r)} logins/s, autocannon overallRate`,
      `p50 ${r.fixedRate.autocannon.latencyMs.p50} ms, p99 ${r.fixedRate.autocannon.latencyMs.p99} ms, p99.9 ${r.fixedRate.autocannon.latencyMs.p99_9} ms (${n(r.fixedRate.autocannon.requestsPerSecond)}/s achieved)`,
      withTargets ? 'p99 < 10 ms' : '',
      withTargets ? verdict(r.fixedRate.autocannon.latencyMs.p99 < 10) : '',
    ],
    [`${label}: daemon peak RSS (both threads)`, `${r.daemon.peakRssMiB} MiB`, withTargets ? '< 512 MiB' : '', withTargets ? verdict(r.daemon.peakRssMiB < 512) : ''],
    [
      `${label}: drift report, the first since start (builds the model, under ${rateOf(r)} logins/s; GET /v1/drift?limit=50)`,
      `${r.driftCold.seconds} s (${r.driftCold.items} items on the page)`,
      '',
      '',
    ],
    [
      `${label}: drift report, summary + first page, after the changing run (GET /v1/drift?limit=50)`,
      `${r.drift.map((d) => `${d.seconds} s`).join(' then ')} (${r.drift[0]?.items ?? 0} items on the page; ${Object.entries(r.drift[0]?.summary ?? {}).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${n(v)}`).join(', ')})`,
      withTargets ? '< 2 s' : '',
      withTargets ? verdict(r.drift.every((d) => d.seconds < 2)) : '',
    ],
  ];
  if (r.lock) {
    const l = r.lock;
    rows.push([
      `${label}: another process holds the write lock ${l.holdSeconds} s: /healthz`,
      `max ${l.healthz.maxMs} ms over ${n(l.healthz.probes)} probes (${l.healthz.failed} failed)`,
      withTargets ? '< 50 ms' : '',
      withTargets ? verdict(l.healthz.maxMs < 50 && l.healthz.failed === 0) : '',
    ]);
    rows.push([
      `${label}: … a first login (must write), then after the release`,
      `${l.firstLogin.status} ${l.firstLogin.code ?? ''} in ${l.firstLogin.ms} ms; after: ${l.afterRelease.status}, created once`,
      withTargets ? '503 store_busy, then 200' : '',
      withTargets ? verdict(l.firstLogin.code === 'store_busy' && l.afterRelease.status === 200) : '',
    ]);
    rows.push([
      `${label}: … no-change logins meanwhile`,
      `${l.noChangeLogins.ok} of ${l.noChangeLogins.sent} answered 200, max ${l.noChangeLogins.maxMs} ms`,
      withTargets ? 'all 200' : '',
      withTargets ? verdict(l.noChangeLogins.ok === l.noChangeLogins.sent) : '',
    ]);
  }
  return rows;
}
const CONN = 16;

/** Logins per second of the fixed-rate runs. */
const rateOf = (r: LoginBenchResult) => n(r.fixedRate.rate);

const latency = (p: PacedResult) => `p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms, p99.9 ${p.latencyMs.p99_9} ms, max ${p.latencyMs.max} ms`;

/** The best of several runs: lowest p99, ties by p99.9. */
function best(runs: readonly PacedResult[]): PacedResult {
  return [...runs].sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99 || a.latencyMs.p99_9 - b.latencyMs.p99_9)[0]!;
}

function pacedRows(label: string, r: LoginBenchResult, withTargets: boolean): Row[] {
  const rows: Row[] = [];
  const steady = (what: string, runs: readonly PacedResult[]) => {
    const b = best(runs);
    const met = b.latencyMs.p99 < 5 && b.latencyMs.p99_9 < 20 && b.latencyMs.max < 100;
    rows.push([
      `${label}: latency at ${rateOf(r)} logins/s, paced (open loop), ${what}: best of ${runs.length}`,
      `${latency(b)} (${n(b.ok)} logins); all: ${runs.map((p) => `p99 ${p.latencyMs.p99}/p99.9 ${p.latencyMs.p99_9}/max ${p.latencyMs.max}`).join('; ')}`,
      withTargets ? 'p99 < 5, p99.9 < 20, max < 100 ms' : '',
      withTargets ? verdict(met) : '',
    ]);
  };
  const busy = (what: string, p: PacedResult) => {
    rows.push([
      `${label}: latency at ${rateOf(r)} logins/s, paced (open loop), ${what}`,
      `${latency(p)} (${n(p.ok)} logins)`,
      withTargets ? 'p99 < 20, max < 100 ms' : '',
      withTargets ? verdict(p.latencyMs.p99 < 20 && p.latencyMs.max < 100) : '',
    ]);
  };
  steady('no drift model yet', r.fixedRate.paced);
  busy('while the first drift report builds the model', r.fixedRate.pacedDuringDriftBuild);
  steady('drift model in memory', r.fixedRate.pacedWithDriftModel);
  busy(`while a full pre-warm applies its writes (run took ${r.fullPrewarmSeconds} s)`, r.fixedRate.pacedDuringFullPrewarm);
  return rows;
}

function prewarmRows(r: PrewarmBenchResult, fullSeconds: number): Row[] {
  const rows: Row[] = [];
  for (const f of [r.full, r.incremental]) {
    const label = `pre-warm ${r.idp}, ${f.mode}`;
    const callRatio = f.apiCalls / f.minimumCalls;
    if (f.mode === 'full') {
      rows.push([`${label}: wall time`, `${f.wallSeconds} s (fake seeded in ${r.seedSeconds.toFixed(1)} s; fake CPU during run ${f.fakeCpuSeconds} s)`, '< 60 s', verdict(f.wallSeconds < 60)]);
      rows.push([`${label}: memberships ingested/s`, `${n(f.membershipsPerSecond)} (${n(f.memberships)} memberships)`, '', '']);
      rows.push([`${label}: peak RSS of the pre-warm process`, `${f.peakRssMiB} MiB`, '< 512 MiB', verdict(f.peakRssMiB < 512)]);
    } else {
      const share = f.wallSeconds / fullSeconds;
      rows.push([
        `${label} (1% of memberships changed): wall time`,
        `${f.wallSeconds} s = ${(share * 100).toFixed(1)} % of full (${f.note})`,
        '< 10 % of full',
        verdict(share < 0.1),
      ]);
    }
    rows.push([`${label}: API calls / minimum`, `${n(f.apiCalls)} / ${n(f.minimumCalls)} = ${callRatio.toFixed(3)}x`, '≤ 1.05x', verdict(callRatio <= 1.05)]);
  }
  return rows;
}

function scimPushRows(r: ScimPushResult, withTargets: boolean): Row[] {
  const label = `SCIM initial push (Entra-style, SQLite), ${n(r.users)} users, ${n(r.groups)} groups`;
  return [
    [
      `${label}: time and SCIM requests/s`,
      `${r.pushSeconds} s, ${n(r.requestsPerSecond)}/s (${n(r.requests.users)} user POSTs, ${n(r.requests.groups)} group POSTs, ${n(r.requests.memberPatches)} member PATCHes; ${n(r.memberships)} members, checked)`,
      withTargets ? `≥ ${TARGET_SCIM_REQUESTS_PER_SECOND}/s` : '',
      withTargets ? verdict(r.requestsPerSecond >= TARGET_SCIM_REQUESTS_PER_SECOND) : '',
    ],
    [
      `${label}: latency at ${n(r.login.rate)} logins/s, paced (open loop), during the push`,
      `${latency(r.login)} (${n(r.login.ok)} logins)`,
      withTargets ? 'p99 < 20 ms' : '',
      withTargets ? verdict(r.login.latencyMs.p99 < 20) : '',
    ],
    [
      `${label}: latency at ${n(r.listing.login.rate)} logins/s while the IdP lists every group with its members`,
      `${latency(r.listing.login)} (${n(r.listing.login.ok)} logins; ${n(r.listing.lists)} lists in ${r.listing.seconds} s)`,
      '',
      '',
    ],
  ];
}

export function formatReport(input: ReportInput): string {
  const m = input.machine;
  const lines = [
    `jitsync benchmarks — ${m.date}`,
    `machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.platform}, Node ${m.node}` +
      (input.scale !== 1 ? `; --small: data 1/${input.scale} of the target scale, targets do not apply` : ''),
    '',
  ];
  const rows: Row[] = [];
  if (input.login) rows.push(...loginRows(`login (${input.login.store}, ${n(input.login.users)} users)`, input.login, input.scale === 1));
  if (input.mongo) {
    if ('skipped' in input.mongo) rows.push(['login (MongoDB)', `skipped: ${input.mongo.skipped}`, '', '']);
    else rows.push(...loginRows(`login (${input.mongo.store}, ${n(input.mongo.users)} users)`, input.mongo, false));
  }
  for (const r of input.prewarm) rows.push(...prewarmRows(r, r.full.wallSeconds));
  if (input.scimPush) rows.push(...scimPushRows(input.scimPush, input.scale === 1));
  if (input.ready) {
    const best = Math.min(...input.ready.runsMs);
    rows.push([
      'jitsync serve (example config): spawn to /readyz 200',
      `${best} ms best (${input.ready.runsMs.map((ms) => `${ms} ms`).join(', ')})`,
      '< 1 s',
      verdict(best < 1000),
    ]);
  }
  if (input.loginParts) {
    const p = input.loginParts;
    rows.push(
      ['login parts: the decision (decideLogin), a returning user, 13 IdP groups, 10 organizations of 100 groups', `${p.decisionMicros} µs (mean of ${n(p.rounds)})`, '', ''],
      ['login parts: the answer of an allowed login written (fast-json-stringify; zod check + JSON.stringify)', `${p.answerMicros.fast} µs; ${p.answerMicros.zodAndStringify} µs`, '', ''],
    );
  }
  const header: Row = ['benchmark', 'result', 'target', 'status'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: Row) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  lines.push(format(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(format));
  lines.push('', `total ${input.totalSeconds} s; every figure passed its correctness checks (store counts after each run).`);
  return lines.join('\n');
}
