import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/open.js';
import { settingsFor } from '../config/schema.js';
import { toWire } from '../threads/wire-errors.js';
import { applyChangeEvent } from './change-events.js';
import { createDriftService } from './drift-service.js';
import type { DriftCall, DriftThreadData, FromDriftThread, ToDriftThread } from './drift-thread.js';
import { createDriftView } from './drift-view.js';

/**
 * The drift thread: the drift model (build, folding in writes, report assembly and rendering) on
 * a connection of its own, so that none of it runs on the thread that answers logins. It only
 * reads; it learns of this process's writes from change events, in the order they committed.
 */
const port = parentPort;
if (!port) throw new Error('drift-worker runs as a worker thread');
const data = workerData as DriftThreadData;
const send = (message: FromDriftThread) => port.postMessage(message);

try {
  const store = await openStore(data.store, { busyTimeoutMs: data.busyTimeoutMs });
  // The token of the connection that makes this process's writes, as of the latest call: see
  // `changeToken` in drift-view.ts.
  let token: string | null = null;
  const view = createDriftView({
    store,
    connectorIds: data.connectorIds,
    settingsFor: (connectorId) => settingsFor(data.config, connectorId),
    changeToken: async () => token,
  });
  const drift = createDriftService({ store, view, connectorIds: data.connectorIds });

  const run = (call: DriftCall): Promise<unknown> => {
    switch (call.method) {
      case 'report':
        return drift.report(call.filter);
      case 'rendered':
        return drift.rendered(call.filter, call.format, { nonce: call.nonce });
      case 'summary':
        return drift.summary(call.connectorId);
    }
  };

  port.on('message', (message: ToDriftThread) => {
    switch (message.type) {
      case 'events':
        for (const event of message.events) applyChangeEvent(view, event);
        return;
      case 'call':
        token = message.token;
        run(message.call).then(
          (value) => send({ type: 'result', id: message.id, ok: true, value }),
          (error: unknown) => send({ type: 'result', id: message.id, ok: false, error: toWire(error) }),
        );
        return;
      case 'stop':
        void store.close().finally(() => port.close());
        return;
    }
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', error: toWire(error) });
}
