import type { Account, AccountChange, Store } from '../../store/types.js';
import type { ScimConnectorSettings } from './cache-sync.js';

/**
 * Deprovisioning by push: a SCIM user deactivated (`active: false`) or deleted disables the
 * jitsync account linked to its subject (never deleted), with its sync memberships when
 * `onDeprovision: remove-memberships`; reactivated, it enables the account again only when SCIM
 * was what disabled it (the latest `user.disabled`/`user.enabled` audit entry is this connector's).
 */

export type DeprovisionReason = 'deactivated' | 'deleted';

/** The pure rule: the change a deprovisioning makes to an account, or null when none. */
export function disableChange(account: Account, onDeprovision: ScimConnectorSettings['onDeprovision']): AccountChange | null {
  const dropSync = onDeprovision === 'remove-memberships' && account.memberships.some((m) => m.source === 'sync');
  if (account.user.disabled && !dropSync) return null;
  return {
    ...(account.user.disabled ? {} : { disabled: true }),
    ...(dropSync ? { memberships: account.memberships.filter((m) => m.source !== 'sync') } : {}),
  };
}

export interface Deprovisioning {
  disable(subject: string, scimId: string, reason: DeprovisionReason, now: string): Promise<void>;
  enable(subject: string, scimId: string, now: string): Promise<void>;
}

export function createDeprovisioning(store: Store, settings: ScimConnectorSettings): Deprovisioning {
  const actor = `scim:${settings.id}`;
  return {
    async disable(subject, scimId, reason, now) {
      const account = await store.findAccountByIdentity({ connector: settings.id, subject });
      if (!account) return;
      const wasDisabled = account.user.disabled;
      const outcome = await store.updateAccount(
        account.user.id,
        (current) => ({ change: disableChange(current, settings.onDeprovision), result: current.memberships }),
        now,
      );
      if (!outcome.changed) return;
      const removed = outcome.result.filter((m) => !outcome.account.memberships.some((k) => k.organization === m.organization && k.group === m.group));
      await store.appendAudit({
        at: now,
        actor,
        action: wasDisabled ? 'account.reconciled' : 'user.disabled',
        userId: account.user.id,
        details: { reason: `SCIM user ${reason}`, scimId, subject, removed },
      });
    },
    async enable(subject, scimId, now) {
      const account = await store.findAccountByIdentity({ connector: settings.id, subject });
      if (!account || !account.user.disabled) return;
      const history = await store.listAudit({ userId: account.user.id, limit: 100 });
      const last = history.find((entry) => entry.action === 'user.disabled' || entry.action === 'user.enabled');
      // An account an admin disabled stays disabled: only SCIM's own disabling is undone.
      if (!last || last.action !== 'user.disabled' || last.actor !== actor) return;
      const outcome = await store.updateAccount(
        account.user.id,
        (current) => ({ change: current.user.disabled ? { disabled: false } : null, result: null }),
        now,
      );
      if (!outcome.changed) return;
      await store.appendAudit({
        at: now,
        actor,
        action: 'user.enabled',
        userId: account.user.id,
        details: { reason: 'SCIM user reactivated', scimId, subject },
      });
    },
  };
}
