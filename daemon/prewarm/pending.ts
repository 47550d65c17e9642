import type { Account, Invitation, Organization, SyncState } from '../../store/types.js';
import { planMemberships } from '../reconcile/plan.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';

/**
 * What the next login of this user will change, from the freshly cached IdP groups: the same
 * planning function the login runs, so the sync state (and the drift report built from it)
 * cannot disagree with the login. Pure.
 */
export function pendingSyncState(input: {
  state: SyncState;
  account: Account;
  /** The user's IdP groups per the cache; `null` when the IdP no longer has the user. */
  idpGroups: readonly string[] | null;
  organizations: readonly Organization[];
  invitations: readonly Invitation[];
  settings: ProvisioningSettings;
  now: string;
}): SyncState {
  const { state, account, idpGroups, now } = input;
  // JIT never deprovisions: a user gone from the IdP is reported, and nothing is pending.
  if (idpGroups === null) return { ...state, pendingAdd: [], pendingRemove: [], status: 'absent' };
  const plan = planMemberships({
    current: account.memberships,
    idpGroups,
    organizations: input.organizations,
    invitations: input.invitations,
    settings: input.settings,
  });
  return {
    ...state,
    pendingAdd: plan.added,
    pendingRemove: plan.removed,
    status: 'fresh',
    lastError: null,
    lastSeenByPrewarmAt: now,
  };
}
