import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => d.stop());

it('50 concurrent first logins of one new person make one account and one set of memberships', async () => {
  const person = {
    subject: '00u9new',
    email: 'new.person@example.com',
    name: 'New Person',
    groups: ['developers', 'ENT_ORGA_ADMINS'],
  };
  const answers = await Promise.all(Array.from({ length: 50 }, () => d.login(person)));

  expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
  expect(new Set(answers.map((a) => a.body.user.id)).size).toBe(1);
  expect(answers.filter((a) => a.body.user.created)).toHaveLength(1);
  expect(await d.daemon.store.countUsers()).toBe(1);

  const expected = [
    { organization: 'OrgA', group: 'ENT_ORGA_ADMINS', source: 'sync' },
    { organization: 'OrgA', group: 'Members', source: 'default' },
    { organization: 'OrgA', group: 'developers', source: 'sync' },
    { organization: 'OrgB', group: 'Members', source: 'default' },
    { organization: 'OrgB', group: 'developers', source: 'sync' },
  ];
  for (const answer of answers) expect(answer.body.memberships).toEqual(expected);
  // Exactly one login applied the memberships; the others found them in place.
  expect(answers.filter((a) => a.body.changes.added.length > 0)).toHaveLength(1);
  const stored = await d.call('GET', `/v1/users/${answers[0]!.body.user.id}`);
  expect(stored.body.memberships).toEqual(expected);
});
