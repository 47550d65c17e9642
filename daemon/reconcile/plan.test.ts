import { describe, expect, it } from 'vitest';
import type { Invitation, Membership, Organization } from '../../store/types.js';
import { planMemberships, type PlanInput, type PlanSettings } from './plan.js';

const orgA: Organization = { key: 'OrgA', defaultGroup: 'Members', groups: ['ENT_ORGA_ADMINS', 'developers', 'Team'] };
const orgB: Organization = { key: 'OrgB', defaultGroup: 'Members', groups: ['developers', 'sonar-users'] };
const gitlabOrg: Organization = {
  key: 'Sonar',
  defaultGroup: 'sonar-users',
  groups: ['my-gitlab-group', 'my-gitlab-group/sub-group'],
};
const organizations = [orgA, orgB, gitlabOrg];

const exact: PlanSettings = {
  matching: 'exact',
  mappings: [],
  membership: 'reset',
  protectedGroups: [],
  defaultOrganization: null,
};

function plan(overrides: Partial<Omit<PlanInput, 'settings'>> & { settings?: Partial<PlanSettings> } = {}) {
  return planMemberships({
    current: [],
    idpGroups: [],
    organizations,
    invitations: [],
    ...overrides,
    settings: { ...exact, ...overrides.settings },
  });
}

const m = (organization: string, group: string, source: Membership['source']): Membership => ({
  organization,
  group,
  source,
});

describe('exact matching (SonarQube)', () => {
  it('adds a same-name group and the derived default group of its organization', () => {
    const result = plan({ idpGroups: ['ENT_ORGA_ADMINS'] });
    expect(result.memberships).toEqual([m('OrgA', 'ENT_ORGA_ADMINS', 'sync'), m('OrgA', 'Members', 'default')]);
    expect(result.added).toEqual(result.memberships);
    expect(result.removed).toEqual([]);
  });

  it('is case-sensitive: team does not match Team', () => {
    expect(plan({ idpGroups: ['team', 'Developers', 'ent_orga_admins'] }).memberships).toEqual([]);
    expect(plan({ idpGroups: ['Team'] }).memberships).toEqual([m('OrgA', 'Members', 'default'), m('OrgA', 'Team', 'sync')]);
  });

  it('joins every organization that has a group of that name', () => {
    const result = plan({ idpGroups: ['developers'] });
    expect(result.memberships).toEqual([
      m('OrgA', 'Members', 'default'),
      m('OrgA', 'developers', 'sync'),
      m('OrgB', 'Members', 'default'),
      m('OrgB', 'developers', 'sync'),
    ]);
  });

  it('never takes the excluded default group from the IdP', () => {
    const result = plan({ idpGroups: ['Members', 'sonar-users'] });
    // sonar-users is OrgB's ordinary group but Sonar's default group: only OrgB's counts.
    expect(result.memberships).toEqual([m('OrgB', 'Members', 'default'), m('OrgB', 'sonar-users', 'sync')]);
  });

  it('matches GitLab groups by full path, not by name', () => {
    expect(plan({ idpGroups: ['sub-group'] }).memberships).toEqual([]);
    expect(plan({ idpGroups: ['my-gitlab-group/sub-group'] }).memberships).toEqual([
      m('Sonar', 'my-gitlab-group/sub-group', 'sync'),
      m('Sonar', 'sonar-users', 'default'),
    ]);
  });

  it('puts a user who matches no group in no organization', () => {
    const result = plan({ idpGroups: ['unrelated'] });
    expect(result.memberships).toEqual([]);
  });
});

describe('mapping matching', () => {
  const mapping: Partial<PlanSettings> = {
    matching: 'mapping',
    mappings: [{ idpGroup: 'okta-admins', organization: 'OrgA', group: 'ENT_ORGA_ADMINS' }],
  };

  it('follows explicit rules and ignores same-name groups', () => {
    const result = plan({ idpGroups: ['okta-admins', 'developers'], settings: mapping });
    expect(result.memberships).toEqual([m('OrgA', 'ENT_ORGA_ADMINS', 'sync'), m('OrgA', 'Members', 'default')]);
  });

  it('reads Docker-style organization:team names', () => {
    const result = plan({ idpGroups: ['OrgB:sonar-users', 'OrgB:nope', 'Nowhere:developers'], settings: mapping });
    expect(result.memberships).toEqual([m('OrgB', 'Members', 'default'), m('OrgB', 'sonar-users', 'sync')]);
  });

  it('never maps onto a default group', () => {
    const result = plan({ idpGroups: ['OrgA:Members'], settings: mapping });
    expect(result.memberships).toEqual([]);
  });
});

describe('membership modes', () => {
  const current = [
    m('OrgA', 'ENT_ORGA_ADMINS', 'sync'),
    m('OrgA', 'Members', 'default'),
    m('OrgA', 'developers', 'manual'),
  ];

  it('reset removes a manual membership the IdP does not back', () => {
    const result = plan({ current, idpGroups: ['ENT_ORGA_ADMINS'], settings: { membership: 'reset' } });
    expect(result.removed).toEqual([m('OrgA', 'developers', 'manual')]);
    expect(result.added).toEqual([]);
  });

  it('managed keeps manual memberships but removes unbacked sync ones', () => {
    const result = plan({ current, idpGroups: [], settings: { membership: 'managed' } });
    expect(result.removed).toEqual([m('OrgA', 'ENT_ORGA_ADMINS', 'sync')]);
    expect(result.memberships).toEqual([m('OrgA', 'Members', 'default'), m('OrgA', 'developers', 'manual')]);
  });

  it('additive removes nothing', () => {
    const result = plan({ current, idpGroups: ['sonar-users'], settings: { membership: 'additive' } });
    expect(result.removed).toEqual([]);
    expect(result.added).toEqual([m('OrgB', 'Members', 'default'), m('OrgB', 'sonar-users', 'sync')]);
  });

  it('keeps a backed manual membership as it is, without removing and re-adding it', () => {
    const result = plan({ current, idpGroups: ['ENT_ORGA_ADMINS', 'developers'] });
    expect(result.added).toEqual([m('OrgB', 'Members', 'default'), m('OrgB', 'developers', 'sync')]);
    expect(result.removed).toEqual([]);
    expect(result.memberships).toContainEqual(m('OrgA', 'developers', 'manual'));
  });

  it('never removes invitation, fallback or protected-group memberships', () => {
    const held = [
      m('OrgA', 'developers', 'invitation'),
      m('OrgB', 'sonar-users', 'sync'),
      m('Sonar', 'my-gitlab-group', 'fallback'),
      m('OrgA', 'ENT_ORGA_ADMINS', 'manual'),
    ];
    const result = plan({
      current: held,
      idpGroups: [],
      settings: { protectedGroups: [{ organization: 'OrgB', group: 'sonar-users' }] },
    });
    expect(result.removed).toEqual([m('OrgA', 'ENT_ORGA_ADMINS', 'manual')]);
    expect(result.memberships.filter((x) => x.source !== 'default')).toEqual([
      m('OrgA', 'developers', 'invitation'),
      m('OrgB', 'sonar-users', 'sync'),
      m('Sonar', 'my-gitlab-group', 'fallback'),
    ]);
  });

  it('drops the default membership with the last other membership of an organization', () => {
    const result = plan({ current: [m('OrgB', 'developers', 'sync'), m('OrgB', 'Members', 'default')] });
    expect(result.removed).toEqual([m('OrgB', 'Members', 'default'), m('OrgB', 'developers', 'sync')]);
    expect(result.memberships).toEqual([]);
  });
});

describe('invitations and the default organization', () => {
  const invitation = (id: string, organization: string, group: string | null): Invitation => ({
    id,
    organization,
    group,
    email: 'ada@example.com',
    state: 'pending',
    createdAt: '2026-01-01T00:00:00.000Z',
    acceptedAt: null,
    acceptedBy: null,
  });

  it("adds an invitation's group as an invitation membership and accepts it", () => {
    const result = plan({ invitations: [invitation('i1', 'OrgB', 'sonar-users')] });
    expect(result.memberships).toEqual([m('OrgB', 'Members', 'default'), m('OrgB', 'sonar-users', 'invitation')]);
    expect(result.invitationsAccepted).toEqual(['i1']);
  });

  it('an invitation without a group joins the default group of the organization', () => {
    const result = plan({ invitations: [invitation('i2', 'OrgA', null)] });
    expect(result.memberships).toEqual([m('OrgA', 'Members', 'invitation')]);
  });

  it('skips an invitation to a group that does not exist, leaving it pending', () => {
    const result = plan({ invitations: [invitation('i3', 'OrgA', 'ghosts')] });
    expect(result.memberships).toEqual([]);
    expect(result.invitationsAccepted).toEqual([]);
  });

  const fallback: Partial<PlanSettings> = { defaultOrganization: { organization: 'OrgB', group: 'developers' } };

  it('puts a user with no other membership in the default organization and team', () => {
    expect(plan({ idpGroups: ['unrelated'], settings: fallback }).memberships).toEqual([
      m('OrgB', 'Members', 'default'),
      m('OrgB', 'developers', 'fallback'),
    ]);
  });

  it('does not apply the default organization when the IdP supplies a group', () => {
    expect(plan({ idpGroups: ['ENT_ORGA_ADMINS'], settings: fallback }).memberships).toEqual([
      m('OrgA', 'ENT_ORGA_ADMINS', 'sync'),
      m('OrgA', 'Members', 'default'),
    ]);
  });

  it("uses the organization's default group when the fallback names none", () => {
    expect(plan({ settings: { defaultOrganization: { organization: 'OrgA', group: null } } }).memberships).toEqual([
      m('OrgA', 'Members', 'fallback'),
    ]);
  });

  it('places nobody through a fallback whose organization or group does not exist (yet)', () => {
    for (const defaultOrganization of [
      { organization: 'OrgA', group: 'ghosts' },
      { organization: 'Nowhere', group: null },
    ]) {
      expect(plan({ idpGroups: ['unrelated'], settings: { defaultOrganization } }).memberships).toEqual([]);
    }
  });
});

describe('idempotence', () => {
  it('a second plan over the first plan’s result changes nothing', () => {
    const input = { idpGroups: ['developers', 'my-gitlab-group'], settings: { membership: 'reset' as const } };
    const first = plan(input);
    const second = plan({ ...input, current: first.memberships });
    expect(second.added).toEqual([]);
    expect(second.removed).toEqual([]);
    expect(second.memberships).toEqual(first.memberships);
  });
});
