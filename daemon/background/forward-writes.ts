import type { Store } from '../../store/types.js';

/**
 * Every store method that writes. The background thread reads through its own connection but
 * hands each of these to the login thread, so that every write of the process goes through one
 * connection and one observed store: the drift model is told of each in commit order, and the
 * store's change token on that connection means "another process wrote", exactly.
 */
export const STORE_WRITES = [
  'probeWrite',
  'createAccount',
  'createOrganization',
  'ensureOrganization',
  'addGroup',
  'createInvitation',
  'acceptInvitations',
  'putCachedUser',
  'putCachedUsers',
  'putCachedGroups',
  'replaceCachedGroups',
  'deleteCachedGroups',
  'putSyncState',
  'putSyncStates',
  'recordLoginTimes',
  'acquireLease',
  'releaseLease',
  'putPrewarmRun',
  'putConnectorState',
  'appendAudit',
] as const satisfies ReadonlyArray<keyof Store>;

export type StoreWrite = (typeof STORE_WRITES)[number];

export function isStoreWrite(method: string): method is StoreWrite {
  return (STORE_WRITES as readonly string[]).includes(method);
}

/**
 * `reads`, with every write sent to `forward`. `updateAccount` takes an updater function, which
 * cannot cross threads: the background services never update accounts, and a call says so.
 */
export function forwardWrites(reads: Store, forward: (method: StoreWrite, args: unknown[]) => Promise<unknown>): Store {
  const store: Record<string, unknown> = { ...reads };
  for (const method of STORE_WRITES) store[method] = (...args: unknown[]) => forward(method, args);
  store.updateAccount = () => Promise.reject(new Error('updateAccount is not available on the background thread'));
  return store as unknown as Store;
}
