import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/open.js';
import { StoreUnavailableError } from '../../store/types.js';
import { forwardWrites, type StoreWrite } from '../background/forward-writes.js';
import { Drain } from '../http/drain.js';
import { buildServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import type { RequestMetrics, RequestSample } from '../metrics.js';
import { lowerThreadPriority } from '../threads/priority.js';
import { pendingReplies } from '../threads/replies.js';
import { toWire } from '../threads/wire-errors.js';
import type { Deprovisioning } from './deprovision.js';
import { scimEndpoints } from './index.js';
import type { FromScimThread, ScimThreadData, ToScimThread } from './thread-protocol.js';

/**
 * The SCIM thread: the SCIM listener (`server.scimListen`) with everything a request takes (HTTP,
 * parsing, PATCH, filters, rendering, the reads of its own store connection), so that an IdP's
 * push does not run on the thread that answers logins. Its store writes and account updates are
 * made by the login thread, as the background thread's are (forward-writes.ts).
 */

const port = parentPort;
if (!port) throw new Error('the SCIM worker runs as a worker thread');
const data = workerData as ScimThreadData;
// When both want the CPU, the login thread wins it: a push may slow down, a login must not.
lowerThreadPriority();
const send = (message: FromScimThread) => port.postMessage(message);

const writes = pendingReplies();
const forward = (method: StoreWrite, args: unknown[]) => writes.request((id) => send({ type: 'write', id, method, args }));
const accounts = pendingReplies();

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
  const store = forwardWrites(reads, forward);
  // Account updates are the login thread's; most pushes have no account to change (no one signed
  // in yet, or the account is already as it should be), which a read here tells without asking.
  const deprovisioningFor = (settings: { id: string }): Deprovisioning => ({
    async disable(subject, scimId, reason, now) {
      if (!(await reads.findAccountByIdentity({ connector: settings.id, subject }))) return;
      await accounts.request((id) => send({ type: 'deprovision', id, connector: settings.id, action: 'disable', subject, scimId, reason, now }));
    },
    async enable(subject, scimId, now) {
      if (!(await reads.findAccountByIdentity({ connector: settings.id, subject }))?.user.disabled) return;
      await accounts.request((id) => send({ type: 'deprovision', id, connector: settings.id, action: 'enable', subject, scimId, now }));
    },
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
      scim: scimEndpoints(data.connectors, store, {
        onPushed: (connector, subjects) => send({ type: 'pushed', connector, subjects }),
        deprovisioningFor,
      }),
    },
    { serves: 'scim', tls: data.tls ? readTls(data.tls) : null },
  );

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
      case 'deprovision-result':
        return accounts.settle(message);
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
