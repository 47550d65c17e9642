import type { ScimResourceType } from '../../store/scim-types.js';
import type { StoreLocation } from '../../store/open.js';
import type { ConnectorEntry } from '../config/schema.js';
import type { RequestSample } from '../metrics.js';
import type { Reply } from '../threads/replies.js';
import { fromWire, toWire, type WireError } from '../threads/wire-errors.js';
import { ScimError, type ScimType } from './errors.js';
import type { PatchOperation } from './patch.js';
import type { ProxiedRequest } from './proxy.js';

/** What the SCIM thread is started with: plain data, copied into the thread. */
export interface ScimThreadData {
  connectors: ConnectorEntry[];
  store: StoreLocation;
  busyTimeoutMs: number;
  logLevel: string;
  /** `server.scimTls`: the files are read in the thread. */
  tls: { certFile: string; keyFile: string } | null;
}

/** A SCIM write, as the SCIM thread read it from its request: the login thread makes it. */
export type ScimWrite =
  | { method: 'create'; type: ScimResourceType; body: unknown }
  | { method: 'replace'; type: ScimResourceType; id: string; body: unknown; ifMatch: string | null }
  | { method: 'patch'; type: ScimResourceType; id: string; operations: PatchOperation[]; ifMatch: string | null }
  | { method: 'remove'; type: ScimResourceType; id: string; ifMatch: string | null };

/** How a write's error crosses: a SCIM error, answered as such, or any other (wire-errors.ts). */
export type ScimWireError = { kind: 'scim'; status: number; detail: string; scimType?: ScimType } | WireError;

export function scimErrorToWire(error: unknown): ScimWireError {
  if (error instanceof ScimError) return { kind: 'scim', status: error.status, detail: error.detail, ...(error.scimType ? { scimType: error.scimType } : {}) };
  return toWire(error);
}

export function scimErrorFromWire(error: ScimWireError): Error {
  return error.kind === 'scim' ? new ScimError(error.status, error.detail, error.scimType) : fromWire(error);
}

export type ToScimThread =
  | { type: 'listen'; host: string; port: number }
  /** A request to the main listener, answered as the SCIM listener would (proxy.ts). */
  | { type: 'request'; id: number; request: ProxiedRequest }
  | ({ type: 'write-result' } & Reply<ScimWireError>)
  /** The graceful stop: answer what was received until `deadline` (epoch ms), then close. */
  | { type: 'stop'; deadline: number };

export type FromScimThread =
  | { type: 'ready' }
  | { type: 'failed'; error: WireError }
  | { type: 'listening'; address: string }
  | ({ type: 'answer' } & Reply)
  | { type: 'write'; id: number; connector: string; write: ScimWrite }
  | { type: 'observed'; samples: RequestSample[] }
  /** The store could not be read from the SCIM thread: readiness hears of it. */
  | { type: 'store-error'; error: WireError }
  | { type: 'stopped'; drained: boolean };
