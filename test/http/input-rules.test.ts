import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * One set of text rules for every way in: what the login body, the admin routes and the config
 * file accept is the same, and what none of them can store faithfully is refused with a 400
 * naming the field, writing nothing.
 */

let t: TestDaemon;
afterEach(() => t?.stop());

const ADA = { connector: 'demo', subject: '00u1ada', email: 'ada@example.com' };

describe('input the API used to store but elsewhere refused', () => {
  it('refuses control characters and lone surrogates in login fields, naming the field', async () => {
    t = await startDaemon();
    const cases: [string, Record<string, unknown>][] = [
      ['subject', { subject: 'ada\u0000' }],
      ['name', { name: 'Ada\u001b]0;PWNED\u0007' }],
      ['givenName', { givenName: 'A\u007fda' }],
      ['familyName', { familyName: 'Love\u000alace' }],
      ['username', { username: 'ada\u0008' }],
      ['subject', { subject: 'ada\ud800' }],
      ['groups', { groups: ['developers\u0000'] }],
    ];
    for (const [field, change] of cases) {
      const answer = await t.login({ ...ADA, ...change });
      expect(answer.status, field).toBe(400);
      expect(answer.body.error.message, field).toContain(field);
    }
    expect((await t.call('GET', '/v1/users?email=ada@example.com')).body.users).toEqual([]);
  });

  it('keeps two subjects that differ only in a lone surrogate apart by refusing them', async () => {
    t = await startDaemon();
    expect((await t.login({ ...ADA, subject: 'x\udc00' })).status).toBe(400);
    expect((await t.login({ ...ADA, subject: 'x\ud800' })).status).toBe(400);
  });

  it('refuses group and default-group names with outer spaces on the admin routes, as the config does', async () => {
    t = await startDaemon();
    const org = await t.call('POST', '/v1/organizations', { key: 'OrgZ', defaultGroup: ' ' });
    expect(org.status).toBe(400);
    expect(org.body.error.message).toContain('defaultGroup');
    expect((await t.call('POST', '/v1/organizations', { key: 'OrgZ' })).status).toBe(201);
    const group = await t.call('POST', '/v1/organizations/OrgZ/groups', { name: ' reviewers' });
    expect(group.status).toBe(400);
    expect(group.body.error.message).toContain('name');
    const organizations = await t.call('GET', '/v1/organizations');
    expect(organizations.body.organizations.find((o: { key: string }) => o.key === 'OrgZ')).toMatchObject({ defaultGroup: 'Members', groups: [] });
  });
});
