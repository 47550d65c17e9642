import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { all, execForm, parseDockerfile } from './dockerfile.js';
import { configPaths, deployDir, loadDeployConfig, readText, repoRoot, throughMappings } from './support.js';

/**
 * deploy/jitsync.service, checked by systemd's own tools (Debian package `systemd`; no systemd
 * needs to run): `systemd-analyze verify` parses the unit, and `systemd-analyze security
 * --offline` scores its hardening. They fail here, never skip, when the tool is missing.
 */

const run = promisify(execFile);
const unitText = readText(join(deployDir, 'jitsync.service'));
const INSTALL_DIR = '/opt/jitsync';

async function systemdAnalyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number | string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') {
      throw new Error('systemd-analyze is missing: install Debian\'s systemd package (apt-get install -y systemd), as .ci/run does');
    }
    return { code: Number(failed.code), stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** `Key=value` lines of one section; repeated keys keep every value. */
function directives(section: string): Map<string, string[]> {
  const body = new RegExp(`^\\[${section}\\]\\n([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(unitText)?.[1] ?? '';
  const map = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

const service = directives('Service');
const one = (key: string) => service.get(key)?.at(-1);

const dir = mkdtempSync(join(tmpdir(), 'jitsync-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deploy/jitsync.service', () => {
  it('passes systemd-analyze verify, with no warning', async () => {
    // `verify` also requires ExecStart's binary to exist, and the unit names /usr/bin/node, where
    // Debian's nodejs installs it; this machine may keep node elsewhere. So the unit is verified as
    // a copy whose ExecStart names the node running this test (and this checkout instead of
    // /opt/jitsync); every other line is the shipped one.
    const [binary, ...rest] = one('ExecStart')!.split(' ');
    expect(binary).toBe('/usr/bin/node');
    const execStart = [process.execPath, ...rest.map((arg) => arg.replace(INSTALL_DIR, repoRoot))].join(' ');
    const copy = join(dir, 'jitsync.service');
    writeFileSync(copy, unitText.replace(/^ExecStart=.*$/m, `ExecStart=${execStart}`));

    const result = await systemdAnalyze(['verify', '--man=no', copy]);
    // A misspelt key or a bad value is only a warning ("…, ignoring") with exit 0, hence both.
    expect(result.stderr + result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('is hardened: a dynamic user, a read-only system but its state directory, no new privileges', async () => {
    for (const [key, value] of [
      ['DynamicUser', 'yes'],
      ['StateDirectory', 'jitsync'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
    ] as const) {
      expect(one(key), key).toBe(value);
    }
    // V8's JIT needs writable executable memory; the flag would stop node at start.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);

    // systemd's own score (0 = fully confined, 10 = unprotected), which a dropped directive raises.
    const result = await systemdAnalyze(['security', '--offline=true', '--threshold=12', join(deployDir, 'jitsync.service')]);
    const level = /Overall exposure level for jitsync\.service: ([\d.]+)/.exec(result.stdout)?.[1];
    expect(level, result.stdout + result.stderr).toBeDefined();
    expect(Number(level)).toBeLessThanOrEqual(1.2);
    expect(result.code).toBe(0);
  });

  it('runs the built CLI as the Dockerfile does, with the host config', () => {
    const argv = one('ExecStart')!.split(' ');
    const image = parseDockerfile(readText(join(repoRoot, 'Dockerfile'))).at(-1)!;
    const entrypoint = execForm(all(image, 'ENTRYPOINT').at(-1)!)!;
    const workdir = all(image, 'WORKDIR').at(-1)!;
    expect(workdir).toBe(INSTALL_DIR);
    // Same flags and script, the script at the image's absolute path.
    expect(argv.slice(1, 3)).toEqual([entrypoint[1], posix.join(workdir, entrypoint[2]!)]);
    expect(argv.slice(3)).toEqual(['serve', '--config', '/etc/jitsync/jitsync.yaml']);
    expect(one('EnvironmentFile')).toBe('/etc/jitsync/jitsync.env');
  });

  it('comes with a host config that loads and names absolute paths the service can use', () => {
    const config = loadDeployConfig(join(deployDir, 'jitsync.host.yaml'));
    expect(config.server.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    const paths = configPaths(config);
    expect(paths.map((p) => p.key)).toEqual(['store', 'connectors[0].path']);
    // ProtectSystem=strict leaves only the state directory writable.
    expect(config.store).toEqual({ kind: 'sqlite', path: `/var/lib/${one('StateDirectory')}/jitsync.db` });
    // The demo export ships with the package installed in /opt/jitsync.
    const demo = throughMappings(paths[1]!.path, [{ source: repoRoot, target: INSTALL_DIR }]);
    expect(demo?.hostPath).toBe(join(repoRoot, 'examples', 'directory.json'));
    expect(statSync(demo!.hostPath).isFile()).toBe(true);
  });
});
