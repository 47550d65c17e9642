import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startDaemon, type Answer, type TestDaemon } from '../support/daemon.js';

/**
 * A first login whose later writes fail (here a trigger refuses them, as a full disk would) must
 * never leave an account without its memberships: the account, its identity and its memberships
 * are one write, and the next login completes the rest (invitations, the `account.created`
 * audit entry, the sync state), each exactly once.
 */

let t: TestDaemon;
afterEach(() => t?.stop());

const ADA = { connector: 'demo', subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };
const ADA_MEMBERSHIPS = ['OrgA/ENT_ORGA_ADMINS', 'OrgA/Members', 'OrgA/developers', 'OrgB/Members', 'OrgB/developers'];

/** Runs `fn` while SQLite refuses every `operation` on `table`, as a full disk would refuse a write. */
async function withRefusingTrigger(table: string, operation: 'INSERT' | 'UPDATE', fn: () => Promise<void>): Promise<void> {
  const db = new Database(join(t.dir, 'jitsync.db'));
  try {
    db.exec(`CREATE TRIGGER refuse_${table} BEFORE ${operation} ON ${table} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    try {
      await fn();
    } finally {
      db.exec(`DROP TRIGGER refuse_${table}`);
    }
  } finally {
    db.close();
  }
}

/** A write the store refused is a 503 naming the cause, never a bare 500. */
async function expectStoreUnavailable(answer: Promise<Answer<{ error: { code: string } }>>): Promise<void> {
  const { status, body } = await answer;
  expect(status).toBe(503);
  expect(body.error.code).toBe('store_unavailable');
}

async function accountOf(email: string) {
  const found = await t.call('GET', `/v1/users?email=${encodeURIComponent(email)}`);
  expect(found.body.users).toHaveLength(1);
  return found.body.users[0];
}

const groupNames = (memberships: Array<{ organization: string; group: string }>) =>
  memberships.map((m) => `${m.organization}/${m.group}`).sort();

async function createdEntries(userId: string) {
  return (await t.daemon.store.listAudit({ userId })).filter((entry) => entry.action === 'account.created');
}

it('a first login that fails after creating the account leaves it with its memberships, and the next login completes it', async () => {
  t = await startDaemon();
  expect((await t.call('POST', '/v1/invitations', { organization: 'Sonar', email: 'ada@example.com' })).status).toBe(201);

  await withRefusingTrigger('sync_states', 'INSERT', async () => {
    await expectStoreUnavailable(t.login(ADA));
    const account = await accountOf('ada@example.com');
    expect(groupNames(account.memberships)).toEqual([...ADA_MEMBERSHIPS, 'Sonar/sonar-users'].sort());
    expect(account.syncState).toEqual([]);
  });

  const next = await t.login(ADA);
  expect(next.status).toBe(200);
  expect(next.body.user.created).toBe(false);
  expect(next.body.memberships).toHaveLength(6);
  const after = await t.call('GET', `/v1/users/${next.body.user.id}`);
  expect(after.body.syncState).toMatchObject([{ connector: 'demo', subject: '00u1ada' }]);
  // The audit entry came before the refused write: the repair does not write it again.
  expect(await createdEntries(next.body.user.id)).toHaveLength(1);
});

it('a first login whose audit entry is refused: the next login writes the account.created entry, once', async () => {
  t = await startDaemon();
  await withRefusingTrigger('audit', 'INSERT', async () => {
    await expectStoreUnavailable(t.login(ADA));
  });
  const account = await accountOf('ada@example.com');
  expect(account.syncState).toEqual([]);
  expect(await createdEntries(account.id)).toEqual([]);

  const next = await t.login(ADA);
  expect(next.status).toBe(200);
  expect(next.body.user).toMatchObject({ id: account.id, created: false });
  expect(await createdEntries(account.id)).toMatchObject([
    { actor: 'login:demo', userId: account.id, details: { repaired: true, memberships: account.memberships } },
  ]);
  expect((await t.call('GET', `/v1/users/${account.id}`)).body.syncState).toMatchObject([{ connector: 'demo', subject: '00u1ada' }]);

  // Finished now: a third login repairs nothing more.
  expect((await t.login(ADA)).status).toBe(200);
  expect(await createdEntries(account.id)).toHaveLength(1);
});

it('a first login whose invitation cannot be accepted: the invitation stays pending and the next login accepts it', async () => {
  t = await startDaemon();
  const invitation = await t.call('POST', '/v1/invitations', { organization: 'Sonar', email: 'ada@example.com' });
  expect(invitation.status).toBe(201);
  await withRefusingTrigger('invitations', 'UPDATE', async () => {
    await expectStoreUnavailable(t.login(ADA));
  });
  const account = await accountOf('ada@example.com');
  expect(groupNames(account.memberships)).toContain('Sonar/sonar-users');

  const next = await t.login(ADA);
  expect(next.status).toBe(200);
  expect(next.body.changes.invitationsAccepted).toEqual([invitation.body.id]);
  expect(await createdEntries(account.id)).toHaveLength(1);
  const again = await t.login(ADA);
  expect(again.body.changes.invitationsAccepted).toEqual([]);
});

it('a first login whose memberships cannot be written creates no account at all', async () => {
  t = await startDaemon();
  await withRefusingTrigger('memberships', 'INSERT', async () => {
    await expectStoreUnavailable(t.login(ADA));
    expect((await t.call('GET', '/v1/users?email=ada@example.com')).body.users).toEqual([]);
  });

  const next = await t.login(ADA);
  expect(next.status).toBe(200);
  expect(next.body.user.created).toBe(true);
  expect(next.body.memberships).toHaveLength(5);
});
