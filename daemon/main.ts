import type { Logger } from 'pino';
import { createConnector } from '../connectors/registry.js';
import type { Connector } from '../connectors/types.js';
import { openStore } from '../store/open.js';
import type { PrewarmRun, Store } from '../store/types.js';
import { createAdminService } from './admin/admin-service.js';
import { startBackgroundThread, type BackgroundThread } from './background/thread.js';
import { settingsFor, type JitsyncConfig } from './config/schema.js';
import { createConnectorStatus } from './connector-status.js';
import type { DriftService } from './drift/types.js';
import type { JitsyncServer } from './http/app.js';
import { Drain } from './http/drain.js';
import { buildServer, type ServerDeps } from './http/server.js';
import { createLoginService, type LoginService } from './login/login-service.js';
import { createLoginTimesBuffer } from './login/login-times.js';
import { createMetrics } from './metrics.js';
import { createOrganizationsCache } from './organizations-cache.js';
import { scimIdLookup, scimServices } from './scim/index.js';
import { startScimThread, type ScimThread } from './scim/thread.js';
import { createStoreHealth } from './store-health.js';
import type { PrewarmService } from './prewarm/prewarm-service.js';
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
  /** Where the SCIM listener (`server.scimListen`) listens, once `listen()` resolved; null without one. */
  readonly scimAddress: string | null;
  /** Starts listening and the pre-warm schedules; returns the address. */
  listen(): Promise<string>;
  /**
   * The graceful stop (SIGTERM): answers the requests in flight until `deadline` (epoch ms),
   * then closes. Resolves false when requests were still open at the deadline and were cut.
   */
  stop(deadline: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /** Called as pre-warm runs progress (the CLI's progress bar). */
  onPrewarmProgress?: (run: PrewarmRun) => void;
  /** Longest random delay before a scheduled run (default 30 s). */
  prewarmJitterMs?: number;
}

export async function createDaemon(config: JitsyncConfig, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const busyTimeoutMs = config.server.storeBusyTimeoutMs;
  const backend = await openStore(config.store, { busyTimeoutMs });
  // Each connector's last success and error, from this thread's live look-ups and the background thread's runs.
  const connectorStatus = createConnectorStatus({ connectors: config.connectors, logger });
  const metrics = createMetrics();
  for (const entry of config.connectors) {
    if (entry.type === 'scim' && entry.provisionOnPush === true) {
      metrics.scimPushQueue.set({ connector: entry.id }, 0);
      metrics.scimPushFailing.set({ connector: entry.id }, 0);
    }
  }
  let background: BackgroundThread;
  // Every write of the process goes through this one store (the background thread's too): its
  // change feed tells the drift model of each. See docs/architecture.md.
  const store: Store = backend;
  try {
    background = startBackgroundThread(
      {
        config: { provisioning: config.provisioning, connectors: config.connectors, baseDir: config.baseDir },
        store: config.store,
        busyTimeoutMs,
        logLevel: logger.level,
        ...(options.onPrewarmProgress ? { onProgress: options.onPrewarmProgress } : {}),
        onConnectorOutcome: (outcome) => connectorStatus.record(outcome),
        onProvisionQueue: (connector, depth, failing) => {
          metrics.scimPushQueue.set({ connector }, depth);
          metrics.scimPushFailing.set({ connector }, failing);
        },
      },
      { store },
    );
  } catch (error) {
    await backend.close();
    throw error;
  }
  background.ready.catch((error: unknown) => logger.error({ err: error }, 'the background thread did not start: drift reports and pre-warm are unavailable'));
  const { drift, prewarm } = background;
  let scimThread: ScimThread | null = null;
  try {
    for (const org of config.organizations) await store.ensureOrganization(org);

    // The login thread's own connectors, for live look-ups (the background thread has its own).
    const connectors = new Map<string, Connector>();
    for (const entry of config.connectors) {
      connectors.set(entry.id, await createConnector(entry, { baseDir: config.baseDir }));
    }

    const organizations = createOrganizationsCache(store);
    const loginTimes = createLoginTimesBuffer(store, logger);
    const login = createLoginService({
      store,
      organizations,
      loginTimes,
      connectors,
      settingsFor: (connectorId) => settingsFor(config, connectorId),
      onLookup: (outcome) => connectorStatus.record(outcome),
    });
    const admin = createAdminService({
      store,
      organizations,
      connectorIds: [...connectors.keys()],
      settingsFor: (connectorId) => settingsFor(config, connectorId),
      scimIdOf: scimIdLookup(config.connectors, store),
    });
    const drain = new Drain();
    const { scimListen, scimTls } = config.server;
    const health = createStoreHealth(store, logger);
    // Push provisioning: a SCIM write's subjects go to the background thread's queue, which
    // hands each whose account would change back to this thread's login service.
    const scim = scimServices(config.connectors, store, { onPushed: (connector, subjects) => background.provision(connector, subjects) });
    // SCIM is served by a thread of its own, on its own listener or passed whole from the main
    // one; its writes are made here (docs/architecture.md).
    if (scim.size > 0) {
      scimThread = startScimThread(
        { connectors: config.connectors, store: config.store, busyTimeoutMs, logLevel: logger.level, tls: scimTls },
        { services: scim, logger, metrics, health },
      );
      await scimThread.ready;
    }
    const deps: ServerDeps = {
      login,
      admin,
      prewarm,
      drift,
      connectorIds: [...connectors.keys()],
      connectorStatus,
      store,
      health,
      metrics,
      logger,
      tokens: { hook: config.server.hookToken, admin: config.server.adminToken },
      drain,
      scimProxy: scimThread && !scimListen ? scimThread.forward : null,
    };
    const server = await buildServer(deps);
    let scimAddress: string | null = null;

    let scheduler: { stop(): Promise<void> } | null = null;
    const daemon: Daemon = {
      config,
      store,
      connectors,
      login,
      prewarm,
      drift,
      server,
      get scimAddress() {
        return scimAddress;
      },
      async listen() {
        const address = await server.listen({ host: config.server.listen.host, port: config.server.listen.port });
        if (scimThread && scimListen) scimAddress = await scimThread.listen(scimListen.host, scimListen.port);
        const schedules = config.connectors.flatMap((c) => (c.prewarm ? [{ connector: c.id, cron: c.prewarm }] : []));
        scheduler = startPrewarmScheduler(schedules, prewarm, logger, options.prewarmJitterMs);
        // Only a serving daemon provisions SCIM pushes (not the one-shot CLI commands); the
        // organizations are in the store by now, and the queue's start sweep decides with them.
        background.startProvisioning((connector, subject) => login.provision({ connector, subject }));
        return address;
      },
      async stop(deadline) {
        // The main listener first: the SCIM thread answers the SCIM requests it passed on.
        const drained = await drain.stop([server.server], deadline);
        const scimDrained = (await scimThread?.stop(deadline)) ?? true;
        await daemon.close();
        return drained && scimDrained;
      },
      async close() {
        await scheduler?.stop();
        await server.close();
        // Before the store: the SCIM thread's writes are made through it.
        await scimThread?.stop(Date.now());
        // Before the store: runs in flight are recorded through it as they stop.
        await background.close();
        await loginTimes.close();
        for (const connector of connectors.values()) await connector.close?.();
        await backend.close();
      },
    };
    return daemon;
  } catch (error) {
    await scimThread?.stop(Date.now());
    await background.close();
    await backend.close();
    throw error;
  }
}
