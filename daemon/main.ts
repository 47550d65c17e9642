import type { Logger } from 'pino';
import { createConnector } from '../connectors/registry.js';
import type { Connector } from '../connectors/types.js';
import { observeWrites } from '../store/observe.js';
import { openStore } from '../store/open.js';
import type { PrewarmRun, Store } from '../store/types.js';
import { createAdminService } from './admin/admin-service.js';
import { settingsFor, type JitsyncConfig } from './config/schema.js';
import { createDriftService, type DriftService } from './drift/drift-service.js';
import { createDriftView } from './drift/drift-view.js';
import { buildServer, type JitsyncServer } from './http/server.js';
import { createLoginService, type LoginService } from './login/login-service.js';
import { createMetrics } from './metrics.js';
import { createOrganizationsCache } from './organizations-cache.js';
import { createPrewarmService, type PrewarmService } from './prewarm/prewarm-service.js';
import { startPrewarmScheduler } from './prewarm/scheduler.js';

/**
 * The composition root: every dependency is created here, once, and passed down. Nothing else
 * in jitsync builds its own store, connector or logger.
 */
export interface Daemon {
  config: JitsyncConfig;
  store: Store;
  connectors: ReadonlyMap<string, Connector>;
  login: LoginService;
  prewarm: PrewarmService;
  drift: DriftService;
  server: JitsyncServer;
  /** Starts listening and the pre-warm schedules; returns the address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /** Called as pre-warm runs progress (the CLI's progress bar). */
  onPrewarmProgress?: (run: PrewarmRun) => void;
  /** Longest random delay before a scheduled run (default 30 s). */
  prewarmJitterMs?: number;
}

export async function createDaemon(config: JitsyncConfig, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const backend = await openStore(config.store);
  const connectorIds = config.connectors.map((c) => c.id);
  const driftView = createDriftView({
    store: backend,
    connectorIds,
    settingsFor: (connectorId) => settingsFor(config, connectorId),
  });
  // Everything writes through the observed store, so the drift view follows each write.
  const store = observeWrites(backend, driftView);
  try {
    for (const org of config.organizations) await store.ensureOrganization(org);

    const connectors = new Map<string, Connector>();
    for (const entry of config.connectors) {
      connectors.set(entry.id, createConnector(entry, { baseDir: config.baseDir }));
    }

    const organizations = createOrganizationsCache(store);
    const login = createLoginService({
      store,
      organizations,
      connectors,
      settingsFor: (connectorId) => settingsFor(config, connectorId),
    });
    const admin = createAdminService({ store, organizations, connectorIds: [...connectors.keys()] });
    const drift = createDriftService({ store, view: driftView, connectorIds });
    const prewarm = createPrewarmService({
      store,
      connectors,
      settingsFor: (connectorId) => settingsFor(config, connectorId),
      logger,
      driftSummary: (connectorId) => drift.summary(connectorId),
      ...(options.onPrewarmProgress ? { onProgress: options.onPrewarmProgress } : {}),
    });
    const server = await buildServer({
      login,
      admin,
      prewarm,
      drift,
      connectorIds: [...connectors.keys()],
      store,
      metrics: createMetrics(),
      logger,
      tokens: { hook: config.server.hookToken, admin: config.server.adminToken },
    });

    let scheduler: { stop(): Promise<void> } | null = null;
    return {
      config,
      store,
      connectors,
      login,
      prewarm,
      drift,
      server,
      async listen() {
        const address = await server.listen({ host: config.server.listen.host, port: config.server.listen.port });
        const schedules = config.connectors.flatMap((c) => (c.prewarm ? [{ connector: c.id, cron: c.prewarm }] : []));
        scheduler = startPrewarmScheduler(schedules, prewarm, logger, options.prewarmJitterMs);
        return address;
      },
      async close() {
        await scheduler?.stop();
        await server.close();
        await prewarm.close();
        for (const connector of connectors.values()) await connector.close?.();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
