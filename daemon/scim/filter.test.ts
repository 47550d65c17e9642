import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.js';
import { ENTERPRISE_USER, equalityOf, matches, parseFilter, parsePatchPath } from './filter.js';

const ada = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'u-1',
  userName: 'Ada@Example.com',
  externalId: 'ObjectId-1',
  displayName: 'Ada Lovelace',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [
    { value: 'ada@example.com', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  [ENTERPRISE_USER]: { department: 'Engineering' },
  meta: { lastModified: '2026-12-01T10:00:00.000Z' },
};

const test = (filter: string) => matches(parseFilter(filter), ada);

describe('SCIM filters', () => {
  it('eq on userName, externalId, emails.value and displayName, as the clients send them', () => {
    expect(test('userName eq "ada@example.com"')).toBe(true); // case-insensitive value
    expect(test('USERNAME EQ "ada@example.com"')).toBe(true); // case-insensitive names and operators
    expect(test('externalId eq "ObjectId-1"')).toBe(true);
    expect(test('externalId eq "objectid-1"')).toBe(false); // externalId is case-exact
    expect(test('emails.value eq "ada@home.example"')).toBe(true);
    expect(test('displayName eq "Ada Lovelace"')).toBe(true);
    expect(test('displayName eq "Grace Hopper"')).toBe(false);
  });

  it('and, or, not, parentheses, with and binding tighter than or', () => {
    expect(test('userName eq "x" or displayName eq "Ada Lovelace" and active eq true')).toBe(true);
    expect(test('(userName eq "x" or displayName eq "Ada Lovelace") and active eq false')).toBe(false);
    expect(test('not (userName eq "x")')).toBe(true);
  });

  it('pr, co, sw, ew, gt on strings and dates, value filters and schema URNs', () => {
    expect(test('title pr')).toBe(false);
    expect(test('name.givenName pr')).toBe(true);
    expect(test('userName sw "ada"')).toBe(true);
    expect(test('userName ew ".com"')).toBe(true);
    expect(test('displayName co "love"')).toBe(true);
    expect(test('meta.lastModified gt "2026-11-30T00:00:00Z"')).toBe(true);
    expect(test('emails[type eq "work" and value co "example.com"]')).toBe(true);
    expect(test('emails[type eq "other"]')).toBe(false);
    expect(test('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada@example.com"')).toBe(true);
    expect(test(`${ENTERPRISE_USER}:department eq "engineering"`)).toBe(true);
  });

  it('string escapes in values', () => {
    expect(matches(parseFilter('displayName eq "say \\"hi\\""'), { displayName: 'say "hi"' })).toBe(true);
  });

  it('refuses a malformed filter with a 400 invalidFilter', () => {
    for (const bad of ['userName eq', 'userName zz "x"', '(userName eq "x"', 'userName eq "x" extra', 'eq "x"', 'userName eq "unterminated']) {
      const error = (() => {
        try {
          parseFilter(bad);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error, bad).toBeInstanceOf(ScimError);
      expect((error as ScimError).status).toBe(400);
      expect((error as ScimError).scimType).toBe('invalidFilter');
    }
  });

  it('names the single equality a list can be answered from an index with', () => {
    expect(equalityOf(parseFilter('id eq "u-1"'))).toEqual({ attribute: 'id', value: 'u-1' });
    expect(equalityOf(parseFilter('userName eq "a" and active eq true'))).toBeNull();
  });
});

describe('PATCH paths', () => {
  it('attr, attr.sub, attr[filter].sub and extension URNs', () => {
    expect(parsePatchPath('active')).toMatchObject({ schema: null, attribute: 'active', filter: null, subAttribute: null });
    expect(parsePatchPath('name.givenName')).toMatchObject({ attribute: 'name', subAttribute: 'givenName' });
    expect(parsePatchPath('emails[type eq "work"].value')).toMatchObject({ attribute: 'emails', subAttribute: 'value', filter: { kind: 'compare' } });
    expect(parsePatchPath(`${ENTERPRISE_USER}:manager`)).toMatchObject({ schema: ENTERPRISE_USER, attribute: 'manager' });
    expect(parsePatchPath(ENTERPRISE_USER)).toMatchObject({ schema: null, attribute: ENTERPRISE_USER });
  });

  it('refuses a malformed path with 400 invalidPath', () => {
    for (const bad of ['emails[type eq "work"', 'a.b.c', 'emails[type eq "work"]value', '']) {
      expect(() => parsePatchPath(bad), bad).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidPath' }));
    }
  });
});
