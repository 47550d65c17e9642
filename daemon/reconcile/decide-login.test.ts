import { describe, expect, it } from 'vitest';
import type { Account, Invitation, Membership, Organization } from '../../store/types.js';
import { decideLogin, pendingChanges, type LoginFacts } from './decide-login.js';
import { DEFAULT_SETTINGS } from './settings.js';

const ORGS: Organization[] = [{ key: 'OrgA', defaultGroup: 'Members', groups: ['admins', 'devs'] }];
const AT = '2025-06-01T12:00:00.000Z';

function account(extra: { disabled?: boolean; subject?: string; memberships?: Membership[] } = {}): Account {
  return {
    user: {
      id: 'u1',
      username: 'ada',
      email: 'ada@example.com',
      name: null,
      disabled: extra.disabled ?? false,
      identities: [{ connector: 'idp', subject: extra.subject ?? 's-ada' }],
      createdAt: AT,
      updatedAt: AT,
    },
    memberships: extra.memberships ?? [],
    version: 1,
  };
}

function facts(parts: Partial<Omit<LoginFacts, 'settings'>> & { settings?: Partial<LoginFacts['settings']> } = {}): LoginFacts {
  return {
    byIdentity: null,
    byEmail: null,
    idpGroups: ['admins'],
    organizations: ORGS,
    invitations: [],
    ...parts,
    settings: { ...DEFAULT_SETTINGS, ...parts.settings },
  };
}

const outcome = (f: LoginFacts) => {
  const d = decideLogin(f);
  return d.outcome === 'deny' ? d.reason : 'allow';
};

describe('decideLogin', () => {
  it('checks in the login’s order: allowed groups, the email conflict, disabled, sign-up', () => {
    const disabled = account({ disabled: true, subject: 'elsewhere' });
    const everything = { byEmail: disabled, settings: { allowedGroups: ['top'], linkByEmail: false, signUp: 'blocked' as const } };
    expect(outcome(facts(everything))).toBe('not_in_allowed_groups');
    expect(outcome(facts({ ...everything, idpGroups: ['top/admins'] }))).toBe('email_conflict');
    expect(outcome(facts({ byIdentity: disabled, settings: { linkByEmail: false, signUp: 'blocked' } }))).toBe('user_disabled');
    expect(outcome(facts({ settings: { signUp: 'blocked' } }))).toBe('signup_blocked');
    expect(outcome(facts({ byIdentity: account(), settings: { signUp: 'blocked' } }))).toBe('allow');
  });

  it('finds the account by identity first; by email it links the identity when linkByEmail is on', () => {
    const byEmail = decideLogin(facts({ byEmail: account({ subject: 'elsewhere' }) }));
    expect(byEmail).toMatchObject({ outcome: 'allow', account: { user: { id: 'u1' } }, linkIdentity: true });
    const byIdentity = decideLogin(facts({ byIdentity: account() }));
    expect(byIdentity).toMatchObject({ outcome: 'allow', linkIdentity: false });
    // A first login: no account, and the plan is the new account's.
    const first = decideLogin(facts());
    expect(first).toMatchObject({ outcome: 'allow', account: null, linkIdentity: false });
    if (first.outcome === 'allow') expect(first.plan.memberships.map((m) => m.group)).toEqual(['Members', 'admins']);
  });

  it('plans the memberships with the membership mode and the invitations', () => {
    const manual: Membership = { organization: 'OrgA', group: 'devs', source: 'manual' };
    const invitation: Invitation = {
      id: 'i1',
      organization: 'OrgA',
      email: 'ada@example.com',
      group: 'devs',
      state: 'pending',
      createdAt: AT,
      acceptedAt: null,
      acceptedBy: null,
    };
    const held = account({ memberships: [manual] });
    const reset = decideLogin(facts({ byIdentity: held, idpGroups: [] }));
    expect(reset.outcome === 'allow' && reset.plan.removed).toEqual([manual]);
    const managed = decideLogin(facts({ byIdentity: held, idpGroups: [], settings: { membership: 'managed' } }));
    expect(managed.outcome === 'allow' && managed.plan.removed).toEqual([]);
    const invited = decideLogin(facts({ byIdentity: account(), idpGroups: [], invitations: [invitation] }));
    expect(invited.outcome === 'allow' && invited.plan.invitationsAccepted).toEqual(['i1']);
  });
});

describe('pendingChanges', () => {
  const base = { identity: { connector: 'idp', subject: 's-ada' }, organizations: ORGS, invitations: [], settings: DEFAULT_SETTINGS };

  it('is what the decision plans for the account', () => {
    expect(pendingChanges({ ...base, account: account(), idpGroups: ['admins'] })).toEqual({
      added: [
        { organization: 'OrgA', group: 'Members', source: 'default' },
        { organization: 'OrgA', group: 'admins', source: 'sync' },
      ],
      removed: [],
    });
  });

  it('is nothing for a login the decision refuses, or without cached groups', () => {
    expect(pendingChanges({ ...base, account: account({ disabled: true }), idpGroups: ['admins'] })).toEqual({ added: [], removed: [] });
    expect(pendingChanges({ ...base, account: account(), idpGroups: null })).toEqual({ added: [], removed: [] });
    // Not linked to this identity, linkByEmail off: the login answers email_conflict.
    const elsewhere = account({ subject: 'elsewhere' });
    const settings = { ...DEFAULT_SETTINGS, linkByEmail: false };
    expect(pendingChanges({ ...base, settings, account: elsewhere, idpGroups: ['admins'] })).toEqual({ added: [], removed: [] });
  });
});
