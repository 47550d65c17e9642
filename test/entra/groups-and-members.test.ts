import { afterEach, describe, expect, test } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import type { FakeEntra } from '../fakes/entra/fake-entra.js';
import { callOptions, collect, startEntra } from './harness.js';

let fake: FakeEntra | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

describe('entra connector: groups', () => {
  test('lists every group across pages with the fewest requests the page size allows', async () => {
    const started = await startEntra({}, { pageSize: 4 });
    fake = started.fake;
    for (let i = 0; i < 10; i++) fake.directory.addGroup({ displayName: `team-${i}` });
    const options = callOptions();

    const pages = await collect(started.connector.listGroups(options));

    expect(pages.map((p) => p.length)).toEqual([4, 4, 2]);
    expect(pages.flat()).toEqual(fake.directory.listGroups().map((g) => ({ id: g.id, name: g.displayName })));
    const calls = fake.graphCalls('/v1.0/groups');
    expect(calls).toHaveLength(3);
    expect(calls.every((r) => r.query.get('$top') === '4' && r.query.get('$select') === 'id,displayName')).toBe(true);
    expect(options.stats).toEqual({ apiCalls: 3, pages: 3, retries: 0 });
    // One token for the whole listing: the credential caches it.
    expect(fake.server.count((r) => r.path.endsWith('/oauth2/v2.0/token'))).toBe(1);
  });

  test('the default page size is Graph maximum of 999: 1,000 groups take two requests', async () => {
    const started = await startEntra();
    fake = started.fake;
    for (let i = 0; i < 1000; i++) fake.directory.addGroup({ id: `g-${i}`, displayName: `group ${i}` });
    const options = callOptions();

    const pages = await collect(started.connector.listGroups(options));

    expect(pages.map((p) => p.length)).toEqual([999, 1]);
    expect(new Set(pages.flat().map((g) => g.id)).size).toBe(1000);
    expect(fake.graphCalls('/v1.0/groups')).toHaveLength(2);
    expect(options.stats.apiCalls).toBe(2);
  });
});

describe('entra connector: members', () => {
  test('nested groups are flattened: every user below the group once, no groups', async () => {
    const started = await startEntra({}, { pageSize: 2 });
    fake = started.fake;
    const d = fake.directory;
    const [ada, bob, cy, dee, eve, outsider] = ['ada', 'bob', 'cy', 'dee', 'eve', 'out'].map((n) =>
      d.addUser({ userPrincipalName: `${n}@example.com`, displayName: n.toUpperCase() }),
    );
    const sre = d.addGroup({ displayName: 'SRE', members: [eve!.id, ada!.id] });
    const platform = d.addGroup({ displayName: 'Platform', members: [cy!.id, dee!.id, sre.id] });
    const engineering = d.addGroup({ displayName: 'Engineering', members: [ada!.id, bob!.id, platform.id] });
    d.addGroup({ displayName: 'Other', members: [outsider!.id] });
    const options = callOptions();

    const pages = await collect(started.connector.listMembers({ id: engineering.id, name: 'Engineering' }, options));

    const users = pages.flat();
    expect(users.map((u) => u.subject).sort()).toEqual([ada!.id, bob!.id, cy!.id, dee!.id, eve!.id].sort());
    expect(users.find((u) => u.subject === cy!.id)).toEqual({ subject: cy!.id, email: 'cy@example.com', name: 'CY' });
    // 7 objects below Engineering (5 users, 2 groups) at 2 per page: 4 requests.
    expect(fake.graphCalls(`/v1.0/groups/${engineering.id}/transitiveMembers`)).toHaveLength(4);
    expect(options.stats.pages).toBe(4);
  });

  test('with recordNesting, each member says whether it is in the group only through nesting', async () => {
    const started = await startEntra({}, { pageSize: 2, recordNesting: true });
    fake = started.fake;
    const d = fake.directory;
    const [ada, bob, cy] = ['ada', 'bob', 'cy'].map((n) => d.addUser({ userPrincipalName: `${n}@example.com`, displayName: n.toUpperCase() }));
    const platform = d.addGroup({ displayName: 'Platform', members: [cy!.id, ada!.id] });
    const engineering = d.addGroup({ displayName: 'Engineering', members: [ada!.id, bob!.id, platform.id] });
    const options = callOptions();

    const users = (await collect(started.connector.listMembers({ id: engineering.id, name: 'Engineering' }, options))).flat();

    // ada is in Engineering directly and through Platform: direct.
    expect(Object.fromEntries(users.map((u) => [u.subject, u.nested]))).toEqual({ [ada!.id]: false, [bob!.id]: false, [cy!.id]: true });
    // 3 direct members (2 users, 1 group) and 4 objects below, at 2 per page: 2 + 2 requests.
    expect(fake.graphCalls(`/v1.0/groups/${engineering.id}/members`)).toHaveLength(2);
    expect(fake.graphCalls(`/v1.0/groups/${engineering.id}/transitiveMembers`)).toHaveLength(2);
    expect(options.stats.apiCalls).toBe(4);
  });

  test('without recordNesting, members carry no nesting flag and no direct listing is read', async () => {
    const started = await startEntra();
    fake = started.fake;
    const ada = fake.directory.addUser({ userPrincipalName: 'ada@example.com', displayName: 'ADA' });
    const inner = fake.directory.addGroup({ displayName: 'inner', members: [ada.id] });
    const outer = fake.directory.addGroup({ displayName: 'outer', members: [inner.id] });

    const users = (await collect(started.connector.listMembers({ id: outer.id, name: 'outer' }, callOptions()))).flat();

    expect(users).toEqual([{ subject: ada.id, email: 'ada@example.com', name: 'ADA' }]);
    expect(fake.graphCalls(`/v1.0/groups/${outer.id}/members`)).toHaveLength(0);
  });

  test('a user without mail keeps a null email; a group of groups without users has no members', async () => {
    const started = await startEntra();
    fake = started.fake;
    const nomail = fake.directory.addUser({ userPrincipalName: 'svc@example.com', mail: null, displayName: 'Service' });
    const inner = fake.directory.addGroup({ displayName: 'inner' });
    const outer = fake.directory.addGroup({ displayName: 'outer', members: [inner.id] });
    const holder = fake.directory.addGroup({ displayName: 'holder', members: [nomail.id] });

    expect((await collect(started.connector.listMembers({ id: outer.id, name: 'outer' }, callOptions()))).flat()).toEqual([]);
    expect((await collect(started.connector.listMembers({ id: holder.id, name: 'holder' }, callOptions()))).flat()).toEqual([
      { subject: nomail.id, email: null, name: 'Service' },
    ]);
  });

  test('members of a group Graph does not know is an error, not an empty list', async () => {
    const started = await startEntra();
    fake = started.fake;

    const error = await collect(started.connector.listMembers({ id: 'gone', name: 'gone' }, callOptions())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'bad_response' });
  });
});
