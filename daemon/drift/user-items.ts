import type { Account, CachedUser, Invitation, Membership } from '../../store/types.js';
import { decideLogin } from '../reconcile/decide-login.js';
import { matchGroups } from '../reconcile/match.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import type { OrganizationIndex } from './relevant-organizations.js';
import type { DriftItem, DriftKind, DriftUser } from './types.js';
import { absentDetail, addDetail, blockedDetail, nestedDetail, noOrganizationDetail, removeDetail } from './wording.js';

/** One cache entry's items, or one uncached account's: all but `stale`. */
export interface DriftRecord {
  user: DriftUser;
  /** The account the entry's logins sign in as (linked by identity, or by email under `linkByEmail`). */
  userId: string | null;
  /**
   * The account the login's look-up finds (identity, else email), signing in as it or not (an
   * `email_conflict`): a write to that account decides this record again.
   */
  foundId: string | null;
  items: readonly DriftItem[];
  /** Whether `stale` applies at assembly: a linked cache entry (with its `fetchedAt`) or no entry at all. */
  freshness: { kind: 'cached'; fetchedAt: string } | { kind: 'uncached' } | null;
  /** The group names of a present cache entry (counted in `holders`). */
  held: readonly string[];
}

/** An account the login's look-up finds for a cache entry, and how. */
export interface FoundAccount {
  account: Account;
  via: 'identity' | 'email';
}

/** What the per-user items need of their connector. */
export interface UserItemsContext {
  connector: string;
  settings: ProvisioningSettings;
  orgIndex: OrganizationIndex;
}

export const NO_ITEMS: readonly DriftItem[] = Object.freeze([]);
const NO_NAMES: readonly string[] = Object.freeze([]);
export const UNCACHED = Object.freeze({ kind: 'uncached' as const });

/**
 * One cache entry's items: the login's decision (`decideLogin`) over the cached groups, so a
 * refusal is `blocked` with the login's reason and an allowed login's plan is `pending_add` /
 * `pending_remove`, exactly as the next login would answer.
 */
export function cachedUserRecord(
  cx: UserItemsContext,
  cached: CachedUser,
  found: FoundAccount | null,
  invitationsByEmail: ReadonlyMap<string, readonly Invitation[]>,
): DriftRecord {
  const { connector, settings, orgIndex } = cx;
  const linked = found && (found.via === 'identity' || settings.linkByEmail) ? found.account : null;
  const user: DriftUser = { id: linked?.user.id ?? null, email: linked?.user.email ?? cached.email, subject: cached.subject };
  const items: DriftItem[] = [];
  // Most records have no items: they share one empty array (100,000 records, 100,000 fewer arrays).
  const record: DriftRecord = {
    user,
    userId: linked?.user.id ?? null,
    foundId: found?.account.user.id ?? null,
    items: NO_ITEMS,
    freshness: null,
    held: cached.absentSince ? NO_NAMES : cached.groups,
  };
  const done = (): DriftRecord => (items.length > 0 ? { ...record, items } : record);
  const item = (kind: DriftKind, detail: string, extra?: Pick<DriftItem, 'organization' | 'group' | 'idpGroup' | 'source'>): DriftItem => ({
    kind,
    connector,
    user,
    organization: extra?.organization ?? null,
    group: extra?.group ?? null,
    idpGroup: extra?.idpGroup ?? null,
    source: extra?.source ?? null,
    detail,
  });

  if (cached.absentSince) {
    if (linked) items.push(item('absent_from_idp', absentDetail(cached.absentSince)));
    return done();
  }
  if (linked && !linked.user.disabled) record.freshness = { kind: 'cached', fetchedAt: cached.fetchedAt };

  // The login's email is the IdP's: its invitations are the ones the login accepts.
  const email = (cached.email ?? found?.account.user.email ?? '').toLowerCase();
  const invitations = invitationsByEmail.get(email) ?? [];
  const decision = decideLogin({
    byIdentity: found?.via === 'identity' ? found.account : null,
    byEmail: found?.via === 'email' ? found.account : null,
    idpGroups: cached.groups,
    organizations: orgIndex.forUser({ idpGroups: cached.groups, current: found?.account.memberships ?? [], invitations }),
    invitations,
    settings,
  });
  if (decision.outcome === 'deny') {
    const detail = blockedDetail(decision.reason, settings);
    if (detail !== null) items.push(item('blocked', detail));
    return done();
  }

  const { plan } = decision;
  if (decision.account) {
    for (const m of plan.added) items.push(item('pending_add', addDetail(m), membershipFields(m)));
    for (const m of plan.removed) items.push(item('pending_remove', removeDetail(m), membershipFields(m)));
  }
  if (plan.memberships.length === 0) items.push(item('no_organization', noOrganizationDetail(decision.account !== null)));
  for (const idpGroup of cached.nestedGroups) {
    for (const ref of matchGroups([idpGroup], orgIndex.forUser({ idpGroups: [idpGroup], current: [], invitations: [] }), settings)) {
      items.push(item('nested_or_overage', nestedDetail(idpGroup), { organization: ref.organization, group: ref.group, idpGroup, source: null }));
    }
  }
  return done();
}

/**
 * The record of an account of the connector that no cache entry links to (the next login asks
 * the IdP live), or null when there is none: no identity here, disabled, or linked to an entry.
 */
export function uncachedRecord(connector: string, account: Account, linkedToEntry: boolean): DriftRecord | null {
  const { user } = account;
  const identity = user.identities.find((i) => i.connector === connector);
  if (!identity || user.disabled || linkedToEntry) return null;
  return {
    user: { id: user.id, email: user.email, subject: identity.subject },
    userId: user.id,
    foundId: user.id,
    items: NO_ITEMS,
    freshness: UNCACHED,
    held: NO_NAMES,
  };
}

function membershipFields(m: Membership): Pick<DriftItem, 'organization' | 'group' | 'idpGroup' | 'source'> {
  return { organization: m.organization, group: m.group, idpGroup: null, source: m.source };
}
