import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOOK_TOKEN } from './config.js';

/**
 * What the login thread does while something else holds the store: another process keeps the
 * SQLite write lock, and meanwhile `/healthz` is probed, logins that change nothing are sent, and
 * one first login (which must write). And how soon `jitsync serve` is ready after its spawn.
 */

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..'); // dist/bench → the source tree

export interface LockFigures {
  holdSeconds: number;
  healthz: { probes: number; maxMs: number; failed: number };
  noChangeLogins: { sent: number; ok: number; maxMs: number };
  /** A login that must write, sent while the lock is held. */
  firstLogin: { status: number; code: string | null; ms: number };
  /** The same login once the lock is gone, then once more. */
  afterRelease: { status: number; created: boolean; againCreated: boolean };
}

// Another process with its own connection, as a second replica or `jitsync prewarm` would be.
const HOLDER = `
const Database = require(process.env.SQLITE_MODULE);
const db = new Database(process.env.DB_PATH);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('held\\n');
setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, Number(process.env.HOLD_MS));
`;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: Math.round((performance.now() - started) * 10) / 10 };
}

export async function benchStoreLock(options: {
  url: string;
  dbPath: string;
  holdSeconds: number;
  /** A login body that changes nothing (an existing user), for the i-th request. */
  noChangeBody: () => string;
  /** A login body for a user with no account yet. */
  firstLoginBody: string;
}): Promise<LockFigures> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` };
  const login = (body: string) => fetch(`${options.url}/v1/logins`, { method: 'POST', headers, body });
  const holder = spawn(process.execPath, ['-e', HOLDER], {
    env: {
      ...process.env,
      SQLITE_MODULE: createRequire(import.meta.url).resolve('better-sqlite3'),
      DB_PATH: options.dbPath,
      HOLD_MS: String(options.holdSeconds * 1000),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const released = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
  });

  let holding = true;
  void released.then(() => (holding = false));
  const healthz = { probes: 0, maxMs: 0, failed: 0 };
  const probing = (async () => {
    while (holding) {
      const { value, ms } = await timed(() => fetch(`${options.url}/healthz`));
      await value.arrayBuffer();
      healthz.probes++;
      healthz.maxMs = Math.max(healthz.maxMs, ms);
      if (value.status !== 200) healthz.failed++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const noChange = { sent: 0, ok: 0, maxMs: 0 };
  const steady = (async () => {
    while (holding) {
      const { value, ms } = await timed(() => login(options.noChangeBody()));
      await value.arrayBuffer();
      noChange.sent++;
      noChange.maxMs = Math.max(noChange.maxMs, ms);
      if (value.status === 200) noChange.ok++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const first = await timed(() => login(options.firstLoginBody));
  const firstBody = (await first.value.json()) as { error?: { code?: string } };

  await released;
  await Promise.all([probing, steady]);
  const after = await login(options.firstLoginBody);
  const afterBody = (await after.json()) as { user?: { created?: boolean } };
  const again = (await (await login(options.firstLoginBody)).json()) as { user?: { created?: boolean } };
  return {
    holdSeconds: options.holdSeconds,
    healthz,
    noChangeLogins: noChange,
    firstLogin: { status: first.value.status, code: firstBody.error?.code ?? null, ms: first.ms },
    afterRelease: { status: after.status, created: afterBody.user?.created === true, againCreated: again.user?.created === true },
  };
}

export interface ReadyFigures {
  /** Milliseconds from spawn to the first `200` of `/readyz`, per start. */
  runsMs: number[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `jitsync serve` with the example config as shipped (on a free port), from spawn to ready. */
export async function benchReadyAfterSpawn(runs = 3): Promise<ReadyFigures> {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'jitsync-bench-ready-'));
    try {
      const port = await freePort();
      const example = readFileSync(join(repoRoot, 'jitsync.example.yaml'), 'utf8').replace('127.0.0.1:8787', `127.0.0.1:${port}`);
      writeFileSync(join(dir, 'jitsync.yaml'), example);
      mkdirSync(join(dir, 'examples'));
      copyFileSync(join(repoRoot, 'examples', 'directory.json'), join(dir, 'examples', 'directory.json'));
      const started = performance.now();
      const child = spawn(process.execPath, [join(here, '..', 'daemon', 'cli.js'), 'serve', '--config', join(dir, 'jitsync.yaml')], {
        stdio: 'ignore',
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        for (;;) {
          const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
          if (ready) break;
          if (performance.now() - started > 30_000) throw new Error('jitsync serve was not ready within 30 s');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        runsMs.push(Math.round(performance.now() - started));
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { runsMs };
}
