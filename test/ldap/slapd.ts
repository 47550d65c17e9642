import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'ldapts';

/**
 * A real OpenLDAP `slapd`, started as a plain process from a temp `slapd.conf` on a free
 * loopback port, loaded with `ldapadd`, and removed with its temp dir on `stop()`.
 */

const run = promisify(execFile);

export const SUFFIX = 'dc=example,dc=com';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PASSWORD = 'root-secret';

export const INSTALL_HINT =
  "install the Debian packages slapd and ldap-utils: apt-get update && echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections && DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils";

export interface Slapd {
  url: string;
  /** A client bound as the root DN, for tests that change the directory. */
  admin(): Promise<Client>;
  /** Kills slapd (idempotent) and keeps the temp dir, so a test can see the server gone. */
  kill(): Promise<void>;
  /** Kills slapd and deletes the temp dir. */
  stop(): Promise<void>;
}

interface Binaries {
  slapd: string;
  slaptest: string;
  ldapadd: string;
  modulePath: string;
  schemaDir: string;
}

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((path) => existsSync(path));
}

/** Throws (never skips) with the packages to install when OpenLDAP is missing. */
export function findBinaries(): Binaries {
  const slapd = firstExisting(['/usr/sbin/slapd', '/usr/local/sbin/slapd', '/usr/libexec/slapd']);
  const slaptest = firstExisting(['/usr/sbin/slaptest', '/usr/local/sbin/slaptest']);
  const ldapadd = firstExisting(['/usr/bin/ldapadd', '/usr/local/bin/ldapadd']);
  const modulePath = firstExisting(['/usr/lib/ldap', '/usr/lib64/openldap', '/usr/lib/openldap']);
  const schemaDir = firstExisting(['/etc/ldap/schema', '/etc/openldap/schema']);
  const missing = Object.entries({ slapd, slaptest, ldapadd, modulePath, schemaDir })
    .filter(([, path]) => path === undefined)
    .map(([name]) => name);
  if (!slapd || !slaptest || !ldapadd || !modulePath || !schemaDir) {
    throw new Error(`OpenLDAP not found (${missing.join(', ')} missing): ${INSTALL_HINT}`);
  }
  return { slapd, slaptest, ldapadd, modulePath, schemaDir };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

function slapdConf(bin: Binaries, dir: string, monitorReaders: string[]): string {
  const monitorAccess = monitorReaders.map((dn) => `by dn.exact="${dn}" read`).join(' ');
  return `include ${bin.schemaDir}/core.schema
include ${bin.schemaDir}/cosine.schema
include ${bin.schemaDir}/inetorgperson.schema
include ${bin.schemaDir}/nis.schema
modulepath ${bin.modulePath}
moduleload back_mdb
moduleload memberof
moduleload refint
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args

database monitor
access to dn.subtree="cn=Monitor" ${monitorAccess} by * none

database mdb
maxsize 16777216
suffix "${SUFFIX}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PASSWORD}
directory ${dir}/data
index objectClass eq
index member,uniqueMember eq
index entryUUID eq
index cn,uid,mail eq
overlay memberof
overlay refint
refint_attributes member
access to attrs=userPassword by anonymous auth by * none
access to * by * read
`;
}

/** Waits until slapd answers a root DSE read, or fails when it exits or takes too long. */
async function waitUntilAnswering(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  // Generous: a busy machine starts slapd slowly, and a healthy start answers long before.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`slapd exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    const client = new Client({ url, connectTimeout: 1_000, timeout: 1_000 });
    try {
      await client.search('', { scope: 'base', attributes: ['namingContexts'] });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`slapd did not answer on ${url}: ${stderr()}`);
      await sleep(50);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

export interface StartOptions {
  ldif: string;
  /** DNs allowed to read `cn=Monitor` (where the server's current time lives). */
  monitorReaders?: string[];
}

export async function startSlapd(options: StartOptions): Promise<Slapd> {
  const bin = findBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'jitsync-slapd-'));
  let child: ChildProcess | undefined;
  const kill = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await mkdir(join(dir, 'data'));
    const confPath = join(dir, 'slapd.conf');
    await writeFile(confPath, slapdConf(bin, dir, options.monitorReaders ?? []));
    await run(bin.slaptest, ['-u', '-f', confPath]);

    const port = await freePort();
    const url = `ldap://127.0.0.1:${port}`;
    // -d 0 keeps slapd in the foreground (a child we can kill) without debug output.
    child = spawn(bin.slapd, ['-f', confPath, '-h', `${url}/`, '-d', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    await waitUntilAnswering(url, child, () => stderr);

    const ldifPath = join(dir, 'data.ldif');
    await writeFile(ldifPath, options.ldif);
    await run(bin.ldapadd, ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, '-f', ldifPath]);

    return {
      url,
      async admin() {
        const client = new Client({ url, connectTimeout: 5_000, timeout: 5_000 });
        await client.bind(ROOT_DN, ROOT_PASSWORD);
        return client;
      },
      kill,
      async stop() {
        await kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await kill();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
