import type { StoreLocation } from '../../store/open.js';
import type { ConnectorEntry } from '../config/schema.js';
import type { RequestSample } from '../metrics.js';
import type { Reply } from '../threads/replies.js';
import type { WireError } from '../threads/wire-errors.js';
import type { DeprovisionReason } from './deprovision.js';

/** What the SCIM thread is started with: plain data, copied into the thread. */
export interface ScimThreadData {
  connectors: ConnectorEntry[];
  store: StoreLocation;
  busyTimeoutMs: number;
  logLevel: string;
  /** `server.scimTls`: the files are read in the thread. */
  tls: { certFile: string; keyFile: string } | null;
}

export type ToScimThread =
  | { type: 'listen'; host: string; port: number }
  | ({ type: 'write-result' } & Reply)
  | ({ type: 'deprovision-result' } & Reply)
  /** The graceful stop: answer what was received until `deadline` (epoch ms), then close. */
  | { type: 'stop'; deadline: number };

export type FromScimThread =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | { type: 'listening'; address: string }
  /** A store write, made by the login thread (forward-writes.ts). */
  | { type: 'write'; id: number; method: string; args: unknown[] }
  /** An account to disable or enable (deprovision.ts): account updates are the login thread's. */
  | { type: 'deprovision'; id: number; connector: string; action: 'disable'; subject: string; scimId: string; reason: DeprovisionReason; now: string }
  | { type: 'deprovision'; id: number; connector: string; action: 'enable'; subject: string; scimId: string; now: string }
  /** Subjects a write of a `provisionOnPush` connector touched: for the background thread's queue. */
  | { type: 'pushed'; connector: string; subjects: string[] }
  | { type: 'observed'; samples: RequestSample[] }
  /** The store could not be used from the SCIM thread: readiness hears of it. */
  | { type: 'store-error'; error: WireError }
  | { type: 'stopped'; drained: boolean };
