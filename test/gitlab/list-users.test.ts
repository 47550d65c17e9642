import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, hasUserListing, type Connector, type IdpUser, type UserListing } from '../../connectors/types.js';
import { AccessLevel, type FakeUser } from '../fakes/gitlab/directory.js';
import type { GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import type { LoggedRequest } from '../fakes/fake-server.js';
import { callOptions, calls, collect, connect, startGitlab } from './harness.js';

function lister(fake: GitlabFake, entry: Record<string, unknown> = {}): Connector & UserListing {
  const connector = connect(fake, entry);
  if (!hasUserListing(connector)) throw new Error('the GitLab connector does not list users');
  return connector;
}

async function pagesOf(pages: AsyncIterable<IdpUser[]>): Promise<IdpUser[][]> {
  const out: IdpUser[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** What `lookupUser` says of the user, without the groups. */
async function lookedUp(connector: Connector, user: FakeUser): Promise<IdpUser> {
  const found = await connector.lookupUser({ subject: String(user.id), email: user.email }, callOptions());
  if (!found) throw new Error(`lookupUser did not find ${user.username}`);
  return { subject: found.subject, email: found.email, name: found.name };
}

describe('GitLab connector: listUsers without rootGroups (GET /users, administrator)', () => {
  let fake: GitlabFake;
  let loner: FakeUser;
  beforeEach(async () => {
    fake = await startGitlab(); // root (id 1, admin) and plain (id 2)
    const d = fake.directory;
    d.addGroup('acme');
    for (let i = 0; i < 19; i++) {
      const user = d.addUser({ username: `user${i}`, name: `User ${i}` });
      if (i % 2 === 0) d.addMember('acme', user.id);
    }
    loner = d.addUser({ username: 'loner', name: 'Lone Wolf', email: 'lone.wolf@example.com' });
    d.addUser({ username: 'blocked', state: 'blocked' });
    fake.server.resetLog();
  });
  afterEach(() => fake.stop());

  it('lists every active user, oldest first, in the fewest pages', async () => {
    const options = callOptions();
    const pages = await pagesOf(lister(fake, { pageSize: 10 }).listUsers(options));

    const active = fake.directory.allUsers().filter((u) => u.state === 'active');
    expect(active).toHaveLength(22);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 2]);
    expect(pages.flat().map((u) => u.subject)).toEqual(active.map((u) => String(u.id)));
    expect(pages.flat()).toContainEqual({ subject: String(loner.id), email: 'lone.wolf@example.com', name: 'Lone Wolf' });
    expect(pages.flat().map((u) => u.name)).not.toContain('blocked');
    expect(fake.server.requests).toHaveLength(Math.ceil(22 / 10));
    for (const request of fake.server.requests) {
      expect(request.path).toBe('/api/v4/users');
      expect(request.query.get('active')).toBe('true');
      expect(request.query.get('sort')).toBe('asc');
      expect(request.query.get('per_page')).toBe('10');
    }
    expect(options.stats).toEqual({ apiCalls: 3, pages: 3, retries: 0 });
  });

  it('reports each user exactly as lookupUser does', async () => {
    const connector = lister(fake);
    const listed = new Map((await collect(connector.listUsers(callOptions()))).map((u) => [u.subject, u]));
    for (const user of [loner, fake.directory.user(1)!, fake.directory.allUsers()[5]!]) {
      expect(listed.get(String(user.id))).toEqual(await lookedUp(connector, user));
    }
  });

  it('5xx beyond the retries is a ConnectorError, never an empty list', async () => {
    fake.server.inject(fake.failing(503, { times: 10 }));
    const options = callOptions();
    const pages: IdpUser[][] = [];
    const failure = await failureOf(async () => {
      for await (const page of lister(fake, { maxRetries: 2 }).listUsers(options)) pages.push(page);
    });
    expect(failure).toBeInstanceOf(ConnectorError);
    expect(failure).toMatchObject({ kind: 'unreachable' });
    expect(pages).toEqual([]);
    expect(options.stats).toMatchObject({ apiCalls: 3, retries: 2 });
  });
});

describe('GitLab connector: listUsers with rootGroups (members of the trees)', () => {
  let fake: GitlabFake;
  const people: Record<string, FakeUser> = {};
  beforeEach(async () => {
    fake = await startGitlab();
    const d = fake.directory;
    for (const name of ['ada', 'bob', 'cy', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'zed']) {
      people[name] = d.addUser({ username: name, name: name.toUpperCase(), email: `${name}@example.com` });
    }
    d.addGroup('acme');
    d.addGroup('acme/sub');
    d.addGroup('acme/sub/deeper');
    d.addGroup('acme/other');
    d.addGroup('outside');
    for (const name of ['ada', 'bob', 'cy', 'dan']) d.addMember('acme', people[name]!.id);
    // Minimal Access: in the tree, in no group.
    d.addMember('acme', people.eve!.id, AccessLevel.minimal);
    d.addMember('acme/sub', people.fay!.id);
    d.addMember('acme/sub', people.ada!.id, AccessLevel.maintainer);
    for (const name of ['gus', 'hal', 'ivy', 'jon']) d.addMember('acme/other', people[name]!.id, AccessLevel.guest);
    d.addMember('outside', people.zed!.id);
    fake.server.resetLog();
  });
  afterEach(() => fake.stop());

  const inTree = ['ada', 'bob', 'cy', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon'];

  it("lists the root's members and those added in subgroups, once each, in the fewest requests", async () => {
    const options = callOptions();
    const users = (await pagesOf(lister(fake, { rootGroups: ['acme'], pageSize: 3 }).listUsers(options))).flat();

    expect(users.map((u) => u.name).sort()).toEqual(inTree.map((n) => n.toUpperCase()));
    expect(new Set(users.map((u) => u.subject)).size).toBe(users.length);
    const acme = fake.directory.findGroupByPath('acme')!;
    const id = (path: string) => fake.directory.findGroupByPath(path)!.id;
    // The root itself; members/all of the root (5 rows: 2 pages of 3); its 3 descendants (1 page);
    // direct members of each descendant: sub 1 page, deeper 1 (empty), other 2 (4 rows).
    expect(calls(fake).map((c) => c.split('?')[0])).toEqual([
      '/api/v4/groups/acme',
      `/api/v4/groups/${acme.id}/members/all`,
      `/api/v4/groups/${acme.id}/members/all`,
      `/api/v4/groups/${acme.id}/descendant_groups`,
      `/api/v4/groups/${id('acme/sub')}/members`,
      `/api/v4/groups/${id('acme/sub/deeper')}/members`,
      `/api/v4/groups/${id('acme/other')}/members`,
      `/api/v4/groups/${id('acme/other')}/members`,
    ]);
    expect(options.stats).toEqual({ apiCalls: 8, pages: 7, retries: 0 });
  });

  it('includes a Minimal Access member, who is in no group', async () => {
    const connector = lister(fake, { rootGroups: ['acme'] });
    const users = await collect(connector.listUsers(callOptions()));
    expect(users).toContainEqual({ subject: String(people.eve!.id), email: 'eve@example.com', name: 'EVE' });
    expect((await connector.lookupUser({ subject: String(people.eve!.id), email: '' }, callOptions()))?.groups).toEqual([]);
  });

  it('reports each user exactly as lookupUser and listMembers do', async () => {
    const connector = lister(fake, { rootGroups: ['acme'] });
    const listed = new Map((await collect(connector.listUsers(callOptions()))).map((u) => [u.subject, u]));
    for (const name of ['ada', 'eve', 'fay', 'jon']) {
      expect(listed.get(String(people[name]!.id))).toEqual(await lookedUp(connector, people[name]!));
    }
    const other = fake.directory.findGroupByPath('acme/other')!;
    for (const member of await collect(connector.listMembers({ id: String(other.id), name: 'acme/other' }, callOptions()))) {
      expect(listed.get(member.subject)).toEqual(member);
    }
  });

  it('a subgroup deleted during the listing is skipped; a 5xx on one is an error', async () => {
    const sub = fake.directory.findGroupByPath('acme/sub')!;
    const onSub = (r: LoggedRequest) => r.path === `/api/v4/groups/${sub.id}/members`;
    fake.server.inject({ match: onSub, times: 1, response: { status: 404, body: { message: '404 Group Not Found' } } });
    const without = await collect(lister(fake, { rootGroups: ['acme'] }).listUsers(callOptions()));
    expect(without.map((u) => u.name).sort()).toEqual(inTree.filter((n) => n !== 'fay').map((n) => n.toUpperCase()));

    fake.server.inject(fake.failing(500, { times: 10, match: onSub }));
    const seen: IdpUser[] = [];
    const failure = await failureOf(async () => {
      for await (const page of lister(fake, { rootGroups: ['acme'], maxRetries: 1 }).listUsers(callOptions())) seen.push(...page);
    });
    expect(failure).toBeInstanceOf(ConnectorError);
    expect(failure).toMatchObject({ kind: 'unreachable' });
    expect(seen.length).toBeGreaterThan(0);
  });
});

describe('fake GitLab: GET /users', () => {
  let fake: GitlabFake;
  beforeEach(async () => {
    fake = await startGitlab();
    fake.directory.addUser({ username: 'zoe', state: 'blocked' });
  });
  afterEach(() => fake.stop());

  const get = (query: string) =>
    fetch(`${fake.server.baseUrl}/api/v4/users${query}`, { headers: { 'private-token': 'glpat-admin-token' } });

  it('sorts by id, newest first by default; active=true leaves blocked users out; bad orders are refused', async () => {
    const ids = async (query: string) => ((await (await get(query)).json()) as { id: number }[]).map((u) => u.id);
    expect(await ids('')).toEqual([1000, 2, 1]);
    expect(await ids('?sort=asc')).toEqual([1, 2, 1000]);
    expect(await ids('?active=true&sort=asc')).toEqual([1, 2]);
    expect((await get('?order_by=email')).status).toBe(400);
    expect((await get('?sort=up')).status).toBe(400);
  });
});
