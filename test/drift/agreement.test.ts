import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScenario, type JsonItem, type Scenario } from './scenario.js';

let s: Scenario;
beforeAll(async () => {
  s = await buildScenario();
});
afterAll(async () => s?.d.stop());

const membership = (i: JsonItem) => ({ organization: i.organization, group: i.group, source: i.source });

async function pending(user: string) {
  const report = await s.d.call('GET', `/v1/drift?user=${encodeURIComponent(user)}&kind=pending_add,pending_remove`);
  expect(report.status).toBe(200);
  const items: JsonItem[] = report.body.items;
  return {
    added: items.filter((i) => i.kind === 'pending_add').map(membership),
    removed: items.filter((i) => i.kind === 'pending_remove').map(membership),
  };
}

describe('the drift report and the next login', () => {
  it('agree: the login changes exactly what the report said it would', async () => {
    const predicted = await pending('ada@example.com');
    expect(predicted.added.length + predicted.removed.length).toBeGreaterThan(0);

    const login = await s.d.login({ subject: '00u1ada', email: 'ada@example.com' });
    expect(login.status).toBe(200);
    expect(login.body.groups.source).toBe('cache');
    expect(login.body.changes.added).toEqual(predicted.added);
    expect(login.body.changes.removed).toEqual(predicted.removed);

    // Applied: nothing is pending any more, and the report's counts show the change since the run.
    expect(await pending('ada@example.com')).toEqual({ added: [], removed: [] });
    const report = await s.d.call('GET', '/v1/drift');
    expect(report.body.summary).toMatchObject({ pending_add: 0, pending_remove: 0 });
    expect(report.body.previousSummary).toMatchObject({ pending_add: 3, pending_remove: 1 });
  });

  it('agree when nothing is pending: the login changes nothing', async () => {
    expect(await pending('nora@example.com')).toEqual({ added: [], removed: [] });
    const login = await s.d.login({ subject: '00u8nora', email: 'nora@example.com' });
    expect(login.body.changes).toMatchObject({ added: [], removed: [] });
  });
});
