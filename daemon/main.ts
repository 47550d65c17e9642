import type { Logger } from 'pino';
import { createConnector } from '../connectors/registry.js';
import type { Connector } from '../connectors/types.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { createAdminService } from './admin/admin-service.js';
import { settingsFor, type JitsyncConfig } from './config/schema.js';
import { buildServer, type JitsyncServer } from './http/server.js';
import { createLoginService, type LoginService } from './login/login-service.js';
import { createMetrics } from './metrics.js';

/**
 * The composition root: every dependency is created here, once, and passed down. Nothing else
 * in jitsync builds its own store, connector or logger.
 */
export interface Daemon {
  config: JitsyncConfig;
  store: Store;
  connectors: ReadonlyMap<string, Connector>;
  login: LoginService;
  server: JitsyncServer;
  /** Starts listening; returns the address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createDaemon(config: JitsyncConfig, logger: Logger): Promise<Daemon> {
  const store = await openStore(config.store);
  try {
    for (const org of config.organizations) await store.ensureOrganization(org);

    const connectors = new Map<string, Connector>();
    for (const entry of config.connectors) {
      connectors.set(entry.id, createConnector(entry, { baseDir: config.baseDir }));
    }

    const login = createLoginService({
      store,
      connectors,
      settingsFor: (connectorId) => settingsFor(config, connectorId),
    });
    const admin = createAdminService({ store, connectorIds: [...connectors.keys()] });
    const server = await buildServer({
      login,
      admin,
      store,
      metrics: createMetrics(),
      logger,
      tokens: { hook: config.server.hookToken, admin: config.server.adminToken },
    });

    return {
      config,
      store,
      connectors,
      login,
      server,
      async listen() {
        return server.listen({ host: config.server.listen.host, port: config.server.listen.port });
      },
      async close() {
        await server.close();
        for (const connector of connectors.values()) await connector.close?.();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
