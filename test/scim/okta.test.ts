import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../mongo/databases.js';
import { CORE_GROUP, CORE_USER, PATCH_OP, startScimDaemon, type ScimDaemon } from './support.js';

/**
 * Okta's SCIM 2.0 sequence as its guide shows it (POST to create after a filter check with
 * `startIndex`/`count`, PUT and PATCH to update, PATCH `active: false` to deactivate, groups pushed
 * with POST, member PATCHes and PUT), replayed over real HTTP against a daemon whose `okta`
 * connector removes sync memberships on deprovisioning.
 */

// On both stores: SQLite, and MongoDB (the tests' FerretDB), whose write path differs.
describe.each([
  ['sqlite', () => undefined],
  ['mongodb', () => freshDatabaseUrl('scim_okta').url],
])('on %s', (_name, storeUrl) => {
  let d: ScimDaemon;
  beforeAll(async () => {
    const store = storeUrl();
    // On MongoDB, SCIM on its own listener: the SCIM thread reads through a connection of its own.
    d = await startScimDaemon(store ? { store, ownListener: true } : {});
  });
  afterAll(async () => d?.stop());

  const OKTA_ID = '00u1grace';
  const oktaUser = (givenName: string) => ({
    schemas: [CORE_USER],
    userName: 'grace@example.com',
    name: { givenName, familyName: 'Hopper' },
    emails: [{ primary: true, value: 'grace@example.com', type: 'work' }],
    displayName: `${givenName} Hopper`,
    locale: 'en-US',
    externalId: OKTA_ID,
    groups: [],
    password: 'not-kept-0123',
    active: true,
  });
  const login = () => d.login({ connector: 'okta', subject: OKTA_ID, email: 'grace@example.com' });
  const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

  describe('Okta pushing to a scim connector', () => {
    let userId = '';
    let groupId = '';

    it('lists with startIndex/count (Resources even when empty), then creates the user; the password is never kept', async () => {
      const check = await d.scim('okta', 'GET', `/Users?filter=${encodeURIComponent('userName eq "grace@example.com"')}&startIndex=1&count=100`);
      expect(check.body).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 0,
        startIndex: 1,
        itemsPerPage: 0,
        Resources: [],
      });
      const created = await d.scim('okta', 'POST', '/Users', oktaUser('Grace'));
      expect(created.status).toBe(201);
      userId = created.body.id;
      expect(created.body).not.toHaveProperty('password');
      const read = await d.scim('okta', 'GET', `/Users/${userId}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ userName: 'grace@example.com', locale: 'en-US', groups: [] });
      expect(read.headers.get('etag')).toBe('W/"1"');
    });

    it('updates with PUT: the cached name follows', async () => {
      const replaced = await d.scim('okta', 'PUT', `/Users/${userId}`, { ...oktaUser('Amazing Grace'), id: userId });
      expect(replaced.status).toBe(200);
      expect(replaced.body.meta.version).toBe('W/"2"');
      expect((await d.daemon.store.getCachedUser('okta', OKTA_ID))?.name).toBe('Amazing Grace Hopper');
    });

    it('pushes a group with its member, removes it by a value filter and adds it back', async () => {
      const created = await d.scim('okta', 'POST', '/Groups', {
        schemas: [CORE_GROUP],
        displayName: 'developers',
        members: [{ value: userId, display: 'grace@example.com' }],
      });
      expect(created.status).toBe(201);
      groupId = created.body.id;
      expect((await d.daemon.store.getCachedUser('okta', OKTA_ID))?.groups).toEqual(['developers']);

      const removed = await d.scim('okta', 'PATCH', `/Groups/${groupId}`, patch({ op: 'remove', path: `members[value eq "${userId}"]` }));
      expect(removed.body.members).toEqual([]);
      expect((await d.daemon.store.getCachedUser('okta', OKTA_ID))?.groups).toEqual([]);

      const added = await d.scim('okta', 'PATCH', `/Groups/${groupId}`, patch({ op: 'add', path: 'members', value: [{ value: userId, display: 'grace@example.com' }] }));
      expect(added.body.members).toEqual([{ value: userId, display: 'grace@example.com' }]);
      expect((await d.daemon.store.getCachedUser('okta', OKTA_ID))?.groups).toEqual(['developers']);
    });

    it('renames the group with a no-path replace, then PUTs it whole; the login follows', async () => {
      const renamed = await d.scim('okta', 'PATCH', `/Groups/${groupId}`, patch({ op: 'replace', value: { id: groupId, displayName: 'Team' } }));
      expect(renamed.status).toBe(200);
      expect(renamed.body.displayName).toBe('Team');
      const put = await d.scim('okta', 'PUT', `/Groups/${groupId}`, { schemas: [CORE_GROUP], id: groupId, displayName: 'Team', members: [{ value: userId }] });
      expect(put.status).toBe(200);
      const answer = await login();
      expect(answer.status).toBe(200);
      expect(answer.body.groups).toMatchObject({ source: 'cache', names: ['Team'] });
      expect(answer.body.memberships).toContainEqual({ organization: 'OrgA', group: 'Team', source: 'sync' });
    });

    it('deactivates with PATCH active false: disabled, and (remove-memberships) its sync memberships go', async () => {
      const off = await d.scim('okta', 'PATCH', `/Users/${userId}`, patch({ op: 'replace', value: { active: false } }));
      expect(off.body.active).toBe(false);
      const account = await d.daemon.store.findAccountByIdentity({ connector: 'okta', subject: OKTA_ID });
      expect(account?.user.disabled).toBe(true);
      expect(account?.memberships.filter((m) => m.source === 'sync')).toEqual([]);
      const [entry] = await d.daemon.store.listAudit({ userId: account!.user.id, limit: 1 });
      expect(entry).toMatchObject({ actor: 'scim:okta', action: 'user.disabled' });
      expect(entry?.details.removed).toContainEqual({ organization: 'OrgA', group: 'Team', source: 'sync' });
      expect((await login()).body.reason).toBe('user_disabled');
    });

    it('reactivates with PATCH active true: the next login restores the memberships', async () => {
      await d.scim('okta', 'PATCH', `/Users/${userId}`, patch({ op: 'replace', value: { active: true } }));
      const answer = await login();
      expect(answer.status).toBe(200);
      expect(answer.body.memberships).toContainEqual({ organization: 'OrgA', group: 'Team', source: 'sync' });
    });

    it('pages a list with startIndex and count', async () => {
      await d.scim('okta', 'POST', '/Users', { ...oktaUser('Second'), userName: 'second@example.com', externalId: '00u2second' });
      const page = await d.scim('okta', 'GET', '/Users?startIndex=2&count=1');
      expect(page.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });
      expect(page.body.Resources).toHaveLength(1);
    });

    it('deletes the group: gone from the cache, and from its member’s groups', async () => {
      expect((await d.scim('okta', 'DELETE', `/Groups/${groupId}`)).status).toBe(204);
      expect(await d.daemon.store.listCachedGroups('okta')).toEqual([]);
      expect((await d.daemon.store.getCachedUser('okta', OKTA_ID))?.groups).toEqual([]);
      expect((await d.scim('okta', 'GET', `/Groups/${groupId}`)).status).toBe(404);
    });
  });
});
