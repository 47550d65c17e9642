import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * SCIM writes one at a time, each starting on a fresh turn of the event loop. A write and what it
 * implies (cache entries, accounts) run on the thread that answers logins, and their store calls
 * complete at once: an IdP's burst of concurrent requests would otherwise run back to back while
 * logins wait to be read from their sockets. Taking turns, logins are served between any two.
 */
export type Turns = <T>(work: () => Promise<T>) => Promise<T>;

export function createTurns(): Turns {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = tail.then(() => nextTurn()).then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}
