import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever
 * commit crosses 1,000 WAL pages, copying them and fsyncing the database file on the calling
 * thread: with better-sqlite3 that is the login path, and the logins that met it stalled (see
 * BENCHMARKS.md). Here a worker thread with
 * its own connection runs a PASSIVE checkpoint every `intervalMs`: it never waits for readers or
 * writers, and its fsync blocks only the worker.
 */
export interface Checkpointer {
  /** Stops the worker and closes its connection (before the main one, so that one can clean up the WAL). */
  stop(): Promise<void>;
}

// A script, not a module file: it runs the same from `dist/` and from the TypeScript sources under test.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Busy is transient (another checkpoint, another process): the next tick tries again.
    // Anything else hands checkpoints back to SQLite, on the writing thread.
    if (!/^SQLITE_(BUSY|LOCKED)/.test(String(error && error.code))) parentPort.postMessage(String(error && error.message || error));
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startCheckpointer(path: string, intervalMs = 1_000, onError: (message: string) => void = () => {}): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, intervalMs, module: createRequire(import.meta.url).resolve('better-sqlite3') },
  });
  worker.unref(); // never what keeps a process alive
  worker.on('message', (message: unknown) => onError(String(message)));
  worker.on('error', (error) => onError(error.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.ref(); // else a process with nothing else to do would exit before the worker has
      worker.postMessage('stop');
      await exited;
    },
  };
}
