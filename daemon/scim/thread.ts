import type { Logger } from 'pino';
import type { Store } from '../../store/types.js';
import { answerForwardedWrite } from '../background/forward-writes.js';
import type { Metrics } from '../metrics.js';
import type { StoreHealth } from '../store-health.js';
import { startModuleWorker } from '../threads/module-worker.js';
import { fromWire, toWire } from '../threads/wire-errors.js';
import { createDeprovisioning, type Deprovisioning } from './deprovision.js';
import { scimSettingsOf } from './index.js';
import type { FromScimThread, ScimThreadData, ToScimThread } from './thread-protocol.js';

/**
 * The login thread's side of the SCIM thread (worker.ts), which serves `server.scimListen`: its
 * store writes and account updates are made here, on the one store of the process; its request
 * samples go to this thread's metrics, and its pushed subjects to push provisioning.
 */
export interface ScimThread {
  /** Settles once the thread has built its server; rejects if it could not. */
  ready: Promise<void>;
  /** Starts listening; resolves with the address. */
  listen(host: string, port: number): Promise<string>;
  /** The graceful stop of the SCIM listener (see Drain); resolves false when requests were cut. */
  stop(deadline: number): Promise<boolean>;
}

export interface ScimThreadDeps {
  store: Store;
  logger: Logger;
  metrics: Pick<Metrics, 'recordRequest'>;
  health: Pick<StoreHealth, 'noteError'>;
  /** Told of the subjects a write of a `provisionOnPush` connector touched. */
  onPushed(connector: string, subjects: string[]): void;
}

export function startScimThread(data: ScimThreadData, deps: ScimThreadDeps): ScimThread {
  const worker = startModuleWorker(import.meta.url, 'worker', { workerData: data });
  const post = (message: ToScimThread) => worker.postMessage(message);
  const deprovisioning = new Map<string, Deprovisioning>(
    data.connectors.flatMap((entry) => (entry.type === 'scim' ? [[entry.id, createDeprovisioning(deps.store, scimSettingsOf(entry))] as const] : [])),
  );

  let settled = false;
  let listening: { resolve(address: string): void; reject(error: Error): void } | null = null;
  let stopped: ((drained: boolean) => void) | null = null;
  let markReady!: () => void;
  let markFailed!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  const fail = (error: Error) => {
    if (!settled) markFailed(error);
    settled = true;
    listening?.reject(error);
    stopped?.(false);
  };

  const answer = (type: 'write-result' | 'deprovision-result', id: number, done: Promise<unknown>) =>
    done.then(
      (value) => post({ type, id, ok: true, value }),
      (error: unknown) => {
        deps.health.noteError(error);
        post({ type, id, ok: false, error: toWire(error) });
      },
    );

  worker.on('message', (message: FromScimThread) => {
    switch (message.type) {
      case 'ready':
        settled = true;
        return markReady();
      case 'failed':
        return fail(fromWire(message.error));
      case 'listening':
        return listening?.resolve(message.address);
      case 'write':
        return answer('write-result', message.id, answerForwardedWrite(deps.store, message.method, message.args));
      case 'deprovision': {
        const accounts = deprovisioning.get(message.connector);
        if (!accounts) return answer('deprovision-result', message.id, Promise.reject(new Error(`not a scim connector: ${message.connector}`)));
        const done =
          message.action === 'disable'
            ? accounts.disable(message.subject, message.scimId, message.reason, message.now)
            : accounts.enable(message.subject, message.scimId, message.now);
        return answer('deprovision-result', message.id, done);
      }
      case 'pushed':
        return deps.onPushed(message.connector, message.subjects);
      case 'observed':
        for (const sample of message.samples) deps.metrics.recordRequest(sample);
        return;
      case 'store-error':
        return deps.health.noteError(fromWire(message.error));
      case 'stopped':
        return stopped?.(message.drained);
    }
  });
  let stopping: Promise<boolean> | null = null;
  worker.on('error', (error) => {
    deps.logger.error({ err: error }, 'the SCIM thread failed: SCIM requests go unanswered until a restart');
    fail(error);
  });
  worker.on('exit', () => fail(new Error('the SCIM thread has stopped')));
  worker.unref(); // never what keeps a process alive

  return {
    ready,
    async listen(host, port) {
      await ready;
      return new Promise<string>((resolve, reject) => {
        listening = { resolve, reject };
        post({ type: 'listen', host, port });
      });
    },
    stop(deadline) {
      stopping ??= (async () => {
        if (!(await ready.then(() => true, () => false))) return true;
        worker.ref();
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        const drained = await new Promise<boolean>((resolve) => {
          stopped = resolve;
          post({ type: 'stop', deadline });
        });
        await exited;
        return drained;
      })();
      return stopping;
    },
  };
}
