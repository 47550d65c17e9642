import type { StoreLocation } from '../../store/open.js';
import type { ChangeEvent, PrewarmRun } from '../../store/types.js';
import type { JitsyncConfig } from '../config/schema.js';
import type { ConnectorOutcome } from '../connector-status.js';
import type { DriftFilter, DriftFormat } from '../drift/types.js';
import type { PrewarmOptions } from '../prewarm/prewarm-service.js';
import type { Reply } from '../threads/replies.js';
import type { WireError } from '../threads/wire-errors.js';

/** What the background thread is started with: plain data, copied into the thread. */
export interface BackgroundData {
  config: Pick<JitsyncConfig, 'provisioning' | 'connectors' | 'baseDir'>;
  store: StoreLocation;
  busyTimeoutMs: number;
  logLevel: string;
  /** Whether the login thread wants every change of a run's record (progress bars). */
  progress: boolean;
}

/** A call from the login thread to a service of the background thread. */
export type BackgroundCall =
  | { method: 'drift.report'; filter: DriftFilter }
  | { method: 'drift.rendered'; filter: DriftFilter; format: DriftFormat; nonce: string }
  | { method: 'drift.summary'; connectorId: string }
  | { method: 'prewarm.start'; connectorId: string; options: PrewarmOptions }
  | { method: 'prewarm.get'; runId: string }
  | { method: 'prewarm.cacheFigures'; connectorId: string }
  | { method: 'prewarm.close' };

export type ToBackground =
  | { type: 'events'; events: ChangeEvent[] }
  /** `token`: the login thread's change token when the call was made (see drift-view.ts). */
  | { type: 'call'; id: number; call: BackgroundCall; token: string | null }
  | ({ type: 'write-result' } & Reply)
  /** Subjects a SCIM write touched, for push provisioning (daemon/scim/push-provisioning.ts). */
  | { type: 'provision'; connector: string; subjects: string[] }
  /** The login thread applies provisionings from now on: sweep, then drain the queue. */
  | { type: 'provision-start' }
  | ({ type: 'provision-result' } & Reply)
  | { type: 'stop' };

export type FromBackground =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | ({ type: 'result' } & Reply)
  /** A store write of the background thread, made by the login thread (see forward-writes.ts). */
  | { type: 'write'; id: number; method: string; args: unknown[] }
  | { type: 'run-progress'; run: PrewarmRun }
  | { type: 'run-ended'; run: PrewarmRun }
  /** A pre-warm run's IdP outcome, for the connector status held on the login thread. */
  | { type: 'connector-outcome'; outcome: ConnectorOutcome }
  /** A queued subject whose login would change its account: the login thread applies it (`LoginService.provision`). */
  | { type: 'provision'; id: number; connector: string; subject: string }
  /** How many subjects wait in a connector's push provisioning queue, and how many failed and wait to be tried again (gauges). */
  | { type: 'provision-queue'; connector: string; depth: number; failing: number }
  | { type: 'stopped' };
