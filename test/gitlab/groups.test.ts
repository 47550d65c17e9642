import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLevel } from '../fakes/gitlab/directory.js';
import type { GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import { callOptions, calls, collect, connect, startGitlab } from './harness.js';

describe('GitLab connector: groups and members', () => {
  let fake: GitlabFake;
  beforeEach(async () => {
    fake = await startGitlab();
  });
  afterEach(() => fake.stop());

  function seedTree() {
    const d = fake.directory;
    d.addGroup({ fullPath: 'my-gitlab-group', name: 'My GitLab Group' });
    d.addGroup({ fullPath: 'my-gitlab-group/sub-group', name: 'Sub Group' });
    d.addGroup('my-gitlab-group/sub-group/deeper');
    d.addGroup('other-root');
    d.addGroup('other-root/team');
    const ada = d.addUser({ username: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' });
    const bob = d.addUser({ username: 'bob', name: 'Bob' });
    const eve = d.addUser({ username: 'eve', name: 'Eve' });
    d.addMember('my-gitlab-group', ada.id, AccessLevel.owner);
    d.addMember('my-gitlab-group/sub-group', bob.id, AccessLevel.developer);
    d.addMember('my-gitlab-group/sub-group/deeper', ada.id, AccessLevel.guest);
    d.addMember('my-gitlab-group', eve.id, AccessLevel.minimal);
    return { ada, bob, eve };
  }

  it('names groups by full path, subgroups included', async () => {
    seedTree();
    const groups = await collect(connect(fake).listGroups(callOptions()));
    expect(groups.map((g) => g.name).sort()).toEqual([
      'my-gitlab-group',
      'my-gitlab-group/sub-group',
      'my-gitlab-group/sub-group/deeper',
      'other-root',
      'other-root/team',
    ]);
    const sub = fake.directory.findGroupByPath('my-gitlab-group/sub-group')!;
    expect(groups).toContainEqual({ id: String(sub.id), name: 'my-gitlab-group/sub-group' });
  });

  it('with rootGroups lists only those groups and their descendants', async () => {
    seedTree();
    fake.server.resetLog();
    const groups = await collect(connect(fake, { rootGroups: ['my-gitlab-group'] }).listGroups(callOptions()));
    expect(groups.map((g) => g.name)).toEqual([
      'my-gitlab-group',
      'my-gitlab-group/sub-group',
      'my-gitlab-group/sub-group/deeper',
    ]);
    const root = fake.directory.findGroupByPath('my-gitlab-group')!;
    expect(calls(fake)).toEqual([
      '/api/v4/groups/my-gitlab-group?with_projects=false',
      `/api/v4/groups/${root.id}/descendant_groups?per_page=100&pagination=offset&page=1&all_available=true&order_by=id&sort=asc`,
    ]);
  });

  it('counts inherited members: a member of the root is a member of its subgroups', async () => {
    const { ada, bob } = seedTree();
    const connector = connect(fake);
    const group = (name: string) => ({ id: String(fake.directory.findGroupByPath(name)!.id), name });
    const subjects = async (name: string) =>
      (await collect(connector.listMembers(group(name), callOptions()))).map((u) => u.subject).sort();

    expect(await subjects('my-gitlab-group')).toEqual([String(ada.id)]);
    expect(await subjects('my-gitlab-group/sub-group')).toEqual([String(ada.id), String(bob.id)].sort());
    // Ada is a direct Guest of `deeper` and an inherited Owner: listed once.
    expect(await subjects('my-gitlab-group/sub-group/deeper')).toEqual([String(ada.id), String(bob.id)].sort());
    expect(await subjects('other-root')).toEqual([]);
    for (const call of fake.server.requests) expect(call.path).toMatch(/\/members\/all$/);
  });

  it('with recordNesting, flags members who hold the group only by inheritance, from its direct member list', async () => {
    const { ada, bob } = seedTree();
    const connector = connect(fake, { recordNesting: true });
    const group = (name: string) => ({ id: String(fake.directory.findGroupByPath(name)!.id), name });
    const nesting = async (name: string) =>
      Object.fromEntries((await collect(connector.listMembers(group(name), callOptions()))).map((m) => [m.subject, m.nested]));

    expect(await nesting('my-gitlab-group')).toEqual({ [ada.id]: false });
    expect(await nesting('my-gitlab-group/sub-group')).toEqual({ [ada.id]: true, [bob.id]: false });
    // Ada is also a direct (Guest) member of `deeper`: direct, though her level there is inherited.
    expect(await nesting('my-gitlab-group/sub-group/deeper')).toEqual({ [ada.id]: false, [bob.id]: true });
    // One direct and one inherited listing per group.
    expect(fake.server.requests.filter((r) => r.path.endsWith('/members'))).toHaveLength(3);
    expect(fake.server.requests.filter((r) => r.path.endsWith('/members/all'))).toHaveLength(3);
  });

  it('leaves out Minimal Access members, who cannot see the group', async () => {
    const { eve } = seedTree();
    const root = fake.directory.findGroupByPath('my-gitlab-group')!;
    const members = await collect(connect(fake).listMembers({ id: String(root.id), name: 'my-gitlab-group' }, callOptions()));
    expect(members.map((m) => m.subject)).not.toContain(String(eve.id));
  });

  it('returns members with email and name', async () => {
    const { ada } = seedTree();
    const root = fake.directory.findGroupByPath('my-gitlab-group')!;
    const members = await collect(connect(fake).listMembers({ id: String(root.id), name: 'my-gitlab-group' }, callOptions()));
    expect(members).toEqual([{ subject: String(ada.id), email: 'ada@example.com', name: 'Ada Lovelace' }]);
  });

  it('sends a full-path group id URL-encoded (top%2Fsub)', async () => {
    const { ada, bob } = seedTree();
    const members = await collect(
      connect(fake).listMembers({ id: 'my-gitlab-group/sub-group', name: 'my-gitlab-group/sub-group' }, callOptions()),
    );
    expect(members.map((m) => m.subject).sort()).toEqual([String(ada.id), String(bob.id)].sort());
    expect(fake.server.requests.map((r) => r.path)).toEqual(['/api/v4/groups/my-gitlab-group%2Fsub-group/members/all']);
  });

  it.each([
    { groups: 250, pageSize: 100, expected: 3 },
    { groups: 300, pageSize: 100, expected: 3 },
    { groups: 250, pageSize: 20, expected: 13 },
  ])('lists $groups groups in $expected requests at pageSize $pageSize', async ({ groups, pageSize, expected }) => {
    for (let i = 0; i < groups; i++) fake.directory.addGroup(`g${String(i).padStart(4, '0')}`);
    fake.server.resetLog();
    const options = callOptions();
    const pages: number[] = [];
    for await (const page of connect(fake, { pageSize }).listGroups(options)) pages.push(page.length);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(groups);
    expect(fake.server.count()).toBe(expected);
    expect(options.stats).toEqual({ apiCalls: expected, pages: expected, retries: 0 });
    expect(new Set(fake.server.requests.map((r) => r.query.get('page'))).size).toBe(expected);
  });

  it('lists a large group’s inherited members in the minimum number of requests', async () => {
    const d = fake.directory;
    d.addGroup('big');
    d.addGroup('big/team');
    for (let i = 0; i < 230; i++) d.addMember(i % 2 ? 'big' : 'big/team', d.addUser({ username: `u${i}` }).id);
    fake.server.resetLog();
    const options = callOptions();
    const members = await collect(
      connect(fake, { pageSize: 50 }).listMembers({ id: 'big/team', name: 'big/team' }, options),
    );
    expect(new Set(members.map((m) => m.subject)).size).toBe(230);
    expect(fake.server.count()).toBe(5);
    expect(options.stats).toMatchObject({ apiCalls: 5, pages: 5 });
  });

  it('offers no incremental feed: GitLab has no membership change feed', () => {
    const connector = connect(fake);
    expect('startCursor' in connector || 'changedGroups' in connector).toBe(false);
  });
});
