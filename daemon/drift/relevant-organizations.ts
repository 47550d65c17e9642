import type { Invitation, Membership, Organization } from '../../store/types.js';
import { parseOrganizationTeam } from '../reconcile/match.js';
import type { PlanSettings } from '../reconcile/plan.js';

/**
 * An index over the organizations that hands `planMemberships` only the organizations one user's
 * plan can touch. The plan reads an organization only when an IdP group matches one of its groups,
 * the user holds or is invited to a membership there, or it is the default organization; every
 * other organization adds nothing, so the plan is the same, and a report over 100,000 users costs
 * each user its own groups rather than every app group. (`relevant-organizations.test.ts` checks
 * the equivalence against the full list.)
 */
export interface OrganizationIndex {
  readonly all: readonly Organization[];
  forUser(input: {
    idpGroups: readonly string[];
    current: readonly Membership[];
    invitations: readonly Invitation[];
  }): Organization[];
}

export function createOrganizationIndex(
  organizations: readonly Organization[],
  settings: Pick<PlanSettings, 'matching' | 'mappings' | 'defaultOrganization'>,
): OrganizationIndex {
  const position = new Map<Organization, number>();
  const byKey = new Map<string, Organization>();
  organizations.forEach((org, i) => {
    position.set(org, i);
    if (!byKey.has(org.key)) byKey.set(org.key, org);
  });
  // IdP group name → organizations it can feed.
  const byIdpName = new Map<string, Organization[]>();
  const link = (name: string, org: Organization | undefined) => {
    if (!org) return;
    const list = byIdpName.get(name);
    if (list) list.push(org);
    else byIdpName.set(name, [org]);
  };
  if (settings.matching === 'exact') {
    for (const org of organizations) for (const group of org.groups) link(group, org);
  } else {
    for (const rule of settings.mappings) link(rule.idpGroup, byKey.get(rule.organization));
  }
  const fallback = settings.defaultOrganization ? byKey.get(settings.defaultOrganization.organization) : undefined;

  return {
    all: organizations,
    forUser({ idpGroups, current, invitations }) {
      const picked = new Set<Organization>();
      const addKey = (key: string) => {
        const org = byKey.get(key);
        if (org) picked.add(org);
      };
      for (const name of idpGroups) {
        for (const org of byIdpName.get(name) ?? []) picked.add(org);
        if (settings.matching === 'mapping') {
          const ref = parseOrganizationTeam(name);
          if (ref) addKey(ref.organization);
        }
      }
      for (const m of current) addKey(m.organization);
      for (const invitation of invitations) addKey(invitation.organization);
      if (fallback) picked.add(fallback);
      return [...picked].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    },
  };
}
