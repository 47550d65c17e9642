import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { StoreHealth } from '../store-health.js';
import { startModuleWorker } from '../threads/module-worker.js';
import { AppError } from '../errors.js';
import { pendingReplies } from '../threads/replies.js';
import { fromWire } from '../threads/wire-errors.js';
import type { ProxiedAnswer, ScimProxy } from './proxy.js';
import type { ScimService } from './scim-service.js';
import { scimErrorToWire, type FromScimThread, type ScimThreadData, type ScimWrite, type ToScimThread } from './thread-protocol.js';

/**
 * The login thread's side of the SCIM thread (worker.ts), which serves SCIM: on `server.scimListen`,
 * or, passed whole from the main listener (proxy.ts), its requests there. Each
 * SCIM write it read from a request is made here, by this thread's SCIM service of the connector
 * (its turns, the one write path, the effects on the cache and accounts), in one message each way.
 * The thread's request samples go to this thread's metrics.
 */
export interface ScimThread {
  /** Settles once the thread has built its server; rejects if it could not. */
  ready: Promise<void>;
  /** Starts listening (`server.scimListen`); resolves with the address. */
  listen(host: string, port: number): Promise<string>;
  /** Answers a request of the main listener as the SCIM listener would (proxy.ts). */
  forward: ScimProxy;
  /** The graceful stop of the SCIM listener (see Drain); resolves false when requests were cut. */
  stop(deadline: number): Promise<boolean>;
}

export interface ScimThreadDeps {
  /** This thread's SCIM service of each `scim` connector, by connector id. */
  services: ReadonlyMap<string, ScimService>;
  logger: Logger;
  metrics: Pick<Metrics, 'recordRequest'>;
  health: Pick<StoreHealth, 'noteError'>;
}

export function startScimThread(data: ScimThreadData, deps: ScimThreadDeps): ScimThread {
  const worker = startModuleWorker(import.meta.url, 'worker', { workerData: data });
  const post = (message: ToScimThread, transfer: ArrayBuffer[] = []) => worker.postMessage(message, transfer);

  let settled = false;
  let listening: { resolve(address: string): void; reject(error: Error): void } | null = null;
  let stopped: ((drained: boolean) => void) | null = null;
  let markReady!: () => void;
  let markFailed!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  // Requests of the main listener waiting for the thread's answer.
  const answers = pendingReplies();
  let failed: AppError | null = null;
  const fail = (error: Error) => {
    if (!settled) markFailed(error);
    settled = true;
    listening?.reject(error);
    stopped?.(false);
    failed ??= new AppError(503, 'scim_unavailable', `the SCIM thread has stopped: ${error.message}`);
    answers.rejectAll(failed);
  };

  const write = (connector: string, request: ScimWrite): Promise<unknown> => {
    const service = deps.services.get(connector);
    if (!service) return Promise.reject(new Error(`not a scim connector: ${connector}`));
    switch (request.method) {
      case 'create':
        return service.create(request.type, request.body, '');
      case 'replace':
        return service.replace(request.type, request.id, request.body, request.ifMatch);
      case 'patch':
        return service.patch(request.type, request.id, request.operations, request.ifMatch);
      case 'remove':
        return service.remove(request.type, request.id, request.ifMatch);
    }
  };

  worker.on('message', (message: FromScimThread) => {
    switch (message.type) {
      case 'ready':
        settled = true;
        return markReady();
      case 'failed':
        return fail(fromWire(message.error));
      case 'listening':
        return listening?.resolve(message.address);
      case 'answer':
        return answers.settle(message);
      case 'write':
        write(message.connector, message.write).then(
          (value) => post({ type: 'write-result', id: message.id, ok: true, value }),
          (error: unknown) => {
            deps.health.noteError(error);
            post({ type: 'write-result', id: message.id, ok: false, error: scimErrorToWire(error) });
          },
        );
        return;
      case 'observed':
        for (const sample of message.samples) deps.metrics.recordRequest(sample);
        return;
      case 'store-error':
        return deps.health.noteError(fromWire(message.error));
      case 'stopped':
        return stopped?.(message.drained);
    }
  });
  worker.on('error', (error) => {
    deps.logger.error({ err: error }, 'the SCIM thread failed: SCIM requests go unanswered until a restart');
    fail(error);
  });
  worker.on('exit', () => fail(new Error('the SCIM thread has stopped')));
  worker.unref(); // never what keeps a process alive

  let stopping: Promise<boolean> | null = null;
  return {
    ready,
    async listen(host, port) {
      await ready;
      return new Promise<string>((resolve, reject) => {
        listening = { resolve, reject };
        post({ type: 'listen', host, port });
      });
    },
    async forward(request) {
      if (failed) throw failed;
      return answers.request<ProxiedAnswer>((id) => post({ type: 'request', id, request }, request.body ? [request.body.buffer as ArrayBuffer] : []));
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
