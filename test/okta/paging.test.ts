import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OktaDirectory, SEEDED_AT } from '../fakes/okta/index.js';
import type { FakeOkta } from '../fakes/okta/index.js';
import {
  allGroups,
  allMembers,
  callOptions,
  collect,
  newStats,
  oktaConnectorFor,
  onGroupsList,
  onMembersLists,
  startFakeOkta,
} from './helpers.js';

describe('Okta connector paging (real SDK against the fake org)', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();
  let bigGroupId = '';
  let emptyGroupId = '';

  beforeAll(async () => {
    for (let i = 0; i < 45; i++) directory.addGroup({ name: `team-${i}`, at: SEEDED_AT });
    directory.addGroup({ name: 'AD Admins', type: 'APP_GROUP', at: SEEDED_AT });
    directory.addGroup({ name: 'Everyone', type: 'BUILT_IN', at: SEEDED_AT });
    bigGroupId = directory.groups()[0]!.id;
    emptyGroupId = directory.groups()[1]!.id;
    for (let u = 0; u < 2345; u++) {
      const user = directory.addUser({ login: `u${u}@example.com`, firstName: 'U', lastName: String(u), at: SEEDED_AT });
      directory.addMember(bigGroupId, user.id, SEEDED_AT);
    }
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());
  afterEach(() => fake.server.resetLog());

  it('lists every group across pages with the fewest requests the page size allows', async () => {
    const connector = oktaConnectorFor(fake, { pageSize: 10 });
    const stats = newStats();
    const { items, pages } = await collect(connector.listGroups(callOptions(stats)));

    expect(items).toHaveLength(47);
    expect(new Set(items.map((g) => g.id)).size).toBe(47);
    expect(items.map((g) => g.name)).toEqual(directory.groups().map((g) => g.profile.name));
    expect(pages).toBe(5);
    expect(fake.apiCalls(onGroupsList)).toBe(Math.ceil(47 / 10));
    expect(stats).toEqual({ apiCalls: 5, pages: 5, retries: 0 });
    for (const request of fake.server.requests) {
      expect(request.headers.authorization).toBe(`SSWS ${fake.token}`);
      expect(request.query.get('limit')).toBe('10');
    }
  });

  it('uses the documented page size by default and follows the absolute next links', async () => {
    const connector = oktaConnectorFor(fake);
    expect(await allGroups(connector)).toHaveLength(47);
    expect(fake.apiCalls()).toBe(1);
    expect(fake.server.requests[0]!.query.get('limit')).toBe('200');
  });

  it('lists a large group across member pages', async () => {
    const connector = oktaConnectorFor(fake, { membersPageSize: 1000 });
    const stats = newStats();
    const members = await allMembers(connector, { id: bigGroupId, name: 'team-0' }, stats);

    expect(members).toHaveLength(2345);
    expect(new Set(members.map((m) => m.subject)).size).toBe(2345);
    expect(members[7]).toEqual({ subject: directory.user('u7@example.com')!.id, email: 'u7@example.com', name: 'U 7' });
    expect(fake.apiCalls(onMembersLists)).toBe(3);
    expect(stats).toEqual({ apiCalls: 3, pages: 3, retries: 0 });
  });

  it('yields no page for an empty group, after one request', async () => {
    const connector = oktaConnectorFor(fake);
    const { items, pages } = await collect(connector.listMembers({ id: emptyGroupId, name: 'team-1' }, callOptions()));
    expect(items).toEqual([]);
    expect(pages).toBe(0);
    expect(fake.apiCalls()).toBe(1);
  });

  it('skips an empty page that still has a next link (the SDK would yield null for it)', async () => {
    const connector = oktaConnectorFor(fake, { pageSize: 20 });
    // Okta may end a page early with nothing in it; its next link here re-asks for the first page.
    fake.server.inject({
      times: 1,
      response: (request) => ({
        status: 200,
        headers: { link: `<${fake.baseUrl}${request.path}?${request.query}>; rel="next"` },
        body: [],
      }),
    });
    const stats = newStats();
    const { items, pages } = await collect(connector.listGroups(callOptions(stats)));
    expect(items.map((g) => g.name)).toEqual(directory.groups().map((g) => g.profile.name));
    expect(items.every((g) => g !== null)).toBe(true);
    expect(pages).toBe(3);
    expect(stats).toEqual({ apiCalls: 4, pages: 4, retries: 0 });
  });

  it('asks Okta for the configured group types only', async () => {
    const connector = oktaConnectorFor(fake, { groupTypes: ['OKTA_GROUP', 'APP_GROUP'] });
    const groups = await allGroups(connector);
    expect(groups).toHaveLength(46);
    expect(groups.map((g) => g.name)).not.toContain('Everyone');
    expect(fake.server.requests[0]!.query.get('filter')).toBe('type eq "OKTA_GROUP" or type eq "APP_GROUP"');
  });
});
