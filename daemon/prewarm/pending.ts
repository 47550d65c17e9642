import type { Account, Invitation, Organization, SyncState } from '../../store/types.js';
import { pendingChanges } from '../reconcile/decide-login.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';

/**
 * The sync state after pre-warm saw the user: what the next login will change, by the login's own
 * decision (`decideLogin`) over the freshly cached groups. Pure. The user view derives the same
 * changes again when read; these stored copies are only as current as the last run.
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
  const { state, idpGroups, now } = input;
  // JIT never deprovisions: a user gone from the IdP is reported, and nothing is pending.
  if (idpGroups === null) return { ...state, pendingAdd: [], pendingRemove: [], status: 'absent' };
  const pending = pendingChanges({
    account: input.account,
    identity: { connector: state.connector, subject: state.subject },
    idpGroups,
    organizations: input.organizations,
    invitations: input.invitations,
    settings: input.settings,
  });
  return {
    ...state,
    pendingAdd: pending.added,
    pendingRemove: pending.removed,
    status: 'fresh',
    lastError: null,
    lastSeenByPrewarmAt: now,
  };
}
