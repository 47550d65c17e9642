import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import type { WriteMode } from '../../store/mongo/index.js';
import { describeServer } from '../../store/mongo/server-info.js';

/**
 * A real server speaking the MongoDB wire protocol for the tests, never a mock. In order:
 *
 * 0. `JITSYNC_TEST_DOCUMENTDB` when set: the path of a `start.sh` that starts FerretDB 2 on
 *    PostgreSQL with DocumentDB (kind `documentdb`; CI sets it for its second pass, see
 *    test/mongo/documentdb-pass.sh). The store's `atomic` path, as on MongoDB. When it is set
 *    and the server does not start, the run fails: nothing else is tried in its place.
 * 1. `MONGODB_URI` when set (kind `external`).
 * 2. `mongod` through mongodb-memory-server, when a binary is on this machine without a
 *    download: `MONGOMS_SYSTEM_BINARY`, `mongod` on PATH, or mongodb-memory-server's cache.
 * 3. A download by mongodb-memory-server, only when `JITSYNC_TEST_MONGOD_DOWNLOAD=1` and not in
 *    CI, bounded to 10 s. Off by default: on machines without internet it fails after ~7 s of
 *    DNS look-ups on every run.
 * 4. FerretDB 1.24 (SQLite backend), built once from `test/ferretdb/` and started on a free
 *    loopback port with a temporary data directory.
 */

export type MongoServerKind = 'mongod' | 'ferretdb' | 'documentdb' | 'external';

export interface MongoServer {
  /** `mongodb://host:port/` without a database: each test file adds its own. */
  uri: string;
  kind: MongoServerKind;
  /** The server's own version (FerretDB's release for `ferretdb` and `documentdb`, else the MongoDB version). */
  version: string;
  /** The store's write path on this server, as it detects it (`describeServer`). */
  writeMode: WriteMode;
  /** One line for logs: `FerretDB 1.24.2 (SQLite backend, MongoDB 7.0.42 wire), guarded path, at mongodb://…`. */
  description: string;
  stop(): Promise<void>;
}

const DOWNLOAD_BOUND_MS = 10_000;
const FERRETDB_READY_MS = 20_000;
// start.sh runs install.sh first: 2-4 minutes on a machine where nothing is built yet.
const DOCUMENTDB_READY_MS = 8 * 60_000;
const FERRETDB_BUILD_MS = 8 * 60_000;

const here = dirname(fileURLToPath(import.meta.url));
const ferretdbSource = resolve(here, '..', 'ferretdb');

const execFileAsync = promisify(execFile);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The server's name and write path as the store reads them from `buildInfo`, and the MongoDB version it reports. */
async function serverVersion(uri: string): Promise<{ version: string; name: string; writeMode: WriteMode }> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000, socketTimeoutMS: 10_000 });
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    const version = typeof info.version === 'string' ? info.version : 'unknown';
    const { server, writeMode } = describeServer(info);
    return { version, name: server, writeMode };
  } finally {
    await client.close();
  }
}

function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

async function startExternal(uri: string): Promise<MongoServer> {
  const { version, name, writeMode } = await serverVersion(uri);
  return {
    uri,
    kind: 'external',
    version,
    writeMode,
    description: `${name} from MONGODB_URI, ${writeMode} path`,
    stop: async () => undefined,
  };
}

/** A local mongod binary that needs no download, or null. */
async function localMongodBinary(): Promise<string | null> {
  const fromEnv = process.env.MONGOMS_SYSTEM_BINARY;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const fromPath = onPath('mongod');
  if (fromPath !== null) return fromPath;
  const { DryMongoBinary } = await import('mongodb-memory-server-core');
  const options = await DryMongoBinary.generateOptions({});
  return (await DryMongoBinary.locateBinary(options)) ?? null;
}

async function startMongod(binary: string | null): Promise<MongoServer> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create({
    instance: { ip: '127.0.0.1', port: 0 },
    ...(binary === null ? {} : { binary: { systemBinary: binary } }),
  });
  try {
    const uri = server.getUri();
    const { version, writeMode } = await serverVersion(uri);
    return {
      uri,
      kind: 'mongod',
      version,
      writeMode,
      description: `mongod ${version} (mongodb-memory-server), ${writeMode} path, at ${uri}`,
      stop: async () => {
        await server.stop({ doCleanup: true, force: true });
      },
    };
  } catch (error) {
    await server.stop({ doCleanup: true, force: true });
    throw error;
  }
}

/** Builds the FerretDB test server if needed (a no-op when cached) and returns its path. */
export async function buildFerretdb(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [join(ferretdbSource, 'build.sh')], {
    timeout: FERRETDB_BUILD_MS,
    maxBuffer: 10 * 1024 * 1024,
  });
  const path = stdout.trim().split('\n').pop() ?? '';
  if (path === '') throw new Error('test/ferretdb/build.sh printed no binary path');
  return path;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolveStop();
      return;
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

async function startFerretdb(): Promise<MongoServer> {
  const binary = await buildFerretdb();
  const dataDir = mkdtempSync(join(tmpdir(), 'jitsync-ferretdb-'));
  // stdin stays a pipe: the server exits when it closes, so a crashed test run leaves no orphan.
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-data-dir', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });

  const cleanup = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const ready = new Promise<{ uri: string; version: string }>((resolveReady, rejectReady) => {
      const lines = createInterface({ input: child.stdout ?? process.stdin });
      lines.on('line', (line) => {
        const match = /^FERRETDB_READY (\S+) (\S+)$/.exec(line);
        if (match?.[1] !== undefined && match[2] !== undefined) resolveReady({ uri: match[1], version: match[2] });
      });
      child.once('error', rejectReady);
      child.once('exit', (code, signal) =>
        rejectReady(new Error(`FerretDB exited before it was ready (code ${code}, signal ${signal}): ${stderr}`)),
      );
    });
    const { uri, version: tag } = await withTimeout(ready, FERRETDB_READY_MS, 'FerretDB start');
    const version = tag.replace(/^v/, '');
    const wire = await serverVersion(uri);
    return {
      uri,
      kind: 'ferretdb',
      version,
      writeMode: wire.writeMode,
      description: `FerretDB ${version} (SQLite backend, MongoDB ${wire.version} wire), ${wire.writeMode} path, at ${uri}`,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * FerretDB 2 on PostgreSQL with DocumentDB, started by `startScript` (a `start.sh` that prints
 * `FERRETDB_READY <uri>`, and stops and removes its data folder when its standard input closes).
 * PostgreSQL runs as the `postgres` user, which must reach that folder: it goes under /var/tmp
 * (world-traversable), not under a private temporary folder.
 */
async function startDocumentdb(startScript: string): Promise<MongoServer> {
  accessSync(startScript, constants.R_OK);
  // stdin stays a pipe: closing it stops FerretDB and PostgreSQL, also when the test run dies.
  const child = spawn('bash', [startScript], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: '/var/tmp' } });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });

  const stop = (): Promise<void> =>
    new Promise<void>((resolveExit) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
      // start.sh stops PostgreSQL on its way out (a fast shutdown: about a second).
      const killer = setTimeout(() => child.kill('SIGTERM'), 30_000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolveExit();
      });
      child.stdin?.end();
    });

  try {
    const ready = new Promise<string>((resolveReady, rejectReady) => {
      const lines = createInterface({ input: child.stdout ?? process.stdin });
      lines.on('line', (line) => {
        const match = /^FERRETDB_READY (\S+)/.exec(line);
        if (match?.[1] !== undefined) resolveReady(match[1]);
      });
      child.once('error', rejectReady);
      child.once('exit', (code, signal) =>
        rejectReady(new Error(`${startScript} exited before the server was ready (code ${code}, signal ${signal}): ${stderr}`)),
      );
    });
    const uri = await withTimeout(ready, DOCUMENTDB_READY_MS, `DocumentDB start (${startScript})`);
    const wire = await serverVersion(uri);
    const version = /^FerretDB (\S+)/.exec(wire.name)?.[1] ?? 'unknown';
    return {
      uri,
      kind: 'documentdb',
      version,
      writeMode: wire.writeMode,
      description: `FerretDB ${version} on DocumentDB (PostgreSQL), ${wire.writeMode} path, at ${uri}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts (or finds) a MongoDB-wire server as described at the top of this file. */
export async function startMongoServer(env: NodeJS.ProcessEnv = process.env): Promise<MongoServer> {
  const documentdb = env.JITSYNC_TEST_DOCUMENTDB;
  if (documentdb !== undefined && documentdb !== '') return startDocumentdb(resolve(documentdb));

  const external = env.MONGODB_URI;
  if (external !== undefined && external !== '') return startExternal(external);

  const failures: string[] = [];

  const binary = await localMongodBinary().catch(() => null);
  if (binary !== null) {
    try {
      return await startMongod(binary);
    } catch (error) {
      failures.push(`mongod at ${binary}: ${describeError(error)}`);
    }
  }

  if (env.JITSYNC_TEST_MONGOD_DOWNLOAD === '1' && env.CI !== 'true') {
    const starting = startMongod(null);
    try {
      return await withTimeout(starting, DOWNLOAD_BOUND_MS, 'mongod download');
    } catch (error) {
      // A download that finishes after the bound must not leave a mongod running.
      starting.then((late) => late.stop()).catch(() => undefined);
      failures.push(`mongod download: ${describeError(error)}`);
    }
  }

  try {
    return await startFerretdb();
  } catch (error) {
    failures.push(`FerretDB: ${describeError(error)}`);
  }

  throw new Error(
    'no MongoDB-wire server for the MongoDB store tests. Set MONGODB_URI, put mongod on PATH ' +
      '(or MONGOMS_SYSTEM_BINARY), or install Go so test/ferretdb/build.sh can build FerretDB. Tried:\n  ' +
      failures.join('\n  '),
  );
}

/** `mongodb://host:port/` + a database name (query string kept). */
export function uriWithDatabase(uri: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]*)\/?([^?]*)(\?.*)?$/.exec(uri);
  if (match === null) throw new Error(`not a MongoDB URI: ${uri}`);
  return `${match[1]}/${encodeURIComponent(database)}${match[3] ?? ''}`;
}
