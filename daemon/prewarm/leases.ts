import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../../store/types.js';

export interface LeaseDeps {
  store: Pick<Store, 'acquireLease' | 'releaseLease'>;
  logger: Logger;
  clock: () => Date;
  /** Names this process in leases, so a replica can tell its own lease from another's. */
  instanceId?: string;
  ttlMs?: number;
}

/** A connector's pre-warm lease, held by one run and renewed until released. */
export interface RunLease {
  /** Stops renewing and gives the lease up; never throws. */
  release(): Promise<void>;
}

export interface RunLeases {
  /**
   * Takes the connector's lease for one run, or answers `null` when another run (here or on
   * another replica) holds it. `onLost` is called when a renewal finds the lease taken.
   */
  acquire(connectorId: string, runId: string, onLost: () => void): Promise<RunLease | null>;
}

/** One pre-warm run per connector across replicas: a lease in the store, renewed while the run lasts. */
export function createRunLeases(deps: LeaseDeps): RunLeases {
  const { store, logger, clock } = deps;
  const instanceId = deps.instanceId ?? randomUUID();
  const ttlMs = deps.ttlMs ?? 5 * 60_000;

  return {
    async acquire(connectorId, runId, onLost) {
      const lease = `prewarm:${connectorId}`;
      const holder = `${instanceId}:${runId}`;
      if (!(await store.acquireLease(lease, holder, ttlMs, clock().toISOString()))) return null;
      // Renew well before expiry; a process that dies stops renewing and the lease lapses.
      const renew = setInterval(() => {
        void store.acquireLease(lease, holder, ttlMs, clock().toISOString()).then(
          (held) => {
            if (!held) onLost();
          },
          (error: unknown) => logger.warn({ err: error, connector: connectorId }, 'lease renewal failed'),
        );
      }, ttlMs / 3);
      renew.unref();
      return {
        async release() {
          clearInterval(renew);
          await store.releaseLease(lease, holder).catch(() => undefined);
        },
      };
    },
  };
}
