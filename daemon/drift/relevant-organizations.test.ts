import { describe, expect, it } from 'vitest';
import type { Invitation, Membership, MembershipSource, Organization } from '../../store/types.js';
import { planMemberships, type PlanSettings } from '../reconcile/plan.js';
import { createOrganizationIndex } from './relevant-organizations.js';

/** A small deterministic generator (mulberry32), so a failure is reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GROUPS = ['admins', 'developers', 'Team', 'ops', 'OrgB:developers', 'OrgC:qa', 'Orphan:x', 'Members'];
const SOURCES: MembershipSource[] = ['sync', 'manual', 'invitation', 'fallback', 'default'];

describe('relevant organizations', () => {
  it('gives planMemberships the same plan as the full organization list, across random users and settings', () => {
    const random = rng(42);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const some = <T>(list: readonly T[], p: number): T[] => list.filter(() => random() < p);
    const organizations: Organization[] = [
      { key: 'OrgA', defaultGroup: 'Members', groups: ['admins', 'developers', 'Team'] },
      { key: 'OrgB', defaultGroup: 'Members', groups: ['developers', 'ops'] },
      { key: 'OrgC', defaultGroup: 'qa-all', groups: ['qa', 'admins'] },
      { key: 'OrgD', defaultGroup: 'Members', groups: [] },
    ];
    const keys = [...organizations.map((o) => o.key), 'Gone'];
    for (let round = 0; round < 2_000; round++) {
      const settings: PlanSettings = {
        matching: pick(['exact', 'mapping'] as const),
        mappings: some(
          [
            { idpGroup: 'admins', organization: 'OrgC', group: 'admins' },
            { idpGroup: 'ops', organization: 'OrgB', group: 'ops' },
            { idpGroup: 'Team', organization: 'Gone', group: 'Team' },
          ],
          0.6,
        ),
        membership: pick(['reset', 'managed', 'additive'] as const),
        protectedGroups: some([{ organization: 'OrgA', group: 'admins' }], 0.3),
        defaultOrganization: random() < 0.3 ? { organization: pick(keys), group: random() < 0.5 ? null : 'ops' } : null,
      };
      const current: Membership[] = some(organizations, 0.4).flatMap((org) =>
        some([org.defaultGroup, ...org.groups, 'stray'], 0.5).map((group) => ({ organization: org.key, group, source: pick(SOURCES) })),
      );
      const unique = [...new Map(current.map((m) => [`${m.organization}/${m.group}`, m])).values()];
      const invitations: Invitation[] = some(keys, 0.2).map((organization, i) => ({
        id: `inv-${round}-${i}`,
        organization,
        email: 'u@example.com',
        group: random() < 0.5 ? null : pick(['developers', 'qa', 'nope']),
        state: 'pending',
        createdAt: '2025-01-01T00:00:00.000Z',
        acceptedAt: null,
        acceptedBy: null,
      }));
      const idpGroups = some(GROUPS, 0.35);
      const index = createOrganizationIndex(organizations, settings);
      const full = planMemberships({ current: unique, idpGroups, organizations, invitations, settings });
      const reduced = planMemberships({
        current: unique,
        idpGroups,
        organizations: index.forUser({ idpGroups, current: unique, invitations }),
        invitations,
        settings,
      });
      expect(reduced, `round ${round}`).toEqual(full);
    }
  });
});
