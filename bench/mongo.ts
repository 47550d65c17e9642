import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A MongoDB-wire server for the MongoDB variant: `MONGODB_URI` when set, else the FerretDB test
 * server (test/ferretdb/build.sh builds it once into a cache; test/mongo/server.ts does the same
 * but finds the script relative to its own file, which under dist/ is not there).
 */

const here = dirname(fileURLToPath(import.meta.url));
const buildScript = resolve(here, '..', '..', 'test', 'ferretdb', 'build.sh');

export interface BenchMongo {
  uri: string;
  description: string;
  stop(): Promise<void>;
}

export async function startBenchMongo(): Promise<BenchMongo> {
  const external = process.env.MONGODB_URI;
  if (external) return { uri: external, description: `MongoDB at MONGODB_URI`, stop: async () => undefined };
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
