import type { StoreLocation } from '../../store/open.js';
import type { WriteListener } from '../../store/observe.js';
import type { JitsyncConfig } from '../config/schema.js';
import { AppError } from '../errors.js';
import { startModuleWorker } from '../threads/module-worker.js';
import { fromWire, type WireError } from '../threads/wire-errors.js';
import { emitChangeEvents, type ChangeEvent } from './change-events.js';
import type { DriftFilter, DriftFormat, DriftService } from './types.js';

/** What the drift thread is started with. */
export interface DriftThreadData {
  config: Pick<JitsyncConfig, 'provisioning' | 'connectors'>;
  store: StoreLocation;
  busyTimeoutMs: number;
  connectorIds: readonly string[];
}

export type DriftCall =
  | { method: 'report'; filter: DriftFilter }
  | { method: 'rendered'; filter: DriftFilter; format: DriftFormat; nonce: string }
  | { method: 'summary'; connectorId: string };

export type ToDriftThread =
  | { type: 'events'; events: ChangeEvent[] }
  /** `token`: this process's write connection's change token, read when the call was made. */
  | { type: 'call'; id: number; call: DriftCall; token: string | null }
  | { type: 'stop' };

export type FromDriftThread =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: WireError };

/** The drift service, answered by the drift thread; told of this process's writes as a `WriteListener`. */
export interface DriftThread extends DriftService, WriteListener {
  close(): Promise<void>;
}

export interface DriftThreadOptions extends DriftThreadData {
  /** The change token of the connection this process writes through (see drift-view.ts). */
  changeToken(): Promise<string | null>;
  /** More cache entries than this between two calls: the thread is told to rebuild instead. */
  maxPendingCacheEntries?: number;
}

/**
 * Starts the drift thread (drift-worker.ts) and waits until its store is open. Writes are posted
 * as change events, batched per turn of the event loop and always before a call, so that a report
 * reflects every write that completed before it was asked for.
 */
export async function startDriftThread(options: DriftThreadOptions): Promise<DriftThread> {
  const { changeToken, maxPendingCacheEntries = 20_000, ...data } = options;
  const worker = startModuleWorker(import.meta.url, 'drift-worker', { workerData: data });
  const calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let exited: Error | null = null;

  await new Promise<void>((resolve, reject) => {
    const started = (message: FromDriftThread) => {
      if (message.type === 'ready') settle(null);
      else if (message.type === 'failed') settle(fromWire(message.error));
    };
    const failed = (error: Error) => settle(error);
    const stopped = (code: number) => settle(new Error(`the drift thread stopped at start (exit code ${code})`));
    const settle = (error: Error | null) => {
      worker.off('message', started).off('error', failed).off('exit', stopped);
      if (error) reject(error);
      else resolve();
    };
    worker.on('message', started).on('error', failed).on('exit', stopped);
  });

  worker.on('message', (message: FromDriftThread) => {
    if (message.type !== 'result') return;
    const call = calls.get(message.id);
    calls.delete(message.id);
    if (message.ok) call?.resolve(message.value);
    else call?.reject(fromWire(message.error));
  });
  const exitedWith = (error: Error) => {
    exited = error;
    for (const call of calls.values()) call.reject(error);
    calls.clear();
  };
  worker.on('error', (error) => exitedWith(new AppError(503, 'drift_unavailable', `the drift thread failed: ${error.message}`)));
  worker.on('exit', () => exitedWith(exited ?? new AppError(503, 'drift_unavailable', 'the drift thread has stopped')));
  worker.unref(); // never what keeps a process alive

  let events: ChangeEvent[] = [];
  let cacheEntries = 0;
  let flushScheduled = false;
  const post = (message: ToDriftThread) => {
    if (exited === null) worker.postMessage(message);
  };
  const flush = () => {
    flushScheduled = false;
    if (events.length === 0) return;
    post({ type: 'events', events });
    events = [];
  };
  const listener = emitChangeEvents((event) => {
    if (event.kind === 'cached-users') {
      // A full pre-warm run's worth of entries is not worth copying across: the model rebuilds.
      cacheEntries += event.users.length;
      if (cacheEntries > maxPendingCacheEntries) event = { kind: 'other' };
    }
    events.push(event);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });

  const call = async <T>(request: DriftCall): Promise<T> => {
    if (exited) throw exited;
    const token = await changeToken();
    flush();
    cacheEntries = 0;
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post({ type: 'call', id, call: request, token });
    });
  };

  return {
    ...listener,
    report: (filter = {}) => call({ method: 'report', filter }),
    rendered: (filter, format, { nonce }) => call({ method: 'rendered', filter, format, nonce }),
    summary: (connectorId) => call({ method: 'summary', connectorId }),
    async close() {
      if (exited) return;
      worker.ref();
      const stopped = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      post({ type: 'stop' });
      await stopped;
    },
  };
}
