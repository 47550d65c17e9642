import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

/** How the built CLI finds its config file, and what it says when there is none. */

const BIN = resolve('dist/daemon/cli.js');
const EXAMPLE = resolve('jitsync.example.yaml');
const run = promisify(execFile);

async function jitsync(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const env = { ...process.env, ...options.env };
  if (options.env?.JITSYNC_CONFIG === undefined) delete env.JITSYNC_CONFIG;
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: options.cwd, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const LOCAL_CONFIG = `server:
  hookToken: local-hook-token-0123456789
  adminToken: local-admin-token-0123456789
store: sqlite:./jitsync.db
organizations: [{ key: Local }]
`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('jitsync config lookup', () => {
  it('prints the package version for --version', async () => {
    dir = mkdtempSync(join(tmpdir(), 'jitsync-version-'));
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const answer = await jitsync(['--version'], { cwd: dir });
    expect(answer).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('without a config file, exits 2 and says how to start from the example', async () => {
    dir = mkdtempSync(join(tmpdir(), 'jitsync-noconfig-'));
    const answer = await jitsync(['config', 'check'], { cwd: dir });
    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain('config file not found: ./jitsync.yaml');
    expect(answer.stderr).toContain(`cp ${EXAMPLE} ./jitsync.yaml`);
    expect(answer.stderr).toContain('JITSYNC_CONFIG');
  });

  it('reads JITSYNC_CONFIG when --config is not given', async () => {
    dir = mkdtempSync(join(tmpdir(), 'jitsync-envconfig-'));
    const answer = await jitsync(['config', 'check'], { cwd: dir, env: { JITSYNC_CONFIG: EXAMPLE } });
    expect(answer.code).toBe(0);
    expect(answer.stdout).toContain(`${EXAMPLE}: OK`);
  });

  it('prefers --config over JITSYNC_CONFIG, and ./jitsync.yaml is the last resort', async () => {
    dir = mkdtempSync(join(tmpdir(), 'jitsync-flagconfig-'));
    const missing = join(dir, 'nowhere.yaml');
    const flagWins = await jitsync(['config', 'check', '--config', EXAMPLE], { cwd: dir, env: { JITSYNC_CONFIG: missing } });
    expect(flagWins.code).toBe(0);
    expect(flagWins.stdout).toContain(`${EXAMPLE}: OK`);

    writeFileSync(join(dir, 'jitsync.yaml'), LOCAL_CONFIG);
    const local = await jitsync(['config', 'check'], { cwd: dir });
    expect(local).toMatchObject({ code: 0, stdout: expect.stringContaining('./jitsync.yaml: OK') });
    expect(local.stdout).toContain('organizations: 1');
  });
});
