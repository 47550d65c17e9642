import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../mongo/databases.js';
import { answers } from '../support/api.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { CORE_GROUP, CORE_USER, PATCH_OP, scimBase } from './support.js';

/**
 * Push provisioning (`provisionOnPush: true`): a pushed user or membership change reaches the
 * account without a login, through the login's own decision, and the next login agrees with it.
 * Without the option, nothing happens before a login. Over real HTTP; no login anywhere unless
 * the test says so.
 */

const PUSH_TOKEN = 'scim-push-token-0123456789';
const LATER_TOKEN = 'scim-later-token-0123456789';
const connectors = (provisionOnPush: boolean) =>
  [
    `  - { id: push, type: scim, token: ${PUSH_TOKEN}, provisionOnPush: ${provisionOnPush} }`,
    `  - { id: later, type: scim, token: ${LATER_TOKEN} }`,
  ].join('\n');

async function scim(d: TestDaemon, connector: 'push' | 'later', method: string, path: string, body?: unknown) {
  const response = await fetch(`${scimBase(d)}/scim/v2/${connector}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${connector === 'push' ? PUSH_TOKEN : LATER_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const user = (subject: string, email: string, displayName: string) => ({
  schemas: [CORE_USER],
  externalId: subject,
  userName: email,
  displayName,
  emails: [{ primary: true, type: 'work', value: email }],
  active: true,
});

/** Pushes a user and a group holding it; returns their SCIM ids. */
async function pushUserInGroup(d: TestDaemon, connector: 'push' | 'later', subject: string, email: string, group: string) {
  const created = await scim(d, connector, 'POST', '/Users', user(subject, email, `${subject} Example`));
  expect(created.status).toBe(201);
  const pushed = await scim(d, connector, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: group, members: [{ value: created.body.id }] });
  expect(pushed.status).toBe(201);
  return { userId: created.body.id as string, groupId: pushed.body.id as string };
}

async function findUser(d: TestDaemon, email: string) {
  const found = await d.callExpecting(200, answers.users, 'GET', `/v1/users?email=${encodeURIComponent(email)}`);
  return found.users[0] ?? null;
}

type UserView = NonNullable<Awaited<ReturnType<typeof findUser>>>;

/** Polls the admin API until the user with `email` satisfies `done` (bounded: the queue is asynchronous). */
async function eventually(d: TestDaemon, email: string, done: (user: UserView | null) => boolean): Promise<UserView | null> {
  let last: UserView | null = null;
  for (let attempt = 0; attempt < 200; attempt++) {
    last = await findUser(d, email);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${email} never reached the expected state; last seen: ${JSON.stringify(last)}`);
}

/** Polls `/metrics` until the push connector's `name` gauge reads `value` (bounded). */
async function gaugeReaches(d: TestDaemon, name: string, value: number): Promise<void> {
  const line = new RegExp(`^${name}\\{connector="push"\\} ${value}$`, 'm');
  let metrics = '';
  for (let attempt = 0; attempt < 200 && !line.test(metrics); attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    metrics = await (await fetch(`${d.url}/metrics`)).text();
  }
  expect(metrics).toMatch(line);
}

const DEVELOPERS = [
  { organization: 'OrgA', group: 'developers', source: 'sync' },
  { organization: 'OrgB', group: 'developers', source: 'sync' },
];
const holdsDevelopers = (u: UserView | null) => u !== null && DEVELOPERS.every((m) => u.memberships.some((k) => k.organization === m.organization && k.group === m.group));
/** The push connector's sync state says these groups were applied: written last, so the audit is there too. */
const applied = (u: UserView | null, groups: string[]) =>
  u !== null && u.syncState.some((state) => state.connector === 'push' && JSON.stringify(state.appliedGroups) === JSON.stringify(groups));

// On both stores: the sync state's write that keeps `lastLoginAt` differs between them.
describe.each([
  ['sqlite', () => undefined],
  ['mongodb', () => freshDatabaseUrl('scim_push').url],
])('on %s', (_name, storeUrl) => {
  describe('push provisioning (provisionOnPush: true)', () => {
    let d: TestDaemon;
    beforeAll(async () => {
      const store = storeUrl();
      // On MongoDB, SCIM on its own listener (the SCIM thread), whose pushes cross to the background thread.
      d = await startDaemon({ extra: connectors(true), ...(store ? { store, server: '  scimListen: 127.0.0.1:0' } : {}) });
    });
    afterAll(async () => d?.stop());

    const ADA = { subject: 'push-ada', email: 'ada.push@example.com' };
    let scimIds = { userId: '', groupId: '' };
    let accountId = '';

    it('creates the account with its memberships before any login, audited as the SCIM connector', async () => {
      scimIds = await pushUserInGroup(d, 'push', ADA.subject, ADA.email, 'developers');
      const account = (await eventually(d, ADA.email, (u) => holdsDevelopers(u) && applied(u, ['developers'])))!;
      accountId = account.id;
      expect(account.memberships).toEqual(expect.arrayContaining(DEVELOPERS));
      expect(account.identities).toEqual([{ connector: 'push', subject: ADA.subject, scimId: scimIds.userId }]);

      const audit = await d.daemon.store.listAudit({ userId: accountId });
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.every((entry) => entry.actor === 'scim:push' && entry.details.trigger === 'push')).toBe(true);
      expect(audit.some((entry) => entry.action === 'account.created')).toBe(true);
    });

    it('records the sync state without a login time: the person never signed in', async () => {
      const view = await d.callExpecting(200, answers.user, 'GET', `/v1/users/${accountId}`);
      expect(view.syncState).toEqual([
        expect.objectContaining({ connector: 'push', subject: ADA.subject, appliedGroups: ['developers'], lastLoginAt: null, status: 'fresh', pendingAdd: [], pendingRemove: [] }),
      ]);
      expect(view.syncState[0]!.lastReconciledAt).not.toBeNull();
    });

    it('removes the membership when the group loses the member, without a login', async () => {
      const removed = await scim(d, 'push', 'PATCH', `/Groups/${scimIds.groupId}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'remove', path: `members[value eq "${scimIds.userId}"]` }],
      });
      expect(removed.status).toBe(200);
      const account = (await eventually(d, ADA.email, (u) => u !== null && !u.memberships.some((m) => m.group === 'developers') && applied(u, [])))!;
      expect(account.id).toBe(accountId);
      const audit = await d.daemon.store.listAudit({ userId: accountId });
      expect(audit).toContainEqual(expect.objectContaining({ actor: 'scim:push', action: 'account.reconciled', details: expect.objectContaining({ removed: expect.arrayContaining(DEVELOPERS), trigger: 'push' }) }));
    });

    it('a later login of the subject agrees: allowed, nothing to change', async () => {
      const answer = await d.signIn({ connector: 'push', subject: ADA.subject, email: ADA.email });
      expect(answer.user).toMatchObject({ id: accountId, created: false });
      expect(answer.changes).toEqual({ added: [], removed: [], invitationsAccepted: [], nameUpdated: false, identityLinked: false });
      expect(answer.groups).toMatchObject({ source: 'cache', names: [] });
    });

    it('links by email the account of a person who signed in through another connector', async () => {
      const demo = await d.signIn({ connector: 'demo', subject: '00u2grace', email: 'grace@example.com' });
      const created = await scim(d, 'push', 'POST', '/Users', user('push-grace', 'grace@example.com', 'Grace Hopper'));
      expect(created.status).toBe(201);
      const added = await scim(d, 'push', 'PATCH', `/Groups/${scimIds.groupId}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: created.body.id }] }],
      });
      expect(added.status).toBe(200);
      // Her push came before her group's: in between, the account may hold her push groups (none).
      const account = (await eventually(d, 'grace@example.com', (u) => holdsDevelopers(u) && applied(u, ['developers'])))!;
      expect(account.id).toBe(demo.user.id);
      expect(account.memberships).toEqual(expect.arrayContaining(DEVELOPERS));
      const audit = await d.daemon.store.listAudit({ userId: account.id });
      expect(audit).toContainEqual(expect.objectContaining({ actor: 'scim:push', details: expect.objectContaining({ identityLinked: true, trigger: 'push' }) }));
    });

    it('answers a group push of many members at once; each account is provisioned, once, and the queue drains', async () => {
      const members: { id: string; email: string }[] = [];
      for (let i = 0; i < 40; i++) {
        const email = `member-${i}@example.com`;
        const created = await scim(d, 'push', 'POST', '/Users', user(`push-member-${i}`, email, `Member ${i}`));
        members.push({ id: created.body.id, email });
      }
      const group = await scim(d, 'push', 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'sonar-users', members: members.map((m) => ({ value: m.id })) });
      expect(group.status).toBe(201);
      for (const member of members) {
        const account = (await eventually(d, member.email, (u) => applied(u, ['sonar-users']) && u!.memberships.some((m) => m.organization === 'OrgB' && m.group === 'sonar-users')))!;
        const created = (await d.daemon.store.listAudit({ userId: account.id })).filter((entry) => entry.action === 'account.created');
        expect(created).toHaveLength(1);
      }
      await gaugeReaches(d, 'jitsync_scim_push_queue_depth', 0);
    });

    it('without provisionOnPush, nothing reaches accounts before a login', async () => {
      const later = { subject: 'later-grace', email: 'grace.later@example.com' };
      await pushUserInGroup(d, 'later', later.subject, later.email, 'developers');
      // A push to the other connector, queued after the first: once it is applied, the first
      // connector's pushes have had every chance to reach an account.
      const marker = { subject: 'push-alan', email: 'alan.push@example.com' };
      await pushUserInGroup(d, 'push', marker.subject, marker.email, 'Team');
      await eventually(d, marker.email, (u) => u !== null && u.memberships.some((m) => m.organization === 'OrgA' && m.group === 'Team'));
      expect(await findUser(d, later.email)).toBeNull();

      const answer = await d.signIn({ connector: 'later', subject: later.subject, email: later.email });
      expect(answer.user.created).toBe(true);
      expect(answer.memberships).toEqual(expect.arrayContaining(DEVELOPERS));
    });
  });

  describe('push provisioning after a restart', () => {
    it('provisions at start what was pushed while the queue was not there (the start sweep)', async () => {
      // Pushed with the option off: the cache holds the user and its group, no account exists.
      const store = storeUrl();
      const before = await startDaemon({ extra: connectors(false), ...(store ? { store } : {}) });
      const EVE = { subject: 'push-eve', email: 'eve.push@example.com' };
      await pushUserInGroup(before, 'push', EVE.subject, EVE.email, 'developers');
      expect(await findUser(before, EVE.email)).toBeNull();
      await before.daemon.close();

      const after = await startDaemon({ dir: before.dir, extra: connectors(true), ...(store ? { store } : {}) });
      try {
        const account = (await eventually(after, EVE.email, (u) => holdsDevelopers(u) && applied(u, ['developers'])))!;
        expect(account.identities).toEqual([expect.objectContaining({ connector: 'push', subject: EVE.subject })]);
        expect(account.syncState).toEqual([expect.objectContaining({ connector: 'push', lastLoginAt: null })]);
      } finally {
        await after.stop();
      }
    });
  });
});

describe('push provisioning when the store refuses the write (SQLite)', () => {
  it('tries a failed subject again until it succeeds, without another push', async () => {
    const d = await startDaemon({ extra: connectors(true) });
    const other = new Database(join(d.dir, 'jitsync.db'));
    try {
      // Another connection makes every new account fail to write, as a broken store would.
      other.exec("CREATE TRIGGER refuse_accounts BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
      const MAE = { subject: 'push-mae', email: 'mae.push@example.com' };
      await pushUserInGroup(d, 'push', MAE.subject, MAE.email, 'developers');
      await gaugeReaches(d, 'jitsync_scim_push_failing', 1);
      expect(await findUser(d, MAE.email)).toBeNull();

      other.exec('DROP TRIGGER refuse_accounts');
      const account = (await eventually(d, MAE.email, (u) => holdsDevelopers(u) && applied(u, ['developers'])))!;
      expect(account.identities).toEqual([expect.objectContaining({ connector: 'push', subject: MAE.subject })]);
      await gaugeReaches(d, 'jitsync_scim_push_failing', 0);
      const created = (await d.daemon.store.listAudit({ userId: account.id })).filter((entry) => entry.action === 'account.created');
      expect(created).toHaveLength(1);
    } finally {
      other.close();
      await d.stop();
    }
  });
});
