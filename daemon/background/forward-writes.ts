import type { Store, StoreMethods } from '../../store/types.js';
import { WRITE_METHODS } from '../../store/write-events.js';

/**
 * Every store method that writes, but `updateAccount`, whose updater function cannot cross
 * threads (the background services never update accounts). The background thread reads through
 * its own connection but hands each of these to the login thread, so that every write of the
 * process goes through one connection, whose change feed tells the drift model of each in commit
 * order, and whose change token means "another process wrote", exactly.
 */
export const STORE_WRITES = WRITE_METHODS.filter((method) => method !== 'updateAccount');

export type StoreWrite = keyof StoreMethods;

export function isStoreWrite(method: string): method is StoreWrite {
  return (STORE_WRITES as readonly string[]).includes(method);
}

/** `reads`, with every write sent to `forward`; a write taking a function fails, saying so. */
export function forwardWrites(reads: Store, forward: (method: StoreWrite, args: unknown[]) => Promise<unknown>): Store {
  const store: Record<string, unknown> = { ...reads };
  for (const method of STORE_WRITES) store[method] = (...args: unknown[]) => forward(method, args);
  store.updateAccount = () => Promise.reject(new Error('updateAccount is not available on the background thread'));
  return store as unknown as Store;
}

/** A write another thread asked for, made on `store` (the login thread's); refused if it is not a store write. */
export function answerForwardedWrite(store: Store, method: string, args: unknown[]): Promise<unknown> {
  if (!isStoreWrite(method)) return Promise.reject(new Error(`not a store write: ${method}`));
  return (store[method] as (...args: unknown[]) => Promise<unknown>)(...args);
}
