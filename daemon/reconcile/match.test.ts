import { describe, expect, it } from 'vitest';
import { isAllowed, parseOrganizationTeam } from './match.js';
import { usernameBase, usernameCandidates } from './username.js';

describe('allowed root groups', () => {
  const allowed = ['my-gitlab-group'];

  it('admits members of the root group and of any subgroup', () => {
    expect(isAllowed(['my-gitlab-group'], allowed)).toBe(true);
    expect(isAllowed(['other', 'my-gitlab-group/sub-group'], allowed)).toBe(true);
    expect(isAllowed(['my-gitlab-group/sub-group/deeper'], allowed)).toBe(true);
  });

  it('refuses everybody else, including look-alike names and case variants', () => {
    expect(isAllowed([], allowed)).toBe(false);
    expect(isAllowed(['my-gitlab-group-2', 'other/my-gitlab-group'], allowed)).toBe(false);
    expect(isAllowed(['My-Gitlab-Group'], allowed)).toBe(false);
  });

  it('admits everybody when no allowed groups are configured', () => {
    expect(isAllowed([], [])).toBe(true);
  });
});

describe('organization:team names', () => {
  it('splits at the first colon and rejects empty halves', () => {
    expect(parseOrganizationTeam('OrgA:developers')).toEqual({ organization: 'OrgA', group: 'developers' });
    expect(parseOrganizationTeam('OrgA:team:x')).toEqual({ organization: 'OrgA', group: 'team:x' });
    expect(parseOrganizationTeam(':developers')).toBeNull();
    expect(parseOrganizationTeam('OrgA:')).toBeNull();
    expect(parseOrganizationTeam('developers')).toBeNull();
  });
});

describe('usernames', () => {
  it('prefers the IdP username, then given.family name, then the name, then the email', () => {
    expect(usernameBase({ username: 'ALovelace', email: 'ada@example.com' })).toBe('alovelace');
    expect(usernameBase({ givenName: 'Ada', familyName: 'Lovelace', name: 'X', email: 'a@example.com' })).toBe(
      'ada.lovelace',
    );
    expect(usernameBase({ name: 'Ada  Lovelace', email: 'a@example.com' })).toBe('ada.lovelace');
    expect(usernameBase({ email: 'Ada.L+sso@Example.com' })).toBe('ada.lsso');
  });

  it('folds accents and drops characters that do not belong in a username', () => {
    expect(usernameBase({ givenName: 'Zoë', familyName: 'Ångström', email: 'z@example.com' })).toBe('zoe.angstrom');
    expect(usernameBase({ name: '李', email: '!!!@example.com' })).toBe('user');
  });

  it('makes candidates unique with random digits after the plain base', () => {
    const sequence = [0.1234, 0.5, 0.999999, 0, 0.42, 0.4242424, 0.7, 0.0001];
    let i = 0;
    const candidates = usernameCandidates('ada', () => sequence[i++]!);
    expect(candidates).toEqual(['ada', 'ada1234', 'ada5000', 'ada9999', 'ada0000', 'ada420000', 'ada424242', 'ada700000']);
  });
});
