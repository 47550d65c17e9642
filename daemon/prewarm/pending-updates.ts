import { hasUserListing, type Connector } from '../../connectors/types.js';
import type { CachedUser, PendingChanges, Store } from '../../store/types.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { pendingSyncState } from './pending.js';
import { CACHE_BATCH } from './run-types.js';

export interface PendingUpdateDeps {
  store: Store;
  clock: () => Date;
}

/**
 * Recomputes what the next login of each provisioned user will change: after a full run for
 * everyone, after an incremental one for the users it touched.
 */
export async function updatePending(
  deps: PendingUpdateDeps,
  connector: Connector,
  written: readonly CachedUser[],
  fullRun: boolean,
  settings: ProvisioningSettings,
): Promise<void> {
  const { store } = deps;
  const bySubject = new Map(written.map((u) => [u.subject, u]));
  const organizations = await store.listOrganizations();
  const now = deps.clock().toISOString();
  let batch: PendingChanges[] = [];
  for (const state of await store.listSyncStates(connector.id)) {
    const cached = bySubject.get(state.subject);
    if (!cached && !fullRun) continue;
    const account = await store.getAccount(state.userId);
    if (!account) continue;
    // Missing from a full snapshot: gone from the IdP if it lists its users, else in no group.
    const idpGroups = cached ? (cached.absentSince ? null : cached.groups) : hasUserListing(connector) ? null : [];
    const invitations = await store.pendingInvitations(account.user.email);
    const { pendingAdd, pendingRemove } = pendingSyncState({ state, account, idpGroups, organizations, invitations, settings, now });
    // Pre-warm's fields only, and those only if no login wrote the row since it was read here.
    const seenAt = idpGroups === null ? null : now;
    batch.push({ userId: state.userId, connector: state.connector, readLoginAt: state.lastLoginAt, seenAt, pendingAdd, pendingRemove });
    if (batch.length >= CACHE_BATCH) {
      await store.recordPendingChanges(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.recordPendingChanges(batch);
}
