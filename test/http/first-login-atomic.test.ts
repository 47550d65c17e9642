import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * A first login whose later writes fail (here a trigger refuses the sync state, as a full disk
 * would) must never leave an account without its memberships: the account, its identity and its
 * memberships are one write, and the next login completes the rest.
 */

let t: TestDaemon;
afterEach(() => t?.stop());

const ADA = { connector: 'demo', subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };

it('a first login that fails after creating the account leaves it with its memberships, and the next login completes it', async () => {
  t = await startDaemon();
  expect((await t.call('POST', '/v1/invitations', { organization: 'Sonar', email: 'ada@example.com' })).status).toBe(201);

  const db = new Database(join(t.dir, 'jitsync.db'));
  try {
    db.exec(`CREATE TRIGGER refuse_sync_state BEFORE INSERT ON sync_states BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    const failed = await t.login(ADA);
    expect(failed.status).toBeGreaterThanOrEqual(500);

    const found = await t.call('GET', '/v1/users?email=ada@example.com');
    expect(found.body.users).toHaveLength(1);
    const account = await t.call('GET', `/v1/users/${found.body.users[0].id}`);
    expect(account.body.memberships.map((m: { organization: string; group: string }) => `${m.organization}/${m.group}`).sort()).toEqual([
      'OrgA/ENT_ORGA_ADMINS',
      'OrgA/Members',
      'OrgA/developers',
      'OrgB/Members',
      'OrgB/developers',
      'Sonar/sonar-users',
    ]);

    db.exec('DROP TRIGGER refuse_sync_state');
  } finally {
    db.close();
  }

  const next = await t.login(ADA);
  expect(next.status).toBe(200);
  expect(next.body.user.created).toBe(false);
  expect(next.body.memberships).toHaveLength(6);
  const after = await t.call('GET', `/v1/users/${next.body.user.id}`);
  expect(after.body.syncState).toMatchObject([{ connector: 'demo', subject: '00u1ada' }]);
});

it('a first login whose memberships cannot be written creates no account at all', async () => {
  t = await startDaemon();
  const db = new Database(join(t.dir, 'jitsync.db'));
  try {
    db.exec(`CREATE TRIGGER refuse_membership BEFORE INSERT ON memberships BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    expect((await t.login(ADA)).status).toBeGreaterThanOrEqual(500);
    expect((await t.call('GET', '/v1/users?email=ada@example.com')).body.users).toEqual([]);
    db.exec('DROP TRIGGER refuse_membership');
  } finally {
    db.close();
  }

  const next = await t.login(ADA);
  expect(next.status).toBe(200);
  expect(next.body.user.created).toBe(true);
  expect(next.body.memberships).toHaveLength(5);
});
