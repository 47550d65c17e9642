import { execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DIRECTORY } from '../support/daemon.js';

/** The CLI as users run it: the built bin (`npm test` builds before running vitest). */
const BIN = resolve('dist/daemon/cli.js');
const run = promisify(execFile);

async function jitsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: cleanEnv() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.JITSYNC_HOOK_TOKEN;
  delete env.JITSYNC_ADMIN_TOKEN;
  return env;
}

let dir: string;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

function writeConfig(extra = ''): string {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-cli-'));
  writeFileSync(join(dir, 'directory.json'), JSON.stringify(DIRECTORY));
  const path = join(dir, 'jitsync.yaml');
  writeFileSync(
    path,
    `server:
  listen: 127.0.0.1:0
  hookToken: cli-hook-token-0123456789
  adminToken: cli-admin-token-0123456789
store: sqlite:./state/jitsync.db
provisioning:
  signUp: allowed
${extra}
organizations:
  - { key: OrgA, groups: [ENT_ORGA_ADMINS, developers] }
connectors:
  - { id: demo, type: file, path: ./directory.json }
`,
  );
  return path;
}

describe('jitsync CLI', () => {
  it('prewarm --connector with an unknown id is bad usage: exit 2, as drift', async () => {
    const config = writeConfig();
    for (const command of ['prewarm', 'drift']) {
      const answer = await jitsync([command, '--config', config, '--connector', 'nope']);
      expect(answer.code, command).toBe(2);
      expect(answer.stderr, command).toContain('nope');
    }
  });

  it('a store that cannot be opened names the config key and the file', async () => {
    const config = writeConfig();
    const blocked = join(dir, 'directory.json', 'state.db'); // a folder that is a file
    writeFileSync(config, readFileSync(config, 'utf8').replace('sqlite:./state/jitsync.db', `sqlite:${blocked}`));
    const answer = await jitsync(['prewarm', '--config', config]);
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain(`store: cannot open the SQLite file ${blocked} (`);
  });

  it('prints help for every command', async () => {
    const help = await jitsync(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'login', 'config']) expect(help.stdout).toContain(command);
    const loginHelp = await jitsync(['login', '--help']);
    expect(loginHelp.stdout).toContain('--subject');
  });

  it('config check accepts the example config as is', async () => {
    const { code, stdout } = await jitsync(['config', 'check', '--config', 'jitsync.example.yaml']);
    expect(code).toBe(0);
    expect(stdout).toContain('jitsync.example.yaml: OK');
  });

  it('config check names every bad key at once and exits 2', async () => {
    const path = writeConfig('  membership: sometimes\n  staleAfter: soon');
    const { code, stderr } = await jitsync(['config', 'check', '--config', path]);
    expect(code).toBe(2);
    expect(stderr).toContain('provisioning.membership');
    expect(stderr).toContain('provisioning.staleAfter');
    expect(stderr).not.toContain('cli-hook-token');
  });

  it('config check warns about organizations the config does not declare, naming each key, and passes', async () => {
    const path = writeConfig(
      '  defaultOrganization: { organization: Lobby }\n  mappings: [{ idpGroup: developers, organization: OrgA, group: devs }]',
    );
    const { code, stdout, stderr } = await jitsync(['config', 'check', '--config', path]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${path}: OK (2 warnings)`);
    expect(stderr.trim().split('\n')).toEqual([
      'warning: provisioning.mappings[0].group: organization OrgA declares no group devs (default group Members; groups: ENT_ORGA_ADMINS, developers); this names nothing until the group is created through the API',
      'warning: provisioning.defaultOrganization.organization: no organization Lobby is declared under organizations (declared: OrgA); this names nothing until it is created through the API',
    ]);
  });

  it("config check fails on a file connector's missing file, and reports it with every other problem", async () => {
    const path = writeConfig('  defaultOrganization: { organization: Lobby }');
    appendFileSync(path, '  - { id: gone, type: file, path: ./exports/gone.json }\n');
    const { code, stdout, stderr } = await jitsync(['config', 'check', '--config', path]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`connectors[1].path: file not found: ${join(dir, 'exports', 'gone.json')}`);
    expect(stderr).toContain('warning: provisioning.defaultOrganization.organization: no organization Lobby');

    // With a schema problem as well, all three are still named in one run.
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(path, 'utf8').replace('  signUp: allowed\n', '  signUp: allowed\n  membership: sometimes\n'));
    const again = await jitsync(['config', 'check', '--config', broken]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('provisioning.membership: expected one of');
    expect(again.stderr).toContain('connectors[1].path: file not found');
    expect(again.stderr).toContain('warning: provisioning.defaultOrganization.organization');
  });

  it('serve logs the same findings at start, one line per key, and still serves', async () => {
    const path = writeConfig('  defaultOrganization: { organization: Lobby }');
    appendFileSync(path, '  - { id: gone, type: file, path: ./gone.json }\n');
    const child = spawn(process.execPath, [BIN, 'serve', '--config', path], { env: cleanEnv() });
    const exitCode = new Promise<number | null>((r) => child.on('exit', r));
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    await new Promise<void>((listening, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('jitsync listening')) listening();
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    // A pre-warm run of the connector whose file is missing fails, and says so once.
    const address = (JSON.parse(output.split('\n').find((l) => l.includes('jitsync listening'))!) as { address: string }).address;
    const admin = { authorization: 'Bearer cli-admin-token-0123456789', 'content-type': 'application/json' };
    const started = await fetch(`${address}/v1/prewarm`, { method: 'POST', headers: admin, body: JSON.stringify({ connector: 'gone' }) });
    expect(started.status).toBe(202);
    const id = ((await started.json()) as { runs: { id: string }[] }).runs[0]!.id;
    let state = 'running';
    for (let i = 0; i < 100 && state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = ((await (await fetch(`${address}/v1/prewarm/${id}`, { headers: admin })).json()) as { state: string }).state;
    }
    expect(state).toBe('failed');
    child.kill('SIGTERM');
    expect(await exitCode).toBe(0);
    const lines = output.trim().split('\n').map((line) => JSON.parse(line));
    const config = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('config: '));
    expect(config.map((l) => [l.level, l.key])).toEqual([
      [50, 'connectors[1].path'],
      [40, 'provisioning.defaultOrganization.organization'],
    ]);
    expect(config[0].msg).toContain(`file not found: ${join(dir, 'gone.json')}`);
    // One warning for the IdP's failure (the connector status), and the run's end; not two warnings.
    const warnings = lines.filter((l) => l.level >= 40 && l.connector === 'gone');
    expect(warnings.map((l) => l.msg)).toEqual([expect.stringContaining('connector gone failed (unreachable)')]);
    expect(lines.some((l) => l.msg === 'pre-warm run ended' && l.connector === 'gone' && l.state === 'failed')).toBe(true);
  });

  it('login simulates the hook: allow exits 0, deny exits 3', async () => {
    const path = writeConfig();
    const allowed = await jitsync(['login', '-c', path, '--connector', 'demo', '--subject', '00u1ada', '--email', 'ada@example.com']);
    expect(allowed.code).toBe(0);
    const answer = JSON.parse(allowed.stdout);
    expect(answer).toMatchObject({ decision: 'allow', organizations: ['OrgA'], groups: { source: 'live' } });

    const blockedPath = writeConfig('  allowedGroups: [my-gitlab-group]');
    const denied = await jitsync(['login', '-c', blockedPath, '--connector', 'demo', '--subject', '00u1ada', '--email', 'ada@example.com']);
    expect(denied.code).toBe(3);
    expect(JSON.parse(denied.stdout)).toEqual({ decision: 'deny', reason: 'not_in_allowed_groups' });
  });

  it('a full pre-warm run of the file connector reports 0 api calls, as the daemon does (a file read is no API call)', async () => {
    const path = writeConfig();
    const { code, stdout, stderr } = await jitsync(['prewarm', '-c', path, '--full']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^state +succeeded$/m);
    expect(stdout).toMatch(/^api calls +0$/m);
    expect(stdout).toMatch(/^pages +[1-9]\d*$/m);
  });

  it('a failed pre-warm prints one clear error line above the table, not a log line with a stack trace', async () => {
    const path = writeConfig();
    writeFileSync(path, readFileSync(path, 'utf8').replace('path: ./directory.json', 'path: ./missing.json'));
    const { code, stdout, stderr } = await jitsync(['prewarm', '-c', path]);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([`pre-warm of demo failed: demo: cannot read ${join(dir, 'missing.json')} (ENOENT)`]);
    expect(stdout).toMatch(/^state +failed$/m);
    expect(stdout).toMatch(/^error +demo: cannot read .*missing\.json \(ENOENT\)$/m);
  });

  it('login through an IdP that cannot answer prints the denial as one JSON document (no log line) and exits 3', async () => {
    const path = writeConfig();
    writeFileSync(path, readFileSync(path, 'utf8').replace('path: ./directory.json', 'path: ./missing.json'));
    const { code, stdout, stderr } = await jitsync(['login', '-c', path, '--connector', 'demo', '--subject', '00u1ada', '--email', 'ada@example.com']);
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toEqual({ decision: 'deny', reason: 'idp_unavailable' });
    expect(stderr).toBe('');
  });

  it('login rejects a malformed email before touching the store', async () => {
    const path = writeConfig();
    const { code, stderr } = await jitsync(['login', '-c', path, '--connector', 'demo', '--subject', 's', '--email', 'nope']);
    expect(code).toBe(2);
    expect(stderr).toContain('--email');
  });

  it('serve names the SCIM listener in its listening line, and SCIM answers there', async () => {
    const path = writeConfig();
    const scimToken = 'cli-scim-token-0123456789';
    writeFileSync(
      path,
      readFileSync(path, 'utf8')
        .replace('  listen: 127.0.0.1:0\n', '  listen: 127.0.0.1:0\n  scimListen: 127.0.0.1:0\n')
        .concat(`  - { id: push, type: scim, token: ${scimToken} }\n`),
    );
    const child = spawn(process.execPath, [BIN, 'serve', '--config', path], { env: cleanEnv() });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const listening = await new Promise<{ address: string; scimAddress?: string }>((resolveLine, reject) => {
      child.stdout.on('data', () => {
        const line = output.split('\n').find((l) => l.includes('jitsync listening'));
        if (line) resolveLine(JSON.parse(line));
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    try {
      expect(listening.scimAddress).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(listening.scimAddress).not.toBe(listening.address);
      const config = await fetch(`${listening.scimAddress}/scim/v2/push/ServiceProviderConfig`, { headers: { authorization: `Bearer ${scimToken}` } });
      expect(config.status).toBe(200);
    } finally {
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('serve answers on its port, logs JSON without secrets, and stops cleanly on SIGTERM', async () => {
    const path = writeConfig();
    const child = spawn(process.execPath, [BIN, 'serve', '--config', path], { env: cleanEnv() });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const address = await new Promise<string>((resolveAddress, reject) => {
      child.stdout.on('data', () => {
        const line = output.split('\n').find((l) => l.includes('jitsync listening'));
        if (line) resolveAddress(JSON.parse(line).address);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const login = await fetch(`${address}/v1/logins`, {
      method: 'POST',
      headers: { authorization: 'Bearer cli-hook-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'demo', subject: '00u1ada', email: 'ada@example.com' }),
    });
    expect(login.status).toBe(200);

    const exitCode = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exitCode).toBe(0);
    const lines = output.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.some((l) => l.msg === 'request' && l.route === '/v1/logins' && l.status === 200)).toBe(true);
    expect(output).not.toContain('cli-hook-token');
    expect(output).not.toContain('cli-admin-token');
  });
});
