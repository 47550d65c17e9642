import { describe, expect, test } from 'vitest';
import { SAML_GROUPS_LINK_CLAIM, tokenSignalsOverage } from './overage.js';

describe('tokenSignalsOverage', () => {
  test('a JWT whose groups moved to a distributed claim (_claim_names.groups)', () => {
    expect(
      tokenSignalsOverage({
        oid: 'u1',
        _claim_names: { groups: 'src1' },
        _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/u1/getMemberObjects' } },
      }),
    ).toBe(true);
  });

  test('an implicit-flow JWT with hasgroups', () => {
    expect(tokenSignalsOverage({ oid: 'u1', hasgroups: true })).toBe(true);
    expect(tokenSignalsOverage({ oid: 'u1', hasgroups: 'true' })).toBe(true);
  });

  test('a SAML assertion with the groups.link claim', () => {
    expect(tokenSignalsOverage({ [SAML_GROUPS_LINK_CLAIM]: 'https://graph.windows.net/t/users/u1/getMemberObjects' })).toBe(true);
    expect(tokenSignalsOverage({ [SAML_GROUPS_LINK_CLAIM]: ['https://graph.windows.net/t/users/u1/getMemberObjects'] })).toBe(true);
  });

  test('a complete groups claim, an empty one, or distributed claims for something else are not overage', () => {
    expect(tokenSignalsOverage({ oid: 'u1', groups: ['g1', 'g2'] })).toBe(false);
    expect(tokenSignalsOverage({ oid: 'u1', groups: [] })).toBe(false);
    expect(tokenSignalsOverage({ oid: 'u1', hasgroups: false })).toBe(false);
    expect(tokenSignalsOverage({ oid: 'u1', _claim_names: { roles: 'src1' } })).toBe(false);
    expect(tokenSignalsOverage({ oid: 'u1', _claim_names: null })).toBe(false);
    expect(tokenSignalsOverage({ [SAML_GROUPS_LINK_CLAIM]: '' })).toBe(false);
  });
});
