import type { ChangeEvent, PrewarmRun, Store } from '../../store/types.js';
import type { ConnectorOutcomeSink } from '../connector-status.js';
import type { DriftService } from '../drift/types.js';
import { AppError } from '../errors.js';
import type { PrewarmService } from '../prewarm/prewarm-service.js';
import { startModuleWorker } from '../threads/module-worker.js';
import { pendingReplies } from '../threads/replies.js';
import { fromWire, toWire } from '../threads/wire-errors.js';
import { answerForwardedWrite } from './forward-writes.js';
import type { BackgroundCall, BackgroundData, FromBackground, ToBackground } from './protocol.js';

/**
 * The login thread's side of the background thread (worker.ts): the drift and pre-warm services,
 * answered there; the change events of every write the login thread's store commits, passed on;
 * and the writes the background thread asks for, made here on that store.
 */
export interface BackgroundThread {
  /** Settles once the thread has opened its store and connectors; rejects if it could not. */
  ready: Promise<void>;
  drift: DriftService;
  prewarm: PrewarmService;
  /**
   * Queues the subjects a SCIM write of a `provisionOnPush` connector touched, for push
   * provisioning on this thread (daemon/scim/push-provisioning.ts). Returns at once.
   */
  provision(connector: string, subjects: readonly string[]): void;
  /**
   * Starts push provisioning: the thread sweeps the cache, then hands each subject whose account
   * would change to `apply`, here on the login thread, one at a time. Called once the
   * organizations of the config are in the store, which the decisions read.
   */
  startProvisioning(apply: (connector: string, subject: string) => Promise<unknown>): void;
  /** Aborts pre-warm runs in flight (recorded as failed) and stops the thread. */
  close(): Promise<void>;
}

/**
 * How long change events wait to be posted when no call comes first. Every post wakes the other
 * thread, which costs the login thread tens of microseconds on a virtual machine; a call posts
 * them at once, so a report never misses one.
 */
const EVENTS_EVERY_MS = 50;

export interface BackgroundOptions extends Omit<BackgroundData, 'progress'> {
  /** Called with every change of a run's record (the CLI's progress bar). */
  onProgress?: (run: PrewarmRun) => void;
  /** Told of each pre-warm run's IdP outcome (the connector status). */
  onConnectorOutcome?: ConnectorOutcomeSink;
  /** More cache entries than this between two calls: the drift model is told to rebuild instead. */
  maxPendingCacheEntries?: number;
  /** Told of a connector's push provisioning figures when they change: subjects queued, subjects failing (the gauges). */
  onProvisionQueue?: (connector: string, depth: number, failing: number) => void;
}

/**
 * Starts the background thread; calls wait until its store and connectors are open. `store` is the
 * login thread's store: the background thread's writes are made through it, and its change events
 * (`onChange`) are posted to the thread in batches (at most every EVENTS_EVERY_MS), and always before a
 * call or a write's answer, so that the drift model has seen every write that completed before
 * it is asked.
 */
export function startBackgroundThread(options: BackgroundOptions, deps: { store: Store }): BackgroundThread {
  const { onProgress, onConnectorOutcome, onProvisionQueue, maxPendingCacheEntries = 20_000, ...rest } = options;
  const data: BackgroundData = { ...rest, progress: onProgress !== undefined };
  const worker = startModuleWorker(import.meta.url, 'worker', { workerData: data });
  const calls = pendingReplies();
  // Runs started here, by id. A run's `result` always reaches this thread before its `run-ended`
  // (the worker posts it first, and the waiter is set in the microtask that reads it).
  const runs = new Map<string, (run: PrewarmRun) => void>();
  let exited: Error | null = null;

  let events: ChangeEvent[] = [];
  let cacheEntries = 0;
  let flushScheduled = false;
  const post = (message: ToBackground) => {
    if (exited === null) worker.postMessage(message);
  };
  const flush = () => {
    flushScheduled = false;
    if (events.length === 0) return;
    post({ type: 'events', events });
    events = [];
  };
  const unsubscribe = deps.store.onChange((event: ChangeEvent) => {
    if (event.kind === 'cached-users') {
      // A full pre-warm run's worth of entries is not worth copying across: the model rebuilds.
      cacheEntries += event.users.length;
      if (cacheEntries > maxPendingCacheEntries) event = { kind: 'other' };
    }
    events.push(event);
    if (!flushScheduled) {
      flushScheduled = true;
      setTimeout(flush, EVENTS_EVERY_MS).unref();
    }
  });

  /** Answers a request of the thread once done, after the change events of what it wrote. */
  const answer = (type: 'write-result' | 'provision-result', id: number, done: Promise<unknown>) =>
    done.then(
      (value) => {
        flush();
        post({ type, id, ok: true, value });
      },
      (error: unknown) => {
        flush();
        post({ type, id, ok: false, error: toWire(error) });
      },
    );

  const write = (id: number, method: string, args: unknown[]) => answer('write-result', id, answerForwardedWrite(deps.store, method, args));

  let applyProvision: ((connector: string, subject: string) => Promise<unknown>) | null = null;
  const provision = (id: number, connector: string, subject: string) =>
    answer('provision-result', id, applyProvision ? applyProvision(connector, subject) : Promise.reject(new Error('push provisioning has not started')));

  // Not awaited here: the login thread serves while this thread loads; calls wait for it.
  let markReady!: () => void;
  let markFailed!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined); // seen through `ready` and every call

  let stopped: (() => void) | null = null;
  worker.on('message', (message: FromBackground) => {
    switch (message.type) {
      case 'ready':
        return markReady();
      case 'failed':
        return fail(fromWire(message.error));
      case 'result':
        return calls.settle(message);
      case 'write':
        return write(message.id, message.method, message.args);
      case 'run-progress':
        return onProgress?.(message.run);
      case 'connector-outcome':
        return onConnectorOutcome?.(message.outcome);
      case 'provision':
        return provision(message.id, message.connector, message.subject);
      case 'provision-queue':
        return onProvisionQueue?.(message.connector, message.depth, message.failing);
      case 'run-ended':
        runs.get(message.run.id)?.(message.run);
        runs.delete(message.run.id);
        return;
      case 'stopped':
        return stopped?.();
    }
  });
  const fail = (error: Error) => {
    exited = error;
    markFailed(error);
    calls.rejectAll(error);
  };
  worker.on('error', (error) => fail(new AppError(503, 'background_unavailable', `the background thread failed: ${error.message}`)));
  worker.on('exit', () => fail(exited ?? new AppError(503, 'background_unavailable', 'the background thread has stopped')));
  worker.unref(); // never what keeps a process alive

  const call = async <T>(request: BackgroundCall): Promise<T> => {
    await ready;
    if (exited) throw exited;
    const token = await deps.store.changeToken();
    flush();
    cacheEntries = 0;
    return calls.request<T>((id) => post({ type: 'call', id, call: request, token }));
  };

  const start: PrewarmService['start'] = async (connectorId, runOptions = {}) => {
    const run = await call<PrewarmRun>({ method: 'prewarm.start', connectorId, options: runOptions });
    // The run ends on the background thread; its record comes back with `run-ended`.
    const done = new Promise<PrewarmRun>((resolve) => runs.set(run.id, resolve));
    return { run, done };
  };

  return {
    ready,
    drift: {
      report: (filter = {}) => call({ method: 'drift.report', filter }),
      rendered: (filter, format, { nonce }) => call({ method: 'drift.rendered', filter, format, nonce }),
      summary: (connectorId) => call({ method: 'drift.summary', connectorId }),
    },
    prewarm: {
      start,
      async run(connectorId, runOptions) {
        return (await start(connectorId, runOptions)).done;
      },
      get: (runId) => call({ method: 'prewarm.get', runId }),
      cacheFigures: (connectorId) => call({ method: 'prewarm.cacheFigures', connectorId }),
      close: () => call({ method: 'prewarm.close' }),
    },
    provision(connector, subjects) {
      // After `ready`, like every message; never awaited by the SCIM request.
      void ready.then(() => post({ type: 'provision', connector, subjects: [...subjects] }), () => undefined);
    },
    startProvisioning(apply) {
      applyProvision = apply;
      void ready.then(() => post({ type: 'provision-start' }), () => undefined);
    },
    async close() {
      unsubscribe();
      if (exited) return;
      worker.ref();
      const exitedNow = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      await new Promise<void>((resolve) => {
        stopped = resolve;
        post({ type: 'stop' });
      });
      await exitedNow;
    },
  };
}
