import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { describeServer } from '../store/mongo/server-info.js';

/**
 * A MongoDB-wire server for the MongoDB variant: FerretDB 2 on DocumentDB when
 * `JITSYNC_BENCH_DOCUMENTDB` names its `start.sh` (the `atomic` path, as production runs), else
 * `MONGODB_URI` when set, else the FerretDB 1.x test server (test/ferretdb/build.sh builds it once
 * into a cache; test/mongo/server.ts does the same but finds the script relative to its own file,
 * which under dist/ is not there).
 */

const here = dirname(fileURLToPath(import.meta.url));
const buildScript = resolve(here, '..', '..', 'test', 'ferretdb', 'build.sh');

export interface BenchMongo {
  uri: string;
  description: string;
  stop(): Promise<void>;
}

/** The server's name as the store reads it from `buildInfo`. */
async function serverName(uri: string): Promise<string> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.connect();
    return describeServer(await client.db('admin').command({ buildInfo: 1 })).server;
  } finally {
    await client.close();
  }
}

/**
 * FerretDB 2 on PostgreSQL with DocumentDB, from `startScript` (which prints `FERRETDB_READY <uri>`,
 * and stops and removes its data folder when its standard input closes). PostgreSQL runs as
 * `postgres`, which must reach that folder: under /var/tmp, not a private temporary folder.
 */
async function startDocumentdb(startScript: string): Promise<BenchMongo> {
  const child = spawn('bash', [startScript], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: '/var/tmp' } });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    await exited;
  };
  try {
    const uri = await new Promise<string>((resolveReady, rejectReady) => {
      // start.sh runs install.sh first: minutes when nothing is built yet.
      const timer = setTimeout(() => rejectReady(new Error(`${startScript} was not ready within 8 min`)), 8 * 60_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^FERRETDB_READY (\S+)/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolveReady(match[1]);
        }
      });
      child.once('exit', (code) => rejectReady(new Error(`${startScript} exited (code ${code})`)));
    });
    return { uri, description: `${await serverName(uri)} on PostgreSQL`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function startBenchMongo(): Promise<BenchMongo> {
  const documentdb = process.env.JITSYNC_BENCH_DOCUMENTDB;
  if (documentdb) return startDocumentdb(resolve(documentdb));
  const external = process.env.MONGODB_URI;
  if (external) return { uri: external, description: `${await serverName(external)} at MONGODB_URI`, stop: async () => undefined };
  const { stdout } = await promisify(execFile)('bash', [buildScript], { timeout: 8 * 60_000 });
  const binary = stdout.trim().split('\n').at(-1) ?? '';
  const dataDir = mkdtempSync(join(tmpdir(), 'jitsync-bench-ferretdb-'));
  // stdin stays a pipe: the server exits when it closes, so a crashed run leaves no orphan.
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-data-dir', dataDir], { stdio: ['pipe', 'pipe', 'ignore'] });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const ready = await new Promise<{ uri: string; version: string }>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => rejectReady(new Error('FerretDB did not start within 20 s')), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^FERRETDB_READY (\S+) (\S+)$/.exec(line);
        if (match?.[1] && match[2]) {
          clearTimeout(timer);
          resolveReady({ uri: match[1], version: match[2] });
        }
      });
      child.once('exit', (code) => rejectReady(new Error(`FerretDB exited (code ${code})`)));
    });
    return { uri: ready.uri, description: `FerretDB ${ready.version.replace(/^v/, '')} (SQLite backend)`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
