import {
  membershipKey,
  type Invitation,
  type Membership,
  type Organization,
} from '../../store/types.js';
import { matchGroups } from './match.js';
import type { GroupRef, ProvisioningSettings } from './settings.js';

export type PlanSettings = Pick<
  ProvisioningSettings,
  'matching' | 'mappings' | 'membership' | 'protectedGroups' | 'defaultOrganization'
>;

export interface PlanInput {
  /** The memberships the user holds now. */
  current: readonly Membership[];
  /** The user's IdP group names, as resolved for this login (or from the cache, for drift). */
  idpGroups: readonly string[];
  organizations: readonly Organization[];
  /** Pending invitations for the user's email. */
  invitations: readonly Invitation[];
  settings: PlanSettings;
}

export interface MembershipPlan {
  /** The complete set the user holds after the plan, sorted. */
  memberships: Membership[];
  added: Membership[];
  removed: Membership[];
  /** Ids of the invitations the plan honours. */
  invitationsAccepted: string[];
}

/**
 * The membership rules of a login (docs/behaviour.md, steps 5–7), as one pure function. Drift reports run
 * the same function over the directory cache, so a report and the next login cannot disagree.
 *
 * The difference is computed once, by (organization, group): a membership that stays keeps its
 * source and is never removed and re-added.
 */
export function planMemberships(input: PlanInput): MembershipPlan {
  const { current, organizations, settings } = input;
  const matched = matchGroups(input.idpGroups, organizations, settings);
  const backed = new Set(matched.map(membershipKey));
  const isProtected = protectedKeys(settings.protectedGroups);
  // Built only when an invitation, the fallback or a default group needs an organization by key.
  let byKey: Map<string, Organization> | null = null;
  const orgs = () => (byKey ??= new Map(organizations.map((org) => [org.key, org])));

  // Keep or drop what the user holds now; derived `default` memberships are recomputed below.
  const desired = new Map<string, Membership>();
  for (const membership of current) {
    if (membership.source === 'default') continue;
    const key = membershipKey(membership);
    if (backed.has(key) || isProtected.has(key) || survivesUnbacked(membership, settings.membership)) {
      desired.set(key, membership);
    }
  }

  const addIfMissing = (ref: GroupRef, source: Membership['source']) => {
    const key = membershipKey(ref);
    if (!desired.has(key)) desired.set(key, { organization: ref.organization, group: ref.group, source });
  };

  for (const ref of matched) addIfMissing(ref, 'sync');

  const invitationsAccepted: string[] = [];
  for (const invitation of input.invitations) {
    const target = invitationTarget(invitation, orgs());
    if (!target) continue;
    addIfMissing(target, 'invitation');
    invitationsAccepted.push(invitation.id);
  }

  // Docker's default organization: for a user who would otherwise land in no organization.
  // Like an invitation's, a fallback naming an organization or group that does not exist (yet:
  // the config may name one the API creates later) places nobody.
  if (desired.size === 0 && settings.defaultOrganization) {
    const target = existingGroup(orgs(), settings.defaultOrganization.organization, settings.defaultOrganization.group);
    if (target) addIfMissing(target, 'fallback');
  }

  // The derived `default` memberships (see `withDerivedDefaults`): one per organization held.
  const held = new Set<string>();
  for (const membership of desired.values()) held.add(membership.organization);
  for (const key of held) {
    const org = orgs().get(key);
    if (org) addIfMissing({ organization: org.key, group: org.defaultGroup }, 'default');
  }

  const memberships = sortMemberships([...desired.values()]);
  const currentKeys = new Set(current.map(membershipKey));
  return {
    memberships,
    added: memberships.filter((m) => !currentKeys.has(membershipKey(m))),
    removed: sortMemberships(current.filter((m) => !desired.has(membershipKey(m)))),
    invitationsAccepted,
  };
}

/** Whether a membership the IdP does not back survives, by source and membership mode. */
function survivesUnbacked(membership: Membership, mode: PlanSettings['membership']): boolean {
  switch (membership.source) {
    case 'invitation':
    case 'fallback':
      return true;
    case 'sync':
      return mode === 'additive';
    case 'manual':
      return mode !== 'reset';
    case 'default':
      return false;
  }
}

function invitationTarget(invitation: Invitation, orgs: Map<string, Organization>): GroupRef | null {
  return existingGroup(orgs, invitation.organization, invitation.group);
}

/** The group (the default group when `group` is null) if the organization has it, else null. */
function existingGroup(orgs: Map<string, Organization>, organization: string, group: string | null): GroupRef | null {
  const org = orgs.get(organization);
  if (!org) return null;
  const name = group ?? org.defaultGroup;
  if (name !== org.defaultGroup && !org.groups.includes(name)) return null;
  return { organization: org.key, group: name };
}

/**
 * Adds the derived `default` memberships: a user is in an organization's default group exactly
 * while holding any other membership there. Memberships passed in are returned unchanged.
 */
export function withDerivedDefaults(
  memberships: readonly Membership[],
  organizations: readonly Organization[],
): Membership[] {
  const held = new Set(memberships.filter((m) => m.source !== 'default').map((m) => m.organization));
  const result = memberships.filter((m) => m.source !== 'default' || held.has(m.organization));
  const keys = new Set(result.map(membershipKey));
  for (const org of organizations) {
    if (!held.has(org.key)) continue;
    const ref = { organization: org.key, group: org.defaultGroup };
    if (!keys.has(membershipKey(ref))) result.push({ ...ref, source: 'default' });
  }
  return sortMemberships(result);
}

export function sortMemberships(memberships: Membership[]): Membership[] {
  return memberships.sort(
    (a, b) => compare(a.organization, b.organization) || compare(a.group, b.group),
  );
}

export function organizationsOf(memberships: readonly Membership[]): string[] {
  return [...new Set(memberships.map((m) => m.organization))].sort(compare);
}

/** The protected groups' keys, built once per list (settings are values, never mutated). */
const protectedSets = new WeakMap<readonly GroupRef[], ReadonlySet<string>>();

function protectedKeys(refs: readonly GroupRef[]): ReadonlySet<string> {
  let keys = protectedSets.get(refs);
  if (!keys) protectedSets.set(refs, (keys = new Set(refs.map(membershipKey))));
  return keys;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
