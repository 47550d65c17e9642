import type { Logger } from 'pino';
import { StoreError, StoreUnavailableError, type Store } from '../store/types.js';
import { answerFor } from './errors.js';

/**
 * Readiness as the store allows it. A request that meets `StoreUnavailableError` (disk full, I/O
 * error, unreachable server) makes the daemon unready; from then on `/readyz` tries a small
 * durable write, and ready again once one succeeds, without a restart. A busy store (another
 * writer's lock) is transient and leaves readiness alone: a foreign lock must not take every
 * replica out of a load balancer.
 */
export interface StoreHealth {
  /** Told of each error a request or background task met. */
  noteError(error: unknown): void;
  /**
   * When not ready: `reason` is the store error's code in the API's table (`store_unavailable`),
   * `message` the store's own account of it (it names the store and the cause, never credentials).
   */
  check(): Promise<{ ready: true } | { ready: false; reason: string; message: string }>;
}

export function createStoreHealth(store: Store, logger: Logger): StoreHealth {
  let unavailable = false;
  const noteError = (error: unknown) => {
    if (!(error instanceof StoreUnavailableError) || unavailable) return;
    unavailable = true;
    logger.error({ err: error }, 'store unavailable: not ready until a write succeeds');
  };
  return {
    noteError,
    async check() {
      try {
        if (unavailable) {
          await store.probeWrite();
          unavailable = false;
          logger.info('store takes writes again: ready');
        } else {
          await store.ping();
        }
        return { ready: true };
      } catch (error) {
        noteError(error);
        if (!(error instanceof StoreError)) logger.error({ err: error }, 'the readiness check failed');
        return {
          ready: false,
          reason: answerFor(error)?.code ?? 'store_error',
          // Only the store's own errors are worded for an operator; anything else is in the log.
          message: error instanceof StoreError ? error.message : 'the store check failed unexpectedly; see the daemon log',
        };
      }
    },
  };
}
