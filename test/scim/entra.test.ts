import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../support/daemon.js';
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER, ENTRA_TOKEN, PATCH_OP, scimBase, startScimDaemon, type ScimDaemon } from './support.js';

/**
 * Microsoft Entra ID's provisioning sequence, as its documentation shows the requests (capitalised
 * `op`, booleans as strings, member removal by `path: "members"` with a value array, a value-path
 * for the work email, a filter check before each create), replayed over real HTTP against a
 * daemon; each step is checked where a user sees it: the directory cache, the account, the login
 * answer and the drift report.
 */

let d: ScimDaemon;
beforeAll(async () => {
  // On the SCIM thread (its own listener): deprovisioning and cache writes cross to the login thread.
  d = await startScimDaemon({ ownListener: true });
});
afterAll(async () => d?.stop());

const OBJECT_ID = '5d48a0a8-e3ad-4c35-a4f3-c4a1e9d2bd11';
const entraUser = {
  schemas: [CORE_USER, ENTERPRISE_USER],
  externalId: OBJECT_ID,
  userName: 'ada@example.com',
  active: true,
  displayName: 'Ada Lovelace',
  emails: [{ primary: true, type: 'work', value: 'ada@example.com' }],
  meta: { resourceType: 'User' },
  name: { formatted: 'Ada Lovelace', familyName: 'Lovelace', givenName: 'Ada' },
  roles: [],
  [ENTERPRISE_USER]: { department: 'Engineering', employeeNumber: '42' },
};
const login = () => d.login({ connector: 'entra', subject: OBJECT_ID, email: 'ada@example.com', name: 'Ada Lovelace' });
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

describe('Microsoft Entra ID pushing to a scim connector', () => {
  let userId = '';
  let groupId = '';

  it('checks the user by filter (none: Resources empty), creates it, and a replayed create answers 409 uniqueness', async () => {
    const check = await d.scim('entra', 'GET', `/Users?filter=${encodeURIComponent('userName eq "ada@example.com"')}`);
    expect(check.status).toBe(200);
    expect(check.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(check.body).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await d.scim('entra', 'POST', '/Users', entraUser);
    expect(created.status).toBe(201);
    userId = created.body.id;
    expect(created.headers.get('location')).toBe(`${scimBase(d)}/scim/v2/entra/Users/${userId}`);
    // Kept as sent, extension and unused attributes included; `meta` is ours.
    expect(created.body).toMatchObject({ externalId: OBJECT_ID, roles: [], [ENTERPRISE_USER]: { department: 'Engineering' } });
    expect(created.body.meta).toMatchObject({ resourceType: 'User', version: 'W/"1"' });

    const replay = await d.scim('entra', 'POST', '/Users', entraUser);
    expect(replay.status).toBe(409);
    expect(replay.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
      detail: expect.stringContaining('already exists'),
    });
    const found = await d.scim('entra', 'GET', `/Users?filter=${encodeURIComponent('userName eq "ADA@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(userId);
  });

  it('a pushed user with no group logs in with no IdP groups, read from the cache with no outbound call', async () => {
    const cached = await d.daemon.store.getCachedUser('entra', OBJECT_ID);
    expect(cached).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', groups: [], absentSince: null });
    const answer = await login();
    expect(answer.status).toBe(200);
    expect(answer.body.groups).toMatchObject({ source: 'cache', names: [] });
    expect(answer.body.memberships).toEqual([]);
  });

  it('creates a group after a filter check, adds the member, and the login lands in the mapped groups', async () => {
    const check = await d.scim('entra', 'GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "developers"')}`);
    expect(check.body).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await d.scim('entra', 'POST', '/Groups', { schemas: [CORE_GROUP], externalId: 'grp-obj-1', displayName: 'developers', members: [] });
    expect(created.status).toBe(201);
    groupId = created.body.id;

    const added = await d.scim('entra', 'PATCH', `/Groups/${groupId}`, patch({ op: 'Add', path: 'members', value: [{ value: userId }] }));
    expect(added.status).toBe(200);
    expect(added.body.members).toEqual([{ value: userId }]);

    expect((await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.groups).toEqual(['developers']);
    expect(await d.daemon.store.listCachedGroups('entra')).toEqual([expect.objectContaining({ id: groupId, name: 'developers' })]);
    const answer = await login();
    expect(answer.body.groups).toMatchObject({ source: 'cache', names: ['developers'] });
    expect(answer.body.memberships).toEqual(
      expect.arrayContaining([
        { organization: 'OrgA', group: 'developers', source: 'sync' },
        { organization: 'OrgB', group: 'developers', source: 'sync' },
      ]),
    );
  });

  it('renames the group: the member’s cached groups follow, and the next login moves the membership', async () => {
    const renamed = await d.scim('entra', 'PATCH', `/Groups/${groupId}`, patch({ op: 'Replace', path: 'displayName', value: 'Team' }));
    expect(renamed.status).toBe(200);
    expect((await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.groups).toEqual(['Team']);
    const answer = await login();
    expect(answer.body.groups.names).toEqual(['Team']);
    expect(answer.body.memberships).toContainEqual({ organization: 'OrgA', group: 'Team', source: 'sync' });
    expect(answer.body.memberships).not.toContainEqual(expect.objectContaining({ group: 'developers' }));
  });

  it('updates the work email through a value path and a no-path Replace with dotted keys', async () => {
    const changed = await d.scim(
      'entra',
      'PATCH',
      `/Users/${userId}`,
      patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada.lovelace@example.com' },
        { op: 'Replace', value: { 'name.givenName': 'Augusta', [`${ENTERPRISE_USER}:department`]: 'Research' } },
      ),
    );
    expect(changed.status).toBe(200);
    expect(changed.body.emails).toEqual([{ primary: true, type: 'work', value: 'ada.lovelace@example.com' }]);
    expect(changed.body.name).toMatchObject({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(changed.body[ENTERPRISE_USER]).toEqual({ department: 'Research', employeeNumber: '42' });
    expect((await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.email).toBe('ada.lovelace@example.com');
  });

  it('removes the member with path "members" and a value array: the cache holds no group any more', async () => {
    const removed = await d.scim('entra', 'PATCH', `/Groups/${groupId}`, patch({ op: 'Remove', path: 'members', value: [{ value: userId }] }));
    expect(removed.status).toBe(200);
    expect(removed.body.members).toEqual([]);
    expect((await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.groups).toEqual([]);
  });

  it('deactivates with "active": "False": the account is disabled, the login refused, the cache entry absent, drift says absent_from_idp', async () => {
    const off = await d.scim('entra', 'PATCH', `/Users/${userId}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const answer = await login();
    expect(answer.status).toBe(403);
    expect(answer.body.reason).toBe('user_disabled');
    expect((await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.absentSince).not.toBeNull();

    const account = await d.daemon.store.findAccountByIdentity({ connector: 'entra', subject: OBJECT_ID });
    expect(account?.user.disabled).toBe(true);
    // The admin view names the SCIM user behind the identity.
    const view = await d.call('GET', `/v1/users/${account!.user.id}`);
    expect(view.body).toMatchObject({ disabled: true, identities: [{ connector: 'entra', subject: OBJECT_ID, scimId: userId }] });
    const audit = await d.daemon.store.listAudit({ userId: account!.user.id, limit: 5 });
    expect(audit[0]).toMatchObject({ actor: 'scim:entra', action: 'user.disabled', details: expect.objectContaining({ reason: 'SCIM user deactivated' }) });

    const drift = await d.call('GET', '/v1/drift?connector=entra&kind=absent_from_idp');
    expect(drift.status).toBe(200);
    expect(drift.body.items).toEqual([expect.objectContaining({ kind: 'absent_from_idp', connector: 'entra', user: expect.objectContaining({ subject: OBJECT_ID }) })]);
    // The reason, with the time SCIM deactivated the user.
    const since = (await d.daemon.store.getCachedUser('entra', OBJECT_ID))!.absentSince!;
    expect(drift.body.items[0].detail).toBe(`deactivated by the IdP through SCIM (active: false) at ${since}`);
    // Written again while deactivated, the entry keeps the time it became absent.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const renamed = await d.scim('entra', 'PATCH', `/Users/${userId}`, patch({ op: 'Replace', path: 'displayName', value: 'Ada King' }));
    expect(renamed.status).toBe(200);
    expect(await d.daemon.store.getCachedUser('entra', OBJECT_ID)).toMatchObject({ name: 'Ada King', absentSince: since });
  });

  it('reactivates with "active": "True": the account SCIM disabled is enabled again', async () => {
    const on = await d.scim('entra', 'PATCH', `/Users/${userId}`, patch({ op: 'Replace', path: 'active', value: 'True' }));
    expect(on.body.active).toBe(true);
    const answer = await login();
    expect(answer.status).toBe(200);
    expect((await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.absentSince).toBeNull();
  });

  it('never re-enables an account an admin disabled', async () => {
    const account = await d.daemon.store.findAccountByIdentity({ connector: 'entra', subject: OBJECT_ID });
    expect((await d.call('PATCH', `/v1/users/${account!.user.id}`, { disabled: true }, ADMIN_TOKEN)).status).toBe(200);
    await d.scim('entra', 'PATCH', `/Users/${userId}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
    await d.scim('entra', 'PATCH', `/Users/${userId}`, patch({ op: 'Replace', path: 'active', value: 'True' }));
    expect((await login()).body.reason).toBe('user_disabled');
    expect((await d.call('PATCH', `/v1/users/${account!.user.id}`, { disabled: false }, ADMIN_TOKEN)).status).toBe(200);
    expect((await login()).status).toBe(200);
  });

  it('deletes the user: 204, then 404; the account stays (disabled), the cache entry is absent', async () => {
    const deleted = await d.scim('entra', 'DELETE', `/Users/${userId}`);
    expect(deleted.status).toBe(204);
    const gone = await d.scim('entra', 'GET', `/Users/${userId}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ status: '404' });
    const account = await d.daemon.store.findAccountByIdentity({ connector: 'entra', subject: OBJECT_ID });
    expect(account?.user.disabled).toBe(true);
    expect((await d.call('GET', `/v1/users/${account!.user.id}`)).status).toBe(200);
    const since = (await d.daemon.store.getCachedUser('entra', OBJECT_ID))?.absentSince;
    expect(since).not.toBeNull();
    expect((await login()).body.reason).toBe('user_disabled');
    const drift = await d.call('GET', '/v1/drift?connector=entra&kind=absent_from_idp');
    expect(drift.body.items.map((i: { detail: string }) => i.detail)).toEqual([
      `deleted by the IdP through SCIM at ${since} (or pushed again with another externalId)`,
    ]);
  });

  it('refuses a request without the connector’s token (401) and with another connector’s token', async () => {
    const bare = await fetch(`${scimBase(d)}/scim/v2/entra/Users`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer');
    expect(await bare.json()).toMatchObject({ status: '401' });
    const crossed = await fetch(`${scimBase(d)}/scim/v2/entra/Users`, { headers: { authorization: 'Bearer scim-okta-token-0123456789' } });
    expect(crossed.status).toBe(401);
    const hook = await fetch(`${scimBase(d)}/scim/v2/entra/Users`, { headers: { authorization: 'Bearer test-hook-token-0123456789' } });
    expect(hook.status).toBe(401);
    // The scheme is case-insensitive.
    const lower = await fetch(`${scimBase(d)}/scim/v2/entra/Users`, { headers: { authorization: `bearer ${ENTRA_TOKEN}` } });
    expect(lower.status).toBe(200);
  });
});
