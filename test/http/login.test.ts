import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let d: TestDaemon;
afterEach(async () => d?.stop());

const ada = {
  subject: '00u1ada',
  email: 'Ada@Example.com',
  name: 'Ada Lovelace',
  givenName: 'Ada',
  familyName: 'Lovelace',
};

describe('POST /v1/logins', () => {
  it('creates the account on first login and answers as documented', async () => {
    d = await startDaemon();
    const { status, body } = await d.login({ ...ada, groups: ['ENT_ORGA_ADMINS'], groupsOverage: false });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      decision: 'allow',
      user: { username: 'ada.lovelace', email: 'ada@example.com', name: 'Ada Lovelace', created: true },
      memberships: [
        { organization: 'OrgA', group: 'ENT_ORGA_ADMINS', source: 'sync' },
        { organization: 'OrgA', group: 'Members', source: 'default' },
      ],
      organizations: ['OrgA'],
      changes: { removed: [], invitationsAccepted: [], nameUpdated: false },
      groups: { source: 'token', names: ['ENT_ORGA_ADMINS'] },
    });
    expect(body.changes.added).toEqual(body.memberships);
  });

  it('changes nothing on a repeated login with the same input', async () => {
    d = await startDaemon();
    const first = await d.login({ ...ada, groups: ['developers'] });
    const second = await d.login({ ...ada, groups: ['developers'] });
    expect(second.body.user).toEqual({ ...first.body.user, created: false });
    expect(second.body.memberships).toEqual(first.body.memberships);
    expect(second.body.changes).toEqual({
      added: [],
      removed: [],
      invitationsAccepted: [],
      nameUpdated: false,
      identityLinked: false,
    });
  });

  it('resolves groups live from the connector, then from the warm cache', async () => {
    d = await startDaemon();
    const live = await d.login(ada);
    expect(live.body.groups).toMatchObject({ source: 'live', names: ['ENT_ORGA_ADMINS', 'developers'] });
    expect(live.body.organizations).toEqual(['OrgA', 'OrgB']);
    const cached = await d.login(ada);
    expect(cached.body.groups.source).toBe('cache');
    expect(cached.body.groups.fetchedAt).toBe(live.body.groups.fetchedAt);
  });

  it('a group that exists in two organizations joins both', async () => {
    d = await startDaemon();
    const { body } = await d.login({ subject: '00u2grace', email: 'grace@example.com', groups: ['developers'] });
    expect(body.organizations).toEqual(['OrgA', 'OrgB']);
    expect(body.memberships).toContainEqual({ organization: 'OrgB', group: 'developers', source: 'sync' });
  });

  it('reads an overage token as "look the groups up", never as "no groups"', async () => {
    d = await startDaemon();
    const { body } = await d.login({ ...ada, groups: [], groupsOverage: true });
    expect(body.groups.source).toBe('live');
    expect(body.organizations).toEqual(['OrgA', 'OrgB']);
  });

  it("reads Entra's overage claims the same way", async () => {
    d = await startDaemon();
    const distributed = await d.login({ ...ada, groups: [], claims: { _claim_names: { groups: 'src1' } } });
    expect(distributed.body.groups.source).toBe('live');
    expect(distributed.body.organizations).toEqual(['OrgA', 'OrgB']);
    const complete = await d.login({ ...ada, groups: ['developers'], claims: { hasgroups: false } });
    expect(complete.body.groups).toMatchObject({ source: 'token', names: ['developers'] });
  });

  it('updates the name when the IdP reports a new one', async () => {
    d = await startDaemon();
    await d.login({ ...ada, groups: [] });
    const { body } = await d.login({ ...ada, name: 'Augusta Ada King', groups: [] });
    expect(body.user.name).toBe('Augusta Ada King');
    expect(body.changes.nameUpdated).toBe(true);
  });

  it('gives two people with the same name different usernames', async () => {
    d = await startDaemon();
    const one = await d.login({ subject: 's1', email: 'ada1@example.com', name: 'Ada Lovelace', groups: [] });
    const two = await d.login({ subject: 's2', email: 'ada2@example.com', name: 'Ada Lovelace', groups: [] });
    expect(one.body.user.username).toBe('ada.lovelace');
    expect(two.body.user.username).toMatch(/^ada\.lovelace\d{4}$/);
  });
});

describe('membership modes over HTTP', () => {
  it('reset removes a manual membership at the next login', async () => {
    d = await startDaemon({ provisioning: '  membership: reset' });
    const { body } = await d.login({ ...ada, groups: ['ENT_ORGA_ADMINS'] });
    const put = await d.call('PUT', `/v1/organizations/OrgB/groups/sonar-users/members/${body.user.id}`);
    expect(put.status).toBe(200);
    expect(put.body.memberships).toContainEqual({ organization: 'OrgB', group: 'sonar-users', source: 'manual' });
    const next = await d.login({ ...ada, groups: ['ENT_ORGA_ADMINS'] });
    expect(next.body.changes.removed).toEqual([
      { organization: 'OrgB', group: 'Members', source: 'default' },
      { organization: 'OrgB', group: 'sonar-users', source: 'manual' },
    ]);
    expect(next.body.organizations).toEqual(['OrgA']);
  });

  it('managed keeps the manual membership and removes what sync added', async () => {
    d = await startDaemon({ provisioning: '  membership: managed' });
    const { body } = await d.login({ ...ada, groups: ['ENT_ORGA_ADMINS'] });
    await d.call('PUT', `/v1/organizations/OrgB/groups/sonar-users/members/${body.user.id}`);
    const next = await d.login({ ...ada, groups: [] });
    expect(next.body.changes.removed).toEqual([
      { organization: 'OrgA', group: 'ENT_ORGA_ADMINS', source: 'sync' },
      { organization: 'OrgA', group: 'Members', source: 'default' },
    ]);
    expect(next.body.memberships).toEqual([
      { organization: 'OrgB', group: 'Members', source: 'default' },
      { organization: 'OrgB', group: 'sonar-users', source: 'manual' },
    ]);
  });
});

describe('who may sign in', () => {
  it('an allowed root group admits a member of its subgroup and refuses everybody else without an account', async () => {
    d = await startDaemon({ provisioning: '  allowedGroups: [my-gitlab-group]' });
    const member = await d.login({ subject: '00u6sub', email: 'sub@example.com', groups: ['my-gitlab-group/sub-group'] });
    expect(member.status).toBe(200);
    expect(member.body.memberships).toContainEqual({
      organization: 'Sonar',
      group: 'my-gitlab-group/sub-group',
      source: 'sync',
    });

    const outsider = await d.login({ ...ada, groups: ['ENT_ORGA_ADMINS', 'my-gitlab-group-2'] });
    expect(outsider.status).toBe(403);
    expect(outsider.body).toEqual({ decision: 'deny', reason: 'not_in_allowed_groups' });
    expect((await d.call('GET', '/v1/users?email=ada@example.com')).body.users).toEqual([]);
  });

  it('blocked sign-up refuses new accounts and admits existing ones', async () => {
    d = await startDaemon({
      provisioning: '  signUp: blocked',
      extra: '  - { id: open, type: file, path: ./directory.json, provisioning: { signUp: allowed } }',
    });
    const refused = await d.login({ ...ada, groups: [] });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ decision: 'deny', reason: 'signup_blocked' });
    expect(await d.daemon.store.countUsers()).toBe(0);

    // The account is created through another connector whose override allows sign-up...
    const created = await d.call('POST', '/v1/logins', { ...ada, connector: 'open', groups: [] });
    expect(created.body.user.created).toBe(true);
    // ...and is then admitted through the blocked one, found by email and linked.
    const admitted = await d.login({ ...ada, groups: ['developers'] });
    expect(admitted.status).toBe(200);
    expect(admitted.body.user).toMatchObject({ id: created.body.user.id, created: false });
    expect(admitted.body.changes.identityLinked).toBe(true);
  });

  it('with linkByEmail off, an email held by another account is a 409 conflict', async () => {
    d = await startDaemon({
      provisioning: '  linkByEmail: false',
      extra: '  - { id: other, type: file, path: ./directory.json }',
    });
    await d.login({ ...ada, groups: [] });
    const clash = await d.call('POST', '/v1/logins', { ...ada, connector: 'other', subject: 'x-1', groups: [] });
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('email_conflict');
    expect(await d.daemon.store.countUsers()).toBe(1);
  });
});

describe('invitations and the default organization', () => {
  it('accepts a pending invitation at login and adds its group', async () => {
    d = await startDaemon();
    const invite = await d.call('POST', '/v1/invitations', {
      organization: 'OrgB',
      email: 'ADA@example.com',
      group: 'sonar-users',
    });
    expect(invite.status).toBe(201);
    const { body } = await d.login({ ...ada, groups: [] });
    expect(body.changes.invitationsAccepted).toEqual([invite.body.id]);
    expect(body.memberships).toEqual([
      { organization: 'OrgB', group: 'Members', source: 'default' },
      { organization: 'OrgB', group: 'sonar-users', source: 'invitation' },
    ]);
    const again = await d.login({ ...ada, groups: [] });
    expect(again.body.changes.invitationsAccepted).toEqual([]);
    expect(again.body.memberships).toEqual(body.memberships);
  });

  it('puts a user who matches nothing in the default organization and team', async () => {
    d = await startDaemon({ provisioning: '  defaultOrganization: { organization: OrgB, group: developers }' });
    const { body } = await d.login({ ...ada, groups: ['unrelated'] });
    expect(body.memberships).toEqual([
      { organization: 'OrgB', group: 'Members', source: 'default' },
      { organization: 'OrgB', group: 'developers', source: 'fallback' },
    ]);
  });
});

describe('when the IdP is down', () => {
  async function warmThenBreak(provisioning: string) {
    d = await startDaemon({ provisioning });
    const warm = await d.login(ada);
    expect(warm.body.groups.source).toBe('live');
    unlinkSync(join(d.dir, 'directory.json'));
  }

  it('use-cache serves a stale cache entry and says so', async () => {
    await warmThenBreak('  staleAfter: 1ms\n  onIdpUnavailable: use-cache');
    await new Promise((r) => setTimeout(r, 5));
    const { status, body } = await d.login(ada);
    expect(status).toBe(200);
    expect(body.groups.source).toBe('stale-cache');
    expect(body.organizations).toEqual(['OrgA', 'OrgB']);
    const view = await d.call('GET', `/v1/users/${body.user.id}`);
    expect(view.body.syncState[0]).toMatchObject({ connector: 'demo', status: 'stale' });
    expect(view.body.syncState[0].lastError).toMatch(/directory\.json/);
  });

  it('deny refuses the login and keeps the memberships', async () => {
    await warmThenBreak('  staleAfter: 1ms\n  onIdpUnavailable: deny');
    await new Promise((r) => setTimeout(r, 5));
    const { status, body } = await d.login(ada);
    expect(status).toBe(403);
    expect(body).toEqual({ decision: 'deny', reason: 'idp_unavailable' });
    const users = await d.call('GET', '/v1/users?email=ada@example.com');
    expect(users.body.users[0].organizations).toEqual(['OrgA', 'OrgB']);
  });

  it('denies a first login with no cache at all, creating nothing', async () => {
    d = await startDaemon();
    unlinkSync(join(d.dir, 'directory.json'));
    const { status, body } = await d.login(ada);
    expect(status).toBe(403);
    expect(body.reason).toBe('idp_unavailable');
    expect(await d.daemon.store.countUsers()).toBe(0);
  });
});
