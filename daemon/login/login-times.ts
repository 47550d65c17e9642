import type { Logger } from 'pino';
import type { LoginTimes, Store } from '../../store/types.js';

/**
 * Group commit for the times of logins that change nothing else. Such a login writes nothing on
 * its own: its `lastLoginAt`/`lastReconciledAt` wait here (the latest per user and connector) and
 * are written in batches every `intervalMs` and at a clean stop. A crash loses at most one
 * interval of times, never anything else; a batch the store refuses (busy, unavailable) is kept
 * and tried again at the next tick, so no login ever waits for it.
 */
export interface LoginTimesBuffer {
  note(times: LoginTimes): void;
  /** Writes what waits now; the batch stays queued if the store refuses it. */
  flush(): Promise<void>;
  /** Stops the timer and writes what waits. */
  close(): Promise<void>;
}

/** At most this many times per write transaction: each one is a short pause of the login thread. */
const CHUNK = 250;

export function createLoginTimesBuffer(store: Store, logger: Logger, intervalMs = 250): LoginTimesBuffer {
  let waiting = new Map<string, LoginTimes>();
  let flushing: Promise<void> | null = null;
  let failing = false;

  const keep = (times: LoginTimes) => {
    const key = `${times.userId}\u0000${times.connector}`;
    const known = waiting.get(key);
    if (!known || known.at < times.at) waiting.set(key, times);
  };

  async function write(): Promise<void> {
    if (waiting.size === 0) return;
    const batch = [...waiting.values()];
    waiting = new Map();
    try {
      for (let i = 0; i < batch.length; i += CHUNK) await store.recordLoginTimes(batch.slice(i, i + CHUNK));
      if (failing) logger.info({ written: batch.length }, 'login times written again');
      failing = false;
    } catch (error) {
      for (const times of batch) keep(times);
      if (!failing) logger.warn({ err: error, waiting: waiting.size }, 'login times not written; retrying');
      failing = true;
    }
  }

  const flush = (): Promise<void> => {
    // One write at a time: a tick during a slow write waits for it, then writes what came since.
    flushing = (flushing ?? Promise.resolve()).then(write);
    return flushing;
  };

  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    note: keep,
    flush,
    async close() {
      clearInterval(timer);
      await flush();
      if (waiting.size > 0) logger.error({ lost: waiting.size }, 'login times not written at stop');
    },
  };
}
