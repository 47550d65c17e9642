import { describe, expect, it } from 'vitest';
import type { Account, CachedGroup, CachedUser, Invitation, Membership, Organization, SyncState } from '../../store/types.js';
import { DEFAULT_SETTINGS, type ProvisioningSettings } from '../reconcile/settings.js';
import { computeDrift } from './assemble.js';
import type { ConnectorDriftData, DriftInput } from './model.js';
import type { DriftItem, DriftKind } from './types.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const RUN = '2025-06-01T11:55:00.000Z';

const ORGS: Organization[] = [
  { key: 'OrgA', defaultGroup: 'Members', groups: ['admins', 'developers', 'Team'] },
  { key: 'OrgB', defaultGroup: 'Members', groups: ['developers'] },
];

function cached(subject: string, groups: string[], extra: Partial<CachedUser> = {}): CachedUser {
  return {
    connector: 'idp',
    subject,
    email: `${subject}@example.com`,
    name: null,
    groups,
    nestedGroups: [],
    fetchedAt: RUN,
    origin: 'prewarm',
    absentSince: null,
    ...extra,
  };
}

function account(id: string, memberships: Membership[] = [], extra: { disabled?: boolean; subject?: string } = {}): Account {
  return {
    user: {
      id,
      username: id,
      email: `${id}@example.com`,
      name: null,
      disabled: extra.disabled ?? false,
      identities: [{ connector: 'idp', subject: extra.subject ?? id }],
      createdAt: RUN,
      updatedAt: RUN,
    },
    memberships,
    version: 1,
  };
}

const group = (name: string): CachedGroup => ({ connector: 'idp', id: name, name, fetchedAt: RUN });
const sync = (organization: string, g: string): Membership => ({ organization, group: g, source: 'sync' });
const def = (organization: string): Membership => ({ organization, group: 'Members', source: 'default' });

function input(
  parts: {
    users?: CachedUser[];
    groups?: CachedGroup[];
    accounts?: Account[];
    settings?: Partial<ProvisioningSettings>;
    syncStates?: SyncState[];
    invitations?: Invitation[];
    lastCompleteRunAt?: string | null;
  } = {},
): DriftInput {
  const connector: ConnectorDriftData = {
    connector: 'idp',
    settings: { ...DEFAULT_SETTINGS, ...parts.settings },
    cachedUsers: parts.users ?? [],
    cachedGroups: parts.groups ?? [],
    state:
      parts.lastCompleteRunAt === null
        ? null
        : { connector: 'idp', cursor: null, lastCompleteRunAt: parts.lastCompleteRunAt ?? RUN, lastRunId: 'r1' },
  };
  const invitationsByEmail = new Map<string, Invitation[]>();
  for (const inv of parts.invitations ?? []) invitationsByEmail.set(inv.email, [...(invitationsByEmail.get(inv.email) ?? []), inv]);
  return {
    connectors: [connector],
    accounts: parts.accounts ?? [],
    syncStates: parts.syncStates ?? [],
    organizations: ORGS,
    invitationsByEmail,
    now: NOW,
  };
}

/** Items of one kind, reduced to what the tests compare. */
function of(kind: DriftKind, items: DriftItem[]) {
  return items
    .filter((i) => i.kind === kind)
    .map((i) => ({ user: i.user?.subject ?? null, organization: i.organization, group: i.group, idpGroup: i.idpGroup, source: i.source }));
}

/** Every group in the cache matches, every app group is fed: no group-level noise. */
const ALL_GROUPS = ['admins', 'developers', 'Team'].map(group);

describe('computeDrift', () => {
  it('reports nothing when the cache and the provisioned state agree', () => {
    const report = computeDrift(
      input({
        users: [cached('ada', ['admins', 'developers', 'Team'])],
        groups: ALL_GROUPS,
        accounts: [account('ada', [sync('OrgA', 'admins'), sync('OrgA', 'developers'), sync('OrgA', 'Team'), def('OrgA'), sync('OrgB', 'developers'), def('OrgB')])],
      }),
    );
    expect(report.items).toEqual([]);
    expect(Object.values(report.summary).every((n) => n === 0)).toBe(true);
    expect(report).toMatchObject({ generatedAt: NOW.toISOString(), dataAsOf: RUN });
  });

  it('pending_add / pending_remove: what planMemberships says the next login changes, manual memberships included', () => {
    const report = computeDrift(
      input({
        users: [cached('ada', ['admins', 'developers', 'Team'])],
        groups: ALL_GROUPS,
        accounts: [account('ada', [sync('OrgA', 'admins'), def('OrgA'), { organization: 'OrgB', group: 'developers', source: 'manual' }, def('OrgB')])],
      }),
    );
    // Code-point order, as planMemberships sorts: upper case first.
    expect(of('pending_add', report.items)).toEqual([
      { user: 'ada', organization: 'OrgA', group: 'Team', idpGroup: null, source: 'sync' },
      { user: 'ada', organization: 'OrgA', group: 'developers', idpGroup: null, source: 'sync' },
    ]);
    expect(of('pending_remove', report.items)).toEqual([]);

    const reset = computeDrift(
      input({
        users: [cached('bob', ['admins'])],
        groups: ALL_GROUPS,
        accounts: [account('bob', [sync('OrgA', 'admins'), def('OrgA'), { organization: 'OrgB', group: 'developers', source: 'manual' }, def('OrgB')])],
      }),
    );
    expect(of('pending_remove', reset.items)).toEqual([
      { user: 'bob', organization: 'OrgB', group: 'Members', idpGroup: null, source: 'default' },
      { user: 'bob', organization: 'OrgB', group: 'developers', idpGroup: null, source: 'manual' },
    ]);
    expect(reset.items.find((i) => i.source === 'manual')?.detail).toMatch(/manual.*reset drops it/);

    // Under `managed`, the same manual membership stays: nothing pending.
    const managed = computeDrift(
      input({
        users: [cached('bob', ['admins'])],
        groups: ALL_GROUPS,
        accounts: [account('bob', [sync('OrgA', 'admins'), def('OrgA'), { organization: 'OrgB', group: 'developers', source: 'manual' }, def('OrgB')])],
        settings: { membership: 'managed' },
      }),
    );
    expect(of('pending_remove', managed.items)).toEqual([]);
  });

  it('pending_add includes pending invitations for the email', () => {
    const invitation: Invitation = {
      id: 'inv-1',
      organization: 'OrgB',
      email: 'ada@example.com',
      group: 'developers',
      state: 'pending',
      createdAt: RUN,
      acceptedAt: null,
      acceptedBy: null,
    };
    const report = computeDrift(
      input({
        users: [cached('ada', ['admins'])],
        groups: ALL_GROUPS,
        accounts: [account('ada', [sync('OrgA', 'admins'), def('OrgA')])],
        invitations: [invitation],
      }),
    );
    expect(of('pending_add', report.items)).toEqual([
      { user: 'ada', organization: 'OrgB', group: 'Members', idpGroup: null, source: 'default' },
      { user: 'ada', organization: 'OrgB', group: 'developers', idpGroup: null, source: 'invitation' },
    ]);
  });

  it('absent_from_idp: provisioned users whose cache entry is marked absent, and nothing else for them', () => {
    const report = computeDrift(
      input({
        users: [cached('gone', [], { absentSince: RUN }), cached('stranger', [], { absentSince: RUN })],
        groups: ALL_GROUPS,
        accounts: [account('gone', [sync('OrgA', 'admins'), def('OrgA')])],
      }),
    );
    expect(report.items.map((i) => [i.kind, i.user?.subject])).toEqual([['absent_from_idp', 'gone']]);
    expect(report.items[0]?.user).toEqual({ id: 'gone', email: 'gone@example.com', subject: 'gone' });
  });

  it('no_organization: provisioned users and IdP users not yet provisioned who would land nowhere', () => {
    const report = computeDrift(
      input({
        users: [cached('lost', ['Everyone']), cached('newbie', ['Everyone']), cached('fine', ['admins'])],
        groups: [...ALL_GROUPS, group('Everyone')],
        accounts: [account('lost', [sync('OrgA', 'admins'), def('OrgA')])],
      }),
    );
    expect(of('no_organization', report.items).map((i) => i.user)).toEqual(['lost', 'newbie']);
    const newbie = report.items.find((i) => i.kind === 'no_organization' && i.user?.subject === 'newbie');
    expect(newbie?.user).toEqual({ id: null, email: 'newbie@example.com', subject: 'newbie' });

    // A default organization catches them: no item.
    const fallback = computeDrift(
      input({
        users: [cached('newbie', ['Everyone'])],
        groups: [...ALL_GROUPS, group('Everyone')],
        settings: { defaultOrganization: { organization: 'OrgB', group: null } },
      }),
    );
    expect(of('no_organization', fallback.items)).toEqual([]);
  });

  it('blocked: allowed groups keep everyone out, blocked sign-up only users without an account', () => {
    const allowed = computeDrift(
      input({
        users: [cached('in', ['top/admins', 'admins']), cached('out', ['admins']), cached('member', ['admins'])],
        groups: ALL_GROUPS,
        accounts: [account('member', [sync('OrgA', 'admins'), def('OrgA')])],
        settings: { allowedGroups: ['top'] },
      }),
    );
    expect(of('blocked', allowed.items).map((i) => i.user)).toEqual(['member', 'out']);
    expect(allowed.items.find((i) => i.kind === 'blocked')?.detail).toContain('allowed groups (top)');
    // A blocked user's login is refused: no pending change is reported for it.
    expect(allowed.items.filter((i) => i.user?.subject === 'member').map((i) => i.kind)).toEqual(['blocked']);

    const signUp = computeDrift(
      input({
        users: [cached('known', ['admins']), cached('unknown', ['admins'])],
        groups: ALL_GROUPS,
        accounts: [account('known', [sync('OrgA', 'admins'), def('OrgA')])],
        settings: { signUp: 'blocked' },
      }),
    );
    expect(of('blocked', signUp.items).map((i) => i.user)).toEqual(['unknown']);
    expect(signUp.items.find((i) => i.kind === 'blocked')?.detail).toContain('sign-up is blocked');
  });

  it('blocked: an email another account holds, with linkByEmail off, is the login’s 409 email_conflict', () => {
    const holder = account('ada', [sync('OrgA', 'admins'), def('OrgA')], { subject: 'other-subject' });
    const users = [cached('00u-ada', ['admins', 'developers'], { email: 'ada@example.com' })];
    const off = computeDrift(input({ users, groups: ALL_GROUPS, accounts: [holder], settings: { linkByEmail: false } }));
    expect(off.items.filter((i) => i.user?.subject === '00u-ada').map((i) => [i.kind, i.user?.id, i.detail])).toEqual([
      ['blocked', null, 'another account holds the email, and linkByEmail is off: login refused (409 email_conflict)'],
    ]);
    // With linkByEmail on, the same entry is the holder's next login.
    const on = computeDrift(input({ users, groups: ALL_GROUPS, accounts: [holder], settings: { linkByEmail: true } }));
    expect(of('pending_add', on.items).map((i) => `${i.user} ${i.organization}/${i.group} ${i.source}`)).toEqual([
      '00u-ada OrgA/developers sync',
      '00u-ada OrgB/Members default',
      '00u-ada OrgB/developers sync',
    ]);
  });

  it('blocked before disabled, in the login’s order: a disabled account outside the allowed groups is blocked', () => {
    const report = computeDrift(
      input({
        users: [cached('off-out', ['admins']), cached('off-in', ['top/admins', 'admins'])],
        groups: ALL_GROUPS,
        accounts: [account('off-out', [], { disabled: true }), account('off-in', [], { disabled: true })],
        settings: { allowedGroups: ['top'] },
      }),
    );
    expect(report.items.filter((i) => i.user).map((i) => [i.kind, i.user?.subject])).toEqual([['blocked', 'off-out']]);
  });

  it('unmatched_idp_group: names the near miss (case, GitLab path, small edit)', () => {
    const report = computeDrift(
      input({
        groups: [...ALL_GROUPS, group('team'), group('acme/developers'), group('devlopers'), group('Everyone')],
      }),
    );
    const unmatched = report.items.filter((i) => i.kind === 'unmatched_idp_group');
    expect(unmatched.map((i) => [i.idpGroup, i.organization, i.group])).toEqual([
      ['Everyone', null, null],
      ['acme/developers', 'OrgA', 'developers'],
      ['devlopers', 'OrgA', 'developers'],
      ['team', 'OrgA', 'Team'],
    ]);
    const detail = (name: string) => unmatched.find((i) => i.idpGroup === name)?.detail;
    expect(detail('team')).toContain('"Team" differs only in case');
    expect(detail('acme/developers')).toContain('"developers" differs in path');
    expect(detail('devlopers')).toContain('near miss "developers" (1 edit)');
    expect(detail('Everyone')).toBe('matches no app group');
  });

  it('unmatched_idp_group: a GitLab full-path app group against a plain IdP name', () => {
    const orgs: Organization[] = [{ key: 'Sonar', defaultGroup: 'sonar-users', groups: ['my-group/sub-group'] }];
    const report = computeDrift({ ...input({ groups: [group('sub-group')] }), organizations: orgs });
    const item = report.items.find((i) => i.kind === 'unmatched_idp_group');
    expect(item).toMatchObject({ idpGroup: 'sub-group', organization: 'Sonar', group: 'my-group/sub-group' });
    expect(item?.detail).toContain('differs in path');
  });

  it('orphan_app_group: app groups (not the default) that no IdP group feeds, in the connector matching mode', () => {
    const exact = computeDrift(input({ groups: [group('admins'), group('team')] }));
    expect(of('orphan_app_group', exact.items).map((i) => `${i.organization}/${i.group}`)).toEqual([
      'OrgA/Team',
      'OrgA/developers',
      'OrgB/developers',
    ]);
    expect(exact.items.find((i) => i.kind === 'orphan_app_group' && i.group === 'Team')).toMatchObject({
      idpGroup: 'team',
      detail: expect.stringContaining('IdP has "team" (differs in case)'),
    });

    // Mapping mode: a rule or an `organization:team` name feeds a group.
    const mapping = computeDrift(
      input({
        groups: [group('okta-admins'), group('OrgB:developers')],
        settings: { matching: 'mapping', mappings: [{ idpGroup: 'okta-admins', organization: 'OrgA', group: 'admins' }] },
      }),
    );
    expect(of('orphan_app_group', mapping.items).map((i) => `${i.organization}/${i.group}`)).toEqual(['OrgA/Team', 'OrgA/developers']);
    expect(of('unmatched_idp_group', mapping.items)).toEqual([]);
  });

  it('skips group-level drift for a connector that was never pre-warmed', () => {
    const report = computeDrift(input({ lastCompleteRunAt: null }));
    expect(report.items).toEqual([]);
    expect(report.dataAsOf).toBeNull();
  });

  it('stale: confirmed cache age at or over staleAfter, a failed or stale sync, or no cache entry at all', () => {
    const old = '2025-06-01T10:00:00.000Z';
    const state = (userId: string, status: SyncState['status'], lastError: string | null): SyncState => ({
      userId,
      connector: 'idp',
      subject: userId,
      appliedGroups: [],
      lastLoginAt: null,
      lastReconciledAt: null,
      lastSeenByPrewarmAt: null,
      status,
      lastError,
    });
    const members = [sync('OrgA', 'admins'), def('OrgA')];
    const report = computeDrift(
      input({
        users: [cached('old', ['admins'], { fetchedAt: old, origin: 'live' }), cached('failed', ['admins']), cached('fresh', ['admins']), cached('idp-only', ['admins'], { fetchedAt: old })],
        groups: ALL_GROUPS,
        accounts: [account('old', members), account('failed', members), account('fresh', members), account('never', members)],
        syncStates: [state('failed', 'error', 'IdP answered 503'), state('fresh', 'fresh', null)],
        // No complete run: nothing confirms the old entries.
        lastCompleteRunAt: null,
      }),
    );
    const stale = report.items.filter((i) => i.kind === 'stale');
    expect(stale.map((i) => [i.user?.subject, i.detail])).toEqual([
      ['failed', 'last sync failed: IdP answered 503'],
      ['never', 'no cache entry: the next login asks the IdP live'],
      ['old', 'cache confirmed 2h ago (staleAfter 15m)'],
    ]);
    expect(report.dataAsOf).toBe(old);

    // A complete run confirms an entry it did not rewrite (the login's rule): not stale.
    const confirmed = computeDrift(
      input({
        users: [cached('old', ['admins'], { fetchedAt: old })],
        groups: ALL_GROUPS,
        accounts: [account('old', members)],
        lastCompleteRunAt: RUN,
      }),
    );
    expect(of('stale', confirmed.items)).toEqual([]);
    expect(confirmed.dataAsOf).toBe(RUN);
  });

  it('nested_or_overage: app-relevant groups held only through nesting, one item per app group fed', () => {
    const report = computeDrift(
      input({
        users: [cached('nora', ['admins', 'developers', 'Everyone'], { nestedGroups: ['developers', 'Everyone'] })],
        groups: [...ALL_GROUPS, group('Everyone')],
        accounts: [account('nora', [sync('OrgA', 'admins'), sync('OrgA', 'developers'), def('OrgA'), sync('OrgB', 'developers'), def('OrgB')])],
      }),
    );
    expect(of('nested_or_overage', report.items)).toEqual([
      { user: 'nora', organization: 'OrgA', group: 'developers', idpGroup: 'developers', source: null },
      { user: 'nora', organization: 'OrgB', group: 'developers', idpGroup: 'developers', source: null },
    ]);
  });

  it('leaves disabled accounts out (the login refuses them) but still reports them absent', () => {
    const report = computeDrift(
      input({
        users: [cached('off', ['Everyone']), cached('off-gone', [], { absentSince: RUN })],
        groups: ALL_GROUPS,
        accounts: [account('off', [sync('OrgA', 'admins')], { disabled: true }), account('off-gone', [], { disabled: true })],
      }),
    );
    expect(report.items.filter((i) => i.user).map((i) => [i.kind, i.user?.subject])).toEqual([['absent_from_idp', 'off-gone']]);
  });

  it('finds the account by email when the identity is not linked yet (linkByEmail), as the login does', () => {
    const linked = account('ada', [], { subject: 'other-subject' });
    const report = computeDrift(input({ users: [cached('00u-ada', ['admins'], { email: 'ADA@example.com' })], groups: ALL_GROUPS, accounts: [linked] }));
    expect(of('pending_add', report.items).map((i) => `${i.organization}/${i.group}`)).toEqual(['OrgA/Members', 'OrgA/admins']);
    expect(report.items[0]?.user).toEqual({ id: 'ada', email: 'ada@example.com', subject: '00u-ada' });
  });

  it('counts every kind in the summary and orders items by kind, then user', () => {
    const report = computeDrift(
      input({
        users: [cached('b', ['Everyone']), cached('a', ['Everyone'])],
        groups: ALL_GROUPS,
      }),
    );
    expect(report.summary).toEqual({
      pending_add: 0,
      pending_remove: 0,
      absent_from_idp: 0,
      no_organization: 2,
      blocked: 0,
      unmatched_idp_group: 1,
      orphan_app_group: 0,
      stale: 0,
      nested_or_overage: 0,
    });
    expect(report.items.map((i) => [i.kind, i.user?.subject ?? i.idpGroup])).toEqual([
      ['no_organization', 'a'],
      ['no_organization', 'b'],
      ['unmatched_idp_group', 'Everyone'],
    ]);
  });
});
