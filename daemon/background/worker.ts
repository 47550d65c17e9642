import { parentPort, workerData } from 'node:worker_threads';
import { createConnector } from '../../connectors/registry.js';
import type { Connector } from '../../connectors/types.js';
import { openStore } from '../../store/open.js';
import { applyChangeEvent } from '../../store/write-events.js';
import { settingsFor } from '../config/schema.js';
import { createDriftService } from '../drift/drift-service.js';
import { createDriftView } from '../drift/drift-view.js';
import { createLogger } from '../logger.js';
import { createPrewarmService } from '../prewarm/prewarm-service.js';
import { scimAbsenceReason } from '../scim/absence.js';
import { createPushProvisioning } from '../scim/push-provisioning.js';
import { lowerThreadPriority } from '../threads/priority.js';
import { pendingReplies } from '../threads/replies.js';
import { toWire } from '../threads/wire-errors.js';
import { forwardWrites, type StoreWrite } from './forward-writes.js';
import type { BackgroundCall, BackgroundData, FromBackground, ToBackground } from './protocol.js';

/**
 * The background thread: the drift model (build, folding in writes, report assembly and
 * rendering) and pre-warm runs (IdP calls, snapshots, full reads), on a store connection of its
 * own, so that none of it runs on the thread that answers logins. Its writes are made by the login
 * thread (forward-writes.ts), which tells the drift model of every write as a change event.
 */
const port = parentPort;
if (!port) throw new Error('the background worker runs as a worker thread');
const data = workerData as BackgroundData;
// A drift build or a pre-warm snapshot can take a whole core for seconds; a login must not wait.
lowerThreadPriority();
const send = (message: FromBackground) => port.postMessage(message);

// Writes handed to the login thread, waiting for their answer.
const writes = pendingReplies();
const forward = (method: StoreWrite, args: unknown[]) => writes.request((id) => send({ type: 'write', id, method, args }));
// Push provisionings handed to the login thread, waiting for their answer.
const provisions = pendingReplies();

try {
  const reads = await openStore(data.store, { busyTimeoutMs: data.busyTimeoutMs, writer: false });
  const connectorIds = data.config.connectors.map((c) => c.id);
  const settings = (connectorId: string) => settingsFor(data.config, connectorId);
  // The login thread's change token as of the latest call: see `changeToken` in drift-view.ts.
  let token: string | null = null;
  const view = createDriftView({ store: reads, connectorIds, settingsFor: settings, changeToken: async () => token });
  const store = forwardWrites(reads, forward);
  const drift = createDriftService({ store, view, connectorIds, explainAbsence: scimAbsenceReason(data.config.connectors, reads) });

  const logger = createLogger(data.logLevel);
  const connectors = new Map<string, Connector>();
  for (const entry of data.config.connectors) connectors.set(entry.id, await createConnector(entry, { baseDir: data.config.baseDir }));
  const prewarm = createPrewarmService({
    store,
    connectors,
    settingsFor: settings,
    logger,
    driftSummary: (connectorId) => drift.summary(connectorId),
    ...(data.progress ? { onProgress: (run) => send({ type: 'run-progress', run }) } : {}),
    onConnectorOutcome: (outcome) => send({ type: 'connector-outcome', outcome }),
  });

  const pushProvisioning = createPushProvisioning({
    store: reads,
    connectors: data.config.connectors.filter((c) => c.type === 'scim' && c.provisionOnPush === true).map((c) => c.id),
    settingsFor: settings,
    apply: (connector, subject) => provisions.request((id) => send({ type: 'provision', id, connector, subject })),
    onDepth: (connector, depth, failing) => send({ type: 'provision-queue', connector, depth, failing }),
    logger,
  });

  const run = async (call: BackgroundCall): Promise<unknown> => {
    switch (call.method) {
      case 'drift.report':
        return drift.report(call.filter);
      case 'drift.rendered':
        return drift.rendered(call.filter, call.format, { nonce: call.nonce });
      case 'drift.summary':
        return drift.summary(call.connectorId);
      case 'prewarm.start': {
        const { run: started, done } = await prewarm.start(call.connectorId, call.options);
        void done.then((ended) => send({ type: 'run-ended', run: ended }));
        return started;
      }
      case 'prewarm.get':
        return prewarm.get(call.runId);
      case 'prewarm.cacheFigures':
        return prewarm.cacheFigures(call.connectorId);
      case 'prewarm.close':
        return prewarm.close();
    }
  };

  port.on('message', (message: ToBackground) => {
    switch (message.type) {
      case 'events':
        // The login thread's writes, and the writes it made for this thread, in commit order.
        for (const event of message.events) applyChangeEvent(view, event);
        return;
      case 'call':
        token = message.token;
        run(message.call).then(
          (value) => send({ type: 'result', id: message.id, ok: true, value }),
          (error: unknown) => send({ type: 'result', id: message.id, ok: false, error: toWire(error) }),
        );
        return;
      case 'write-result':
        return writes.settle(message);
      case 'provision':
        return pushProvisioning.enqueue(message.connector, message.subjects);
      case 'provision-start':
        void pushProvisioning.start();
        return;
      case 'provision-result':
        return provisions.settle(message);
      case 'stop':
        // Runs in flight end `failed` and are recorded (through the login thread, still open).
        void (async () => {
          await pushProvisioning.close();
          await prewarm.close();
          for (const connector of connectors.values()) await connector.close?.();
          await reads.close();
          send({ type: 'stopped' });
          port.close();
        })();
        return;
    }
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', error: toWire(error) });
}
