import { describe, expect, it } from 'vitest';
import { ENTERPRISE_USER } from './filter.js';
import { createRateLimit } from './rate-limit.js';
import { emailOf, normalizeAttributes, project } from './resources.js';

describe('resources as sent and answered', () => {
  it('keeps what the IdP sent, without id, meta and password, and with Entra’s string booleans as booleans', () => {
    const stored = normalizeAttributes('User', {
      id: 'theirs',
      meta: { resourceType: 'User' },
      password: 'secret',
      userName: 'ada@example.com',
      active: 'False',
      emails: [{ value: 'ada@example.com', primary: 'True' }],
      'urn:example:custom': { x: 1 },
    });
    expect(stored).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'ada@example.com',
      active: false,
      emails: [{ value: 'ada@example.com', primary: true }],
      'urn:example:custom': { x: 1 },
    });
  });

  it('refuses a user without userName, a group without displayName, and a non-boolean active', () => {
    expect(() => normalizeAttributes('User', { displayName: 'x' })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
    expect(() => normalizeAttributes('Group', { members: [] })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => normalizeAttributes('User', { userName: 'a', active: 'maybe' })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('reads the email from the primary, else the work address, else a userName that is one', () => {
    expect(emailOf({ emails: [{ value: 'h@x.org', type: 'home' }, { value: 'P@x.org', primary: true }] })).toBe('p@x.org');
    expect(emailOf({ emails: [{ value: 'h@x.org', type: 'home' }, { value: 'w@x.org', type: 'work' }] })).toBe('w@x.org');
    expect(emailOf({ userName: 'Ada@Example.com' })).toBe('ada@example.com');
    expect(emailOf({ userName: 'ada' })).toBeNull();
  });

  it('projects attributes and excludedAttributes, id and schemas always kept', () => {
    const rendered = {
      schemas: ['s'],
      id: '1',
      userName: 'ada',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'a@x.org', type: 'work' }],
      [ENTERPRISE_USER]: { department: 'R', costCenter: 'C' },
    };
    expect(project(rendered, ['userName', 'name.givenName'], null)).toEqual({ schemas: ['s'], id: '1', userName: 'ada', name: { givenName: 'Ada' } });
    expect(project(rendered, ['emails.value', `${ENTERPRISE_USER}:department`], null)).toEqual({
      schemas: ['s'],
      id: '1',
      emails: [{ value: 'a@x.org' }],
      [ENTERPRISE_USER]: { department: 'R' },
    });
    expect(project(rendered, null, ['emails', 'name.familyName', 'id'])).toEqual({
      schemas: ['s'],
      id: '1',
      userName: 'ada',
      name: { givenName: 'Ada' },
      [ENTERPRISE_USER]: { department: 'R', costCenter: 'C' },
    });
  });
});

describe('the SCIM rate limit', () => {
  it('lets a burst through, then asks to wait, and refills at the rate', () => {
    let now = 0;
    const limit = createRateLimit({ ratePerSecond: 10, burst: 3, now: () => now });
    expect([limit.take('a'), limit.take('a'), limit.take('a')]).toEqual([0, 0, 0]);
    expect(limit.take('a')).toBe(1);
    expect(limit.take('b')).toBe(0); // per token
    now += 100; // one request's worth at 10/s
    expect(limit.take('a')).toBe(0);
    expect(limit.take('a')).toBe(1);
  });
});
