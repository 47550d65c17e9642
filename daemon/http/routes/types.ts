import type { Logger } from 'pino';
import type { Store } from '../../../store/types.js';
import type { AdminService } from '../../admin/admin-service.js';
import type { ConnectorStatus } from '../../connector-status.js';
import type { DriftService } from '../../drift/types.js';
import type { LoginService } from '../../login/login-service.js';
import type { Metrics } from '../../metrics.js';
import type { PrewarmService } from '../../prewarm/prewarm-service.js';
import type { ScimProxy } from '../../scim/proxy.js';
import type { StoreHealth } from '../../store-health.js';
import type { JitsyncServer } from '../app.js';
import type { TokenKind } from '../auth.js';
import type { Drain } from '../drain.js';

/** What the HTTP server is built from; each routes module takes the part it uses. */
export interface ServerDeps {
  login: LoginService;
  admin: AdminService;
  prewarm: PrewarmService;
  drift: DriftService;
  /** Ids of the configured connectors, for "pre-warm every connector" and the document's enums. */
  connectorIds: readonly string[];
  /** Each connector's last success and last error (`GET /v1/connectors`, `/readyz`). */
  connectorStatus: ConnectorStatus;
  store: Store;
  health: StoreHealth;
  metrics: Metrics;
  logger: Logger;
  tokens: Record<TokenKind, string>;
  /** The graceful stop: refuses new requests while the daemon stops. */
  drain: Drain;
  /** SCIM on this listener, answered by the SCIM thread; null when SCIM has a listener of its own, or no connector. */
  scimProxy: ScimProxy | null;
}

/** A routes module: declares one feature's routes on the server, given the dependencies it names. */
export type Routes<K extends keyof ServerDeps> = (app: JitsyncServer, deps: Pick<ServerDeps, K>) => void;
