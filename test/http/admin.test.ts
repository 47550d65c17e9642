import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let d: TestDaemon;
afterEach(async () => d?.stop());

describe('admin API', () => {
  it('lists the seeded organizations and creates new ones and groups', async () => {
    d = await startDaemon();
    const list = await d.call('GET', '/v1/organizations');
    expect(list.body.organizations.map((o: { key: string }) => o.key)).toEqual(['OrgA', 'OrgB', 'Sonar']);

    const created = await d.call('POST', '/v1/organizations', { key: 'OrgC' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ key: 'OrgC', defaultGroup: 'Members', groups: [] });
    expect((await d.call('POST', '/v1/organizations', { key: 'OrgC' })).status).toBe(409);
    expect((await d.call('POST', '/v1/organizations', { key: 'bad key!' })).status).toBe(400);

    const group = await d.call('POST', '/v1/organizations/OrgC/groups', { name: 'platform/sre' });
    expect(group.status).toBe(201);
    expect(group.body.groups).toEqual(['platform/sre']);
    expect((await d.call('POST', '/v1/organizations/OrgC/groups', { name: 'platform/sre' })).status).toBe(409);
    expect((await d.call('POST', '/v1/organizations/OrgC/groups', { name: 'Members' })).status).toBe(409);
    expect((await d.call('POST', '/v1/organizations/Nope/groups', { name: 'x' })).status).toBe(404);

    // Logins see the new organization and group at once.
    const login = await d.login({ subject: 's9', email: 'sre@example.com', groups: ['platform/sre'] });
    expect(login.body.memberships).toContainEqual({ organization: 'OrgC', group: 'platform/sre', source: 'sync' });
  });

  it('adds and removes manual memberships, keeping the default group derived', async () => {
    d = await startDaemon();
    const { body } = await d.login({ subject: 's1', email: 'lin@example.com', groups: [] });
    const id = body.user.id;

    const added = await d.call('PUT', `/v1/organizations/Sonar/groups/${encodeURIComponent('my-gitlab-group/sub-group')}/members/${id}`);
    expect(added.status).toBe(200);
    expect(added.body.memberships).toEqual([
      { organization: 'Sonar', group: 'my-gitlab-group/sub-group', source: 'manual' },
      { organization: 'Sonar', group: 'sonar-users', source: 'default' },
    ]);
    // PUT is idempotent.
    expect((await d.call('PUT', `/v1/organizations/Sonar/groups/my-gitlab-group%2Fsub-group/members/${id}`)).body.memberships).toEqual(
      added.body.memberships,
    );

    const removed = await d.call('DELETE', `/v1/organizations/Sonar/groups/my-gitlab-group%2Fsub-group/members/${id}`);
    expect(removed.status).toBe(200);
    expect(removed.body.memberships).toEqual([]);
    expect(removed.body.organizations).toEqual([]);

    expect((await d.call('DELETE', `/v1/organizations/Sonar/groups/my-gitlab-group/members/${id}`)).status).toBe(404);
    expect((await d.call('PUT', `/v1/organizations/Sonar/groups/sonar-users/members/${id}`)).body.error.code).toBe(
      'default_group_derived',
    );
    expect((await d.call('PUT', `/v1/organizations/OrgA/groups/ghosts/members/${id}`)).status).toBe(404);
    expect((await d.call('PUT', '/v1/organizations/OrgA/groups/developers/members/nobody')).status).toBe(404);
  });

  it('shows a user with identities, memberships and sync state, by id and by email', async () => {
    d = await startDaemon();
    const { body } = await d.login({ subject: '00u2grace', email: 'grace@example.com', name: 'Grace Hopper' });
    const byId = await d.call('GET', `/v1/users/${body.user.id}`);
    expect(byId.body).toMatchObject({
      email: 'grace@example.com',
      identities: [{ connector: 'demo', subject: '00u2grace' }],
      organizations: ['OrgA', 'OrgB'],
      syncState: [{ connector: 'demo', appliedGroups: ['developers'], status: 'fresh' }],
    });
    const byEmail = await d.call('GET', '/v1/users?email=GRACE@example.com');
    expect(byEmail.body.users).toEqual([byId.body]);
    expect((await d.call('GET', '/v1/users')).status).toBe(400);
  });

  it('a disabled user is refused at login with user_disabled and keeps the memberships', async () => {
    d = await startDaemon();
    const { body } = await d.login({ subject: '00u2grace', email: 'grace@example.com', groups: ['developers'] });
    const disabled = await d.call('PATCH', `/v1/users/${body.user.id}`, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true, memberships: body.memberships });
    const refused = await d.login({ subject: '00u2grace', email: 'grace@example.com', groups: [] });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ decision: 'deny', reason: 'user_disabled' });
    expect((await d.call('GET', `/v1/users/${body.user.id}`)).body.memberships).toEqual(body.memberships);

    await d.call('PATCH', `/v1/users/${body.user.id}`, { disabled: false });
    expect((await d.login({ subject: '00u2grace', email: 'grace@example.com', groups: ['developers'] })).status).toBe(200);
    expect((await d.call('PATCH', '/v1/users/nobody', { disabled: true })).status).toBe(404);
    expect((await d.call('PATCH', `/v1/users/${body.user.id}`, { disabled: 'yes' })).status).toBe(400);
  });

  it('validates invitations against the organizations', async () => {
    d = await startDaemon();
    expect((await d.call('POST', '/v1/invitations', { organization: 'Nope', email: 'a@example.com' })).status).toBe(404);
    expect(
      (await d.call('POST', '/v1/invitations', { organization: 'OrgA', email: 'a@example.com', group: 'ghosts' })).status,
    ).toBe(404);
    expect((await d.call('POST', '/v1/invitations', { organization: 'OrgA', email: 'nope' })).status).toBe(400);
    const ok = await d.call('POST', '/v1/invitations', { organization: 'OrgA', email: 'A@Example.com' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ organization: 'OrgA', email: 'a@example.com', group: null, state: 'pending' });
  });
});

describe('operational endpoints', () => {
  it('serves health, readiness, metrics and the OpenAPI document without a token', async () => {
    d = await startDaemon();
    expect((await d.call('GET', '/healthz', undefined, null)).body).toEqual({ status: 'ok' });
    const ready = await d.call('GET', '/readyz', undefined, null);
    expect(ready.status).toBe(200);
    expect(ready.body.store).toMatch(/sqlite/i);

    await d.login({ subject: 's1', email: 'm@example.com', groups: [] });
    const metrics = await fetch(`${d.url}/metrics`).then((r) => r.text());
    expect(metrics).toContain('jitsync_logins_total{connector="demo",decision="allow",groups_source="token"} 1');

    const openapi = await d.call('GET', '/openapi.json', undefined, null);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/logins',
        '/v1/users',
        '/v1/users/{id}',
        '/v1/organizations',
        '/v1/organizations/{org}/groups',
        '/v1/organizations/{org}/groups/{group}/members/{userId}',
        '/v1/invitations',
      ]),
    );
    expect(openapi.body.paths['/v1/logins'].post.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['connector', 'subject', 'email']),
    );
  });
});
