import { afterEach, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { prewarm } from './scenario.js';

/**
 * `GET /v1/users/{id}` shows each connector's pending changes as the login's decision makes them
 * when the view is read: writes after the last pre-warm run (a manual membership, an invitation,
 * disabling the user) show at once, and a user the login refuses has nothing pending.
 */

let d: TestDaemon;
afterEach(() => d?.stop());

const ADA = { subject: '00u1ada', email: 'ada@example.com' };
const refs = (memberships: Array<{ organization: string; group: string; source: string }>) =>
  memberships.map((m) => `${m.organization}/${m.group} ${m.source}`);

it('derives the pending changes when read, from the account, the cache, invitations and the settings as they are now', async () => {
  d = await startDaemon();
  const first = await d.login({ ...ADA, groups: ['ENT_ORGA_ADMINS'] });
  expect(first.status).toBe(200);
  const userId: string = first.body.user.id;
  await prewarm(d, 'demo');
  const pending = async () => {
    const view = await d.call('GET', `/v1/users/${userId}`);
    expect(view.status).toBe(200);
    const [state] = view.body.syncState;
    return { added: refs(state.pendingAdd), removed: refs(state.pendingRemove) };
  };
  expect(await pending()).toEqual({ added: ['OrgA/developers sync', 'OrgB/Members default', 'OrgB/developers sync'], removed: [] });

  // After the run: a manual membership (the reset drops it) and an invitation (the login accepts it).
  expect((await d.call('PUT', `/v1/organizations/OrgA/groups/Team/members/${userId}`)).status).toBe(200);
  expect((await d.call('POST', '/v1/invitations', { organization: 'Sonar', email: 'ada@example.com' })).status).toBe(201);
  const predicted = await pending();
  expect(predicted).toEqual({
    added: ['OrgA/developers sync', 'OrgB/Members default', 'OrgB/developers sync', 'Sonar/sonar-users invitation'],
    removed: ['OrgA/Team manual'],
  });

  // Disabled: the login is refused, so nothing is pending.
  expect((await d.call('PATCH', `/v1/users/${userId}`, { disabled: true })).status).toBe(200);
  expect(await pending()).toEqual({ added: [], removed: [] });
  expect((await d.login(ADA)).body).toEqual({ decision: 'deny', reason: 'user_disabled' });

  // Enabled again: the login does what the view said, and nothing is pending after it.
  expect((await d.call('PATCH', `/v1/users/${userId}`, { disabled: false })).status).toBe(200);
  const login = await d.login(ADA);
  expect({ added: refs(login.body.changes.added), removed: refs(login.body.changes.removed) }).toEqual(predicted);
  expect(await pending()).toEqual({ added: [], removed: [] });
});
