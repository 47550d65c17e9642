import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import { AccessLevel } from '../fakes/gitlab/directory.js';
import type { GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import { callOptions, connect, startGitlab, USER_TOKEN } from './harness.js';

describe('GitLab connector: lookupUser', () => {
  let fake: GitlabFake;
  beforeEach(async () => {
    fake = await startGitlab();
    const d = fake.directory;
    d.addGroup('my-gitlab-group');
    d.addGroup('my-gitlab-group/sub-group');
    d.addGroup('my-gitlab-group/sub-group/deeper');
    d.addGroup('my-gitlab-group/other-sub');
    d.addGroup('second');
    d.addGroup('second/leaf');
    d.addGroup('unrelated');
  });
  afterEach(() => fake.stop());

  const lookup = (subject: string, entry: Record<string, unknown> = {}, options = callOptions()) =>
    connect(fake, entry).lookupUser({ subject, email: 'someone@example.com' }, options);

  it('returns direct groups plus every subgroup below them, marking the inherited ones', async () => {
    const d = fake.directory;
    const ada = d.addUser({ username: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' });
    d.addMember('my-gitlab-group', ada.id, AccessLevel.developer);
    d.addMember('my-gitlab-group/sub-group', ada.id, AccessLevel.maintainer);
    d.addMember('second/leaf', ada.id, AccessLevel.guest);

    expect(await lookup(String(ada.id))).toEqual({
      subject: String(ada.id),
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      groups: [
        'my-gitlab-group',
        'my-gitlab-group/other-sub',
        'my-gitlab-group/sub-group',
        'my-gitlab-group/sub-group/deeper',
        'second/leaf',
      ],
      nestedGroups: ['my-gitlab-group/other-sub', 'my-gitlab-group/sub-group/deeper'],
    });
  });

  it('costs: the user, their memberships, one descendant listing per direct subtree, a group read per leaf', async () => {
    const d = fake.directory;
    const ada = d.addUser({ username: 'ada' });
    const root = d.findGroupByPath('my-gitlab-group')!;
    const sub = d.findGroupByPath('my-gitlab-group/sub-group')!;
    const leaf = d.findGroupByPath('second/leaf')!;
    d.addMember(root.id, ada.id);
    d.addMember(sub.id, ada.id); // inside root's subtree: no call of its own
    d.addMember(leaf.id, ada.id); // no subgroups: its full path needs GET /groups/:id
    fake.server.resetLog();
    const options = callOptions();
    await lookup(String(ada.id), {}, options);
    expect(fake.server.requests.map((r) => r.path)).toEqual([
      `/api/v4/users/${ada.id}`,
      `/api/v4/users/${ada.id}/memberships`,
      `/api/v4/groups/${root.id}/descendant_groups`,
      `/api/v4/groups/${leaf.id}/descendant_groups`,
      `/api/v4/groups/${leaf.id}`,
    ]);
    expect(fake.server.requests[1]!.query.get('type')).toBe('Namespace');
    expect(options.stats.apiCalls).toBe(5);
  });

  it('is null for a subject GitLab does not know, without calls for a non-numeric one', async () => {
    expect(await lookup('424242')).toBeNull();
    fake.server.resetLog();
    expect(await lookup('not-a-gitlab-id')).toBeNull();
    expect(fake.server.count()).toBe(0);
  });

  it('returns no groups for a user with no memberships (a real answer, not a failure)', async () => {
    const loner = fake.directory.addUser({ username: 'loner' });
    expect(await lookup(String(loner.id))).toMatchObject({ groups: [], nestedGroups: [] });
  });

  it('with rootGroups keeps only groups under those roots', async () => {
    const d = fake.directory;
    const ada = d.addUser({ username: 'ada' });
    d.addMember('my-gitlab-group/sub-group', ada.id);
    d.addMember('unrelated', ada.id);
    const result = await lookup(String(ada.id), { rootGroups: ['my-gitlab-group'] });
    expect(result?.groups).toEqual(['my-gitlab-group/sub-group', 'my-gitlab-group/sub-group/deeper']);
    expect(result?.nestedGroups).toEqual(['my-gitlab-group/sub-group/deeper']);
  });

  it('ignores Minimal Access memberships', async () => {
    const d = fake.directory;
    const eve = d.addUser({ username: 'eve' });
    d.addMember('my-gitlab-group', eve.id, AccessLevel.minimal);
    expect((await lookup(String(eve.id)))?.groups).toEqual([]);
  });

  it('needs an administrator token: anything else fails with auth_failed, never "no groups"', async () => {
    const ada = fake.directory.addUser({ username: 'ada' });
    fake.directory.addMember('my-gitlab-group', ada.id);
    const failure = await lookup(String(ada.id), { token: USER_TOKEN }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConnectorError);
    expect(failure).toMatchObject({ kind: 'auth_failed' });
    expect(String(failure)).toMatch(/administrator/);
  });
});
