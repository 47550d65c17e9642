import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/open.js';
import { StoreUnavailableError } from '../../store/types.js';
import { forwardWrites } from '../background/forward-writes.js';
import { Drain } from '../http/drain.js';
import { buildServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import type { RequestMetrics, RequestSample } from '../metrics.js';
import { lowerThreadPriority } from '../threads/priority.js';
import { pendingReplies } from '../threads/replies.js';
import { toWire } from '../threads/wire-errors.js';
import { scimEndpoints } from './index.js';
import type { ProxiedAnswer, ProxiedRequest } from './proxy.js';
import type { ScimService } from './scim-service.js';
import { scimErrorFromWire, type FromScimThread, type ScimThreadData, type ScimWrite, type ToScimThread } from './thread-protocol.js';

/**
 * The SCIM thread: the SCIM listener (`server.scimListen`), or the requests the main listener
 * passes on whole (proxy.ts), with the HTTP work of every request
 * (parsing, the token and rate limit, PATCH bodies, filters, rendering) and the reads (`GET`, lists,
 * on a store connection of its own), so that an IdP's push does not take the CPU of the thread
 * that answers logins. Each write is one message: the login thread's SCIM service makes it, with
 * its effects, through the one write path, and answers with the resource as written.
 */

const port = parentPort;
if (!port) throw new Error('the SCIM worker runs as a worker thread');
const data = workerData as ScimThreadData;
const send = (message: FromScimThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
// When both want the CPU, the login thread wins it: a push may slow down, a login must not.
lowerThreadPriority();

/** How often request samples are passed on to the login thread's metrics (a scrape is 15 s or more apart). */
const SAMPLES_EVERY_MS = 1_000;

/** Request samples, passed on to the login thread's metrics in batches. */
function requestMetrics(): RequestMetrics & { flush(): void } {
  let samples: RequestSample[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (samples.length > 0) send({ type: 'observed', samples });
    samples = [];
  };
  return {
    recordRequest(sample) {
      samples.push(sample);
      timer ??= setTimeout(flush, SAMPLES_EVERY_MS).unref();
    },
    flush,
  };
}

try {
  const reads = await openStore(data.store, { busyTimeoutMs: data.busyTimeoutMs, writer: false });
  // Writes sent to the login thread, waiting for their answer.
  const writes = pendingReplies(scimErrorFromWire);
  const write = <T>(connector: string, request: ScimWrite) => writes.request<T>((id) => send({ type: 'write', id, connector, write: request }));
  // Reads are answered here; every write is the login thread's (this store refuses them).
  const readOnly = forwardWrites(reads, (method) => Promise.reject(new Error(`the SCIM thread does not write (${method})`)));
  const forwarded = (connector: string, local: ScimService): ScimService => ({
    ...local,
    create: (type, body) => write(connector, { method: 'create', type, body }),
    replace: (type, id, body, ifMatch) => write(connector, { method: 'replace', type, id, body, ifMatch }),
    patch: (type, id, operations, ifMatch) => write(connector, { method: 'patch', type, id, operations, ifMatch }),
    remove: (type, id, ifMatch) => write(connector, { method: 'remove', type, id, ifMatch }),
  });
  const metrics = requestMetrics();
  const drain = new Drain();
  const server = await buildServer(
    {
      logger: createLogger(data.logLevel),
      drain,
      metrics,
      health: {
        noteError: (error) => {
          if (error instanceof StoreUnavailableError) send({ type: 'store-error', error: toWire(error) });
        },
      },
      scim: scimEndpoints(data.connectors, readOnly).map((endpoint) => ({
        ...endpoint,
        service: forwarded(endpoint.service.settings.id, endpoint.service),
      })),
    },
    { serves: 'scim', tls: data.tls ? readTls(data.tls) : null },
  );

  /** A request of the main listener, answered by this thread's server as if it had arrived here. */
  const answer = async (id: number, request: ProxiedRequest) => {
    try {
      const response = await server.inject({
        method: request.method as 'GET',
        url: request.url,
        headers: request.headers as Record<string, string>,
        ...(request.body ? { payload: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength) } : {}),
      });
      // A copy of its own, so that it can be handed over without detaching a pooled buffer.
      const value: ProxiedAnswer = { status: response.statusCode, headers: response.headers, body: new Uint8Array(response.rawPayload) };
      return { type: 'answer' as const, id, ok: true as const, value };
    } catch (error) {
      return { type: 'answer' as const, id, ok: false as const, error: toWire(error) };
    }
  };

  port.on('message', (message: ToScimThread) => {
    switch (message.type) {
      case 'listen':
        server.listen({ host: message.host, port: message.port }).then(
          (address) => send({ type: 'listening', address }),
          (error: unknown) => send({ type: 'failed', error: toWire(error) }),
        );
        return;
      case 'write-result':
        return writes.settle(message);
      case 'request':
        answer(message.id, message.request).then(
          (reply) => send(reply, reply.ok ? [reply.value.body.buffer as ArrayBuffer] : []),
          () => undefined,
        );
        return;
      case 'stop':
        void (async () => {
          const drained = await drain.stop([server.server], message.deadline);
          await server.close();
          metrics.flush();
          await reads.close();
          send({ type: 'stopped', drained });
          port.close();
        })();
        return;
    }
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', error: toWire(error) });
}

/** The SCIM listener's key and certificate (`config check` has checked that both can be read). */
function readTls(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (key: 'certFile' | 'keyFile') => {
    try {
      return readFileSync(files[key]);
    } catch (error) {
      throw new Error(`server.scimTls.${key}: cannot read ${files[key]} (${error instanceof Error && 'code' in error ? String(error.code) : String(error)})`);
    }
  };
  return { cert: read('certFile'), key: read('keyFile') };
}
