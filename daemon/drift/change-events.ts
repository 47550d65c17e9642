import type { WriteListener } from '../../store/observe.js';
import type { Account, CachedUser, SyncState } from '../../store/types.js';

/**
 * A committed write, as the background thread is told of it: what the observed store reports
 * (`WriteListener`), as data that crosses a thread boundary.
 */
export type ChangeEvent =
  | { kind: 'account'; account: Account }
  | { kind: 'sync-state'; state: SyncState }
  | { kind: 'cached-users'; users: readonly CachedUser[] }
  | { kind: 'connector'; connector: string }
  | { kind: 'other' };

/** A listener that hands each write on as an event. */
export function emitChangeEvents(emit: (event: ChangeEvent) => void): WriteListener {
  return {
    accountWritten: (account) => emit({ kind: 'account', account }),
    syncStateWritten: (state) => emit({ kind: 'sync-state', state }),
    cachedUsersWritten: (users) => emit({ kind: 'cached-users', users }),
    connectorWritten: (connector) => emit({ kind: 'connector', connector }),
    otherWrite: () => emit({ kind: 'other' }),
  };
}

/** Tells `listener` of the write `event` describes. */
export function applyChangeEvent(listener: WriteListener, event: ChangeEvent): void {
  switch (event.kind) {
    case 'account':
      return listener.accountWritten(event.account);
    case 'sync-state':
      return listener.syncStateWritten(event.state);
    case 'cached-users':
      return listener.cachedUsersWritten(event.users);
    case 'connector':
      return listener.connectorWritten(event.connector);
    case 'other':
      return listener.otherWrite();
  }
}
