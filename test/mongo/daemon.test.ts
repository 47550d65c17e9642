import { afterEach, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { freshDatabaseUrl } from './databases.js';

let d: TestDaemon;
afterEach(async () => d?.stop());

it('the daemon on MongoDB: login, pre-warm, restart, and the state is still there', async () => {
  const { url } = freshDatabaseUrl('daemon');
  d = await startDaemon({ store: url });
  expect((await d.call('GET', '/readyz', undefined, null)).body.store).toMatch(/mongo|ferret/i);

  const login = await d.login({ subject: '00u1ada', email: 'Ada@Example.com', name: 'Ada Lovelace' });
  expect(login.status).toBe(200);
  expect(login.body.organizations).toEqual(['OrgA', 'OrgB']);
  const started = await d.call('POST', '/v1/prewarm', { connector: 'demo' });
  expect(started.status).toBe(202);
  const runId: string = started.body.runs[0].id;
  let run = await d.call('GET', `/v1/prewarm/${runId}`);
  while (run.body.state === 'running') {
    await new Promise((r) => setTimeout(r, 50));
    run = await d.call('GET', `/v1/prewarm/${runId}`);
  }
  expect(run.body).toMatchObject({ state: 'succeeded', figures: { users: 4 } });

  d = await d.restart();
  const user = await d.call('GET', `/v1/users/${login.body.user.id}`);
  expect(user.body).toMatchObject({
    email: 'ada@example.com',
    memberships: login.body.memberships,
    syncState: [{ connector: 'demo', status: 'fresh' }],
  });
  expect((await d.call('GET', `/v1/prewarm/${runId}`)).body.state).toBe('succeeded');
  const again = await d.login({ subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' });
  expect(again.body).toMatchObject({ user: { id: login.body.user.id, created: false }, groups: { source: 'cache' } });
  expect(again.body.changes.added).toEqual([]);
});
