import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScenario, EXPECTED, EXPECTED_SUMMARY, EXTRA_CONNECTORS, rows, type Scenario } from './scenario.js';

/** The CLI as users run it: the built bin (`npm test` builds before running vitest). */
const BIN = resolve('dist/daemon/cli.js');
const run = promisify(execFile);

async function jitsync(args: string[], columns?: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...(columns ? { COLUMNS: String(columns) } : {}) };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const config = (store: string, connectors: string) => `server:
  listen: 127.0.0.1:0
  hookToken: cli-hook-token-0123456789
  adminToken: cli-admin-token-0123456789
store: ${store}
log: { level: silent }
connectors:
${connectors}
`;

let s: Scenario;
let path: string;
let empty: string;
beforeAll(async () => {
  s = await buildScenario();
  // The daemon stops; the CLI reads the same SQLite file (organizations are in the store already).
  await s.d.daemon.close();
  path = join(s.d.dir, 'cli.yaml');
  writeFileSync(path, config('sqlite:./jitsync.db', `  - { id: demo, type: file, path: ./directory.json }\n${EXTRA_CONNECTORS}`));
  empty = mkdtempSync(join(tmpdir(), 'jitsync-drift-cli-'));
  writeFileSync(join(empty, 'directory.json'), JSON.stringify({ groups: [], users: [] }));
  writeFileSync(join(empty, 'jitsync.yaml'), config('sqlite:./state.db', '  - { id: demo, type: file, path: ./directory.json }'));
});
afterAll(() => {
  if (s) rmSync(s.d.dir, { recursive: true, force: true });
  if (empty) rmSync(empty, { recursive: true, force: true });
});

describe('jitsync drift', () => {
  it('prints a table that fits 80 columns and exits 3 when there is drift', async () => {
    const { code, stdout, stderr } = await jitsync(['drift', '--config', path]);
    expect(stderr).toBe('');
    expect(code).toBe(3);
    const lines = stdout.trimEnd().split('\n');
    if (process.env.SHOW_TABLE) console.log(stdout);
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(lines).toContain('demo: 16 items');
    expect(lines).toContain('gl: 8 items');
    expect(lines).toContain('old: 1 item');
    expect(stdout).toMatch(/^pending_remove +ada@example\.com +OrgA\/Team +a manual membership…$/m);
    expect(stdout).toMatch(/^unmatched_idp_group +acme\/developers /m);
    expect(stdout).toMatch(/^nested_or_overage +nora@example\.com +OrgB\/developers +holds developers/m);
    expect(stdout).toMatch(/^orphan_app_group +OrgA\/ENT_ORGA_ADM… /m);
    expect(stdout).toContain('Summary: pending_add 3, pending_remove 1, absent_from_idp 1, no_organization 2,');
  });

  it('prints JSON and CSV, filtered by connector and kind', async () => {
    const asJson = await jitsync(['drift', '--config', path, '--format', 'json']);
    expect(asJson.code).toBe(3);
    const report = JSON.parse(asJson.stdout);
    expect(rows(report.items)).toEqual(EXPECTED);
    expect(report.summary).toEqual(EXPECTED_SUMMARY);

    const filtered = await jitsync(['drift', '--config', path, '--format', 'json', '--connector', 'gl', '--kind', 'blocked']);
    expect(rows(JSON.parse(filtered.stdout).items)).toEqual(EXPECTED.filter((r) => r[0] === 'blocked'));

    const csv = await jitsync(['drift', '--config', path, '--format', 'csv', '--kind', 'stale,absent_from_idp']);
    expect(csv.code).toBe(3);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('kind,connector,user_id,user_email,user_subject,organization,group,idp_group,source,detail');
    expect(lines.slice(1, -1).map((l) => l.split(',').slice(0, 5))).toEqual([
      ['absent_from_idp', 'demo', s.ids.grace, 'grace@example.com', '00u2grace'],
      ['stale', 'old', s.ids.olga, 'olga@example.com', 'old-olga'],
    ]);
  });

  it('exits 0 with no drift and 2 on bad usage', async () => {
    const none = await jitsync(['drift', '--config', join(empty, 'jitsync.yaml')]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('No drift');

    const badKind = await jitsync(['drift', '--config', path, '--kind', 'pending_add,bogus']);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain('--kind: unknown bogus');
    const badConnector = await jitsync(['drift', '--config', path, '--connector', 'nope']);
    expect(badConnector.code).toBe(2);
    expect(badConnector.stderr).toContain('unknown connector "nope"');
    const badFormat = await jitsync(['drift', '--config', path, '--format', 'xml']);
    expect(badFormat.code).toBe(2);

    const help = await jitsync(['drift', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--connector', '--kind', '--format', '--config']) expect(help.stdout).toContain(flag);
  });
});
