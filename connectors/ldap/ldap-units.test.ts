import { describe, expect, it } from 'vitest';
import { ldapConfigSchema } from './config.js';
import { inChainGroupsFilter } from './directory.js';
import { dnKey, parseDn, stripUid } from './dn.js';
import { formatBinary, guidBytes } from './entries.js';
import { equals, hasMember, hasRdn, idEquals } from './filters.js';

const minimal = {
  id: 'corp-ad',
  type: 'ldap',
  url: 'ldaps://dc1.corp.example:636',
  bindDN: 'CN=svc-jitsync,OU=Service,DC=corp,DC=example',
  bindPassword: 'secret',
  userBase: 'OU=Staff,DC=corp,DC=example',
  groupBase: 'OU=Groups,DC=corp,DC=example',
};

describe('config', () => {
  it('fills the documented defaults', () => {
    const config = ldapConfigSchema.parse(minimal);
    expect(config).toMatchObject({
      userFilter: '(objectClass=inetOrgPerson)',
      groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
      attributes: { subject: 'entryUUID', email: 'mail', name: 'cn', groupName: 'cn', groupId: 'entryUUID', member: ['member'] },
      pageSize: 500,
      nesting: 'client',
      timeoutMs: 10_000,
    });
  });

  it('names every bad key at once', () => {
    const result = ldapConfigSchema.safeParse({
      ...minimal,
      url: 'http://dc1',
      userFilter: '(objectClass=person',
      attributes: { subject: 'object GUID' },
      pageSise: 10,
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.') || issue.message) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['url', 'userFilter', 'attributes.subject']));
    expect(JSON.stringify(result.error?.issues)).toContain('pageSise');
  });

  it('refuses StartTLS on an ldaps:// url', () => {
    const result = ldapConfigSchema.safeParse({ ...minimal, tls: { startTls: true } });
    expect(result.error?.issues[0]?.path).toEqual(['tls', 'startTls']);
  });
});

describe('filters', () => {
  it('builds the Active Directory in-chain filter with the DN escaped', () => {
    const config = ldapConfigSchema.parse({ ...minimal, nesting: 'ad-matching-rule', groupFilter: '(objectClass=group)' });
    expect(inChainGroupsFilter(config, 'CN=Smith\\, J (ops*),OU=Staff,DC=corp,DC=example')).toBe(
      '(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=CN=Smith\\5c, J \\28ops\\2a\\29,OU=Staff,DC=corp,DC=example))',
    );
  });

  it('escapes values so they match literally', () => {
    expect(equals('cn', 'a*(b)\\')).toBe('(cn=a\\2a\\28b\\29\\5c)');
    expect(hasMember(['member', 'uniqueMember'], ['cn=x'])).toBe('(|(member=cn=x)(uniqueMember=cn=x))');
    expect(hasRdn([[{ type: 'cn', value: 'a*' }], [{ type: 'uid', value: 'b' }, { type: 'ou', value: 'c' }]])).toBe(
      '(|(cn=a\\2a)(&(uid=b)(ou=c)))',
    );
  });

  it('sends an objectGUID subject as its wire bytes', () => {
    const guid = '0e4a1b2c-3d4e-5f60-7182-93a4b5c6d7e8';
    const bytes = guidBytes(guid);
    expect(bytes?.toString('hex')).toBe('2c1b4a0e4e3d605f718293a4b5c6d7e8');
    expect(bytes && formatBinary('objectGUID', bytes)).toBe(guid);
    expect(idEquals('objectGUID', guid)).toBe('(objectGUID=\\2c\\1b\\4a\\0e\\4e\\3d\\60\\5f\\71\\82\\93\\a4\\b5\\c6\\d7\\e8)');
    expect(idEquals('entryUUID', guid)).toBe(`(entryUUID=${guid})`);
  });
});

describe('DNs', () => {
  it('compares DNs regardless of case, spacing and escaping style', () => {
    expect(dnKey('CN=Platform Team, OU=Groups,DC=Example,DC=com')).toBe(dnKey('cn=platform team,ou=groups,dc=example,dc=com'));
    expect(dnKey('cn=Smith\\, J,dc=x')).toBe(dnKey('cn=Smith\\2C J,dc=x'));
    expect(dnKey('cn=a,dc=x')).not.toBe(dnKey('cn=a,dc=y'));
  });

  it('parses RDNs with escapes and multi-valued RDNs', () => {
    expect(parseDn('cn=Smith\\, J+uid=js,dc=x')).toEqual([
      [
        { type: 'cn', value: 'Smith, J' },
        { type: 'uid', value: 'js' },
      ],
      [{ type: 'dc', value: 'x' }],
    ]);
    expect(parseDn('cn=#04024869,dc=x')).toBeNull();
    expect(stripUid("uid=a,dc=x#'0101'B")).toBe('uid=a,dc=x');
  });
});
