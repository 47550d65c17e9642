import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CachedUser } from '../store/types.js';
import { startDaemon, type TestDaemon } from './support/daemon.js';

/**
 * The drift model and pre-warm runs live on the background thread, with its own store connection:
 * a report being built never holds up a login, and the thread learns of every write the daemon
 * commits (its own included, which the login thread makes for it) from change events.
 */

let d: TestDaemon;
afterEach(async () => d?.stop());

const ada = { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };

function cachedUsers(count: number): CachedUser[] {
  const at = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    connector: 'demo',
    subject: `bulk-${i}`,
    email: `bulk-${i}@example.com`,
    name: null,
    groups: [`team-${i % 50}`],
    nestedGroups: [],
    fetchedAt: at,
    origin: 'prewarm' as const,
    absentSince: null,
  }));
}

describe('the background thread', () => {
  it('answers a login while the first report builds its model', async () => {
    d = await startDaemon();
    await d.daemon.store.putCachedUsers(cachedUsers(30_000));

    const finished: string[] = [];
    const report = d.call('GET', '/v1/drift?kind=no_organization&limit=1').then((answer) => {
      finished.push('drift');
      return answer;
    });
    // Let the report's request reach the daemon before the login does.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const login = await d.login(ada);
    finished.push('login');

    expect(login.status).toBe(200);
    const answer = await report;
    expect(answer.status).toBe(200);
    expect(answer.body.summary.no_organization).toBe(30_000);
    expect(finished).toEqual(['login', 'drift']);
  });

  it("reflects the daemon's own writes at once, and another process's writes too", async () => {
    d = await startDaemon();
    const before = await d.call('GET', '/v1/drift?kind=pending_add');
    expect(before.body.total).toBe(0);

    // The daemon's write: an account, folded into the kept model through a change event.
    const { body } = await d.login(ada);
    expect((await d.call('PUT', `/v1/organizations/OrgB/groups/sonar-users/members/${body.user.id}`)).status).toBe(200);
    const pendingRemove = await d.call('GET', '/v1/drift?kind=pending_remove');
    expect(pendingRemove.body.items.map((i: { group: string }) => i.group)).toEqual(['sonar-users']);

    // Another process's write (no change event): seen through the store's change token.
    const other = new Database(join(d.dir, 'jitsync.db'));
    try {
      other.prepare('DELETE FROM memberships WHERE user_id = ? AND group_name = ?').run(body.user.id, 'sonar-users');
    } finally {
      other.close();
    }
    expect((await d.call('GET', '/v1/drift?kind=pending_remove')).body.total).toBe(0);
  });
});
