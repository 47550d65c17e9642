import { afterEach, expect, inject, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { freshDatabaseUrl } from './databases.js';

let d: TestDaemon;
afterEach(async () => d?.stop());

it('the daemon on MongoDB: login, pre-warm, restart, and the state is still there', async () => {
  const { url } = freshDatabaseUrl('daemon');
  d = await startDaemon({ store: url });
  const ready = await d.call('GET', '/readyz', undefined, null);
  expect(ready.status).toBe(200);
  // Which server, and which write path it gets, for an operator.
  expect(ready.body).toMatchObject({ status: 'ready', writeMode: inject('mongoWriteMode') });
  expect(ready.body.server).toMatch(/^(MongoDB|FerretDB) /);
  expect(ready.body.store).toContain(`${ready.body.server}, ${inject('mongoWriteMode')} writes, database `);

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

it('50 concurrent first logins of one new person on MongoDB: every answer 200, one account, one set of memberships', async () => {
  const { url } = freshDatabaseUrl('daemon_race');
  d = await startDaemon({ store: url });
  const person = { subject: '00u9new', email: 'new.person@example.com', name: 'New Person', groups: ['developers', 'ENT_ORGA_ADMINS'] };
  const answers = await Promise.all(Array.from({ length: 50 }, () => d.login(person)));

  // A lost race is the store's to retry: no 409, and never a 500.
  expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
  expect(new Set(answers.map((a) => a.body.user.id)).size).toBe(1);
  expect(answers.filter((a) => a.body.user.created)).toHaveLength(1);
  expect(await d.daemon.store.countUsers()).toBe(1);
  const stored = await d.call('GET', `/v1/users/${answers[0]!.body.user.id}`);
  for (const answer of answers) expect(answer.body.memberships).toEqual(stored.body.memberships);
  expect(stored.body.memberships).toHaveLength(5);
});
