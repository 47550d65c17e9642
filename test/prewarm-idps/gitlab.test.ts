import { afterEach, describe, expect, it } from 'vitest';
import { AccessLevel } from '../fakes/gitlab/directory.js';
import { createGitlabFake, type GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import {
  expectedMemberships,
  jitsync,
  sortedMemberships,
  startDaemon,
  summaryOf,
  writeConfig,
  type OrganizationSeed,
  type RunningDaemon,
  type Workspace,
} from './support.js';

const ADMIN_TOKEN = 'glpat-prewarm-admin-token';

const ORGANIZATIONS: OrganizationSeed[] = [
  { key: 'Sonar', defaultGroup: 'sonar-users', groups: ['my-gitlab-group', 'my-gitlab-group/sub-group'] },
  { key: 'Elsewhere', groups: ['other-group'] },
];

let fake: GitlabFake | undefined;
let workspace: Workspace | undefined;
let daemon: RunningDaemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await fake?.stop();
  fake = undefined;
  workspace?.remove();
  workspace = undefined;
});

/**
 * lead: developer of my-gitlab-group, so of its sub-group too (inherited); sub: only in the
 * sub-group; watcher: Minimal Access to the root (in scope, in no group); outsider: a group
 * outside `rootGroups`.
 */
async function startSeeded(): Promise<{ fake: GitlabFake; ids: Record<'lead' | 'sub' | 'watcher' | 'outsider', string> }> {
  const started = createGitlabFake();
  const d = started.directory;
  const root = d.addUser({ username: 'root', name: 'Administrator', admin: true, id: 1 });
  d.addToken(ADMIN_TOKEN, root.id);
  d.addGroup('my-gitlab-group');
  d.addGroup('my-gitlab-group/sub-group');
  d.addGroup('other-group');
  const lead = d.addUser({ username: 'lead', name: 'Lea Lead' });
  const sub = d.addUser({ username: 'sub', name: 'Sub Member' });
  const watcher = d.addUser({ username: 'watcher', name: 'Wat Cher' });
  const outsider = d.addUser({ username: 'outsider', name: 'Out Sider' });
  d.addMember('my-gitlab-group', lead.id, AccessLevel.developer);
  d.addMember('my-gitlab-group/sub-group', sub.id, AccessLevel.reporter);
  d.addMember('my-gitlab-group', watcher.id, AccessLevel.minimal);
  d.addMember('other-group', outsider.id, AccessLevel.maintainer);
  await started.start();
  return {
    fake: started,
    ids: { lead: String(lead.id), sub: String(sub.id), watcher: String(watcher.id), outsider: String(outsider.id) },
  };
}

describe('pre-warm from GitLab', () => {
  it('jitsync prewarm caches full paths with inherited members; the next login needs no GitLab request', async () => {
    const seeded = await startSeeded();
    fake = seeded.fake;
    const { ids } = seeded;
    workspace = writeConfig({
      connector: { id: 'gitlab', type: 'gitlab', url: fake.server.baseUrl, token: ADMIN_TOKEN, rootGroups: ['my-gitlab-group'] },
      organizations: ORGANIZATIONS,
    });

    const cli = await jitsync(['prewarm', '--config', workspace.configPath]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(summaryOf(cli.stdout)).toMatchObject({
      connector: 'gitlab',
      mode: 'full',
      state: 'succeeded',
      'api calls': String(fake.server.requests.length),
      retries: '0',
      groups: '2', // the root and its sub-group; other-group is out of scope
      users: '3', // lead, sub, and watcher (Minimal Access: in scope, in no group)
      memberships: '3', // root: lead; sub-group: lead (inherited), sub
      'marked absent': '0',
    });

    fake.server.resetLog();
    daemon = await startDaemon(workspace.configPath);
    const lead = await daemon.login({ connector: 'gitlab', subject: ids.lead, email: 'lead@example.com' });
    expect(lead.status).toBe(200);
    expect(lead.body.groups.source).toBe('cache');
    expect(fake.server.requests).toHaveLength(0);
    expect([...lead.body.groups.names].sort()).toEqual(['my-gitlab-group', 'my-gitlab-group/sub-group']);
    expect(sortedMemberships(lead.body.memberships)).toEqual(
      expectedMemberships(ORGANIZATIONS, ['my-gitlab-group', 'my-gitlab-group/sub-group']),
    );

    const sub = await daemon.login({ connector: 'gitlab', subject: ids.sub, email: 'sub@example.com' });
    expect(sub.body.groups).toMatchObject({ source: 'cache', names: ['my-gitlab-group/sub-group'] });
    expect(sortedMemberships(sub.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['my-gitlab-group/sub-group']));

    const watcher = await daemon.login({ connector: 'gitlab', subject: ids.watcher, email: 'watcher@example.com' });
    expect(watcher.body.groups).toMatchObject({ source: 'cache', names: [] });
    expect(watcher.body.memberships).toEqual([]);
    expect(fake.server.requests).toHaveLength(0);

    // Outside rootGroups: pre-warm never cached the outsider.
    expect(await daemon.daemon.store.getCachedUser('gitlab', ids.outsider)).toBeNull();
  });

  it('recordNesting: pre-warm records inherited memberships, for one direct members call per group', async () => {
    const seeded = await startSeeded();
    fake = seeded.fake;
    const { ids } = seeded;
    const entry = { id: 'gitlab', type: 'gitlab', url: fake.server.baseUrl, token: ADMIN_TOKEN, rootGroups: ['my-gitlab-group'] };
    const directListings = () => fake!.server.requests.filter((r) => /^\/api\/v4\/groups\/[^/]+\/members$/.test(r.path));
    const membersAll = () => fake!.server.requests.filter((r) => /\/members\/all$/.test(r.path));

    // Off by default: the run learns nothing of inheritance.
    workspace = writeConfig({ connector: entry, organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const plain = await daemon.daemon.prewarm.run('gitlab');
    expect(plain).toMatchObject({ state: 'succeeded', mode: 'full' });
    expect(plain.figures.apiCalls).toBe(fake.server.requests.length);
    const plainDirect = directListings().length; // listUsers reads each subgroup's direct members
    expect(await daemon.daemon.store.getCachedUser('gitlab', ids.lead)).toMatchObject({ nestedGroups: [] });
    await daemon.stop();
    workspace.remove();

    fake.server.resetLog();
    workspace = writeConfig({ connector: { ...entry, recordNesting: true }, organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;
    const nesting = await prewarm.run('gitlab');
    expect(nesting).toMatchObject({ state: 'succeeded', mode: 'full' });
    expect(nesting.figures.apiCalls).toBe(fake.server.requests.length);
    // The two groups' direct members, beside their members/all: two calls more than the default run.
    expect(directListings()).toHaveLength(plainDirect + 2);
    expect(membersAll()).toHaveLength(3); // each group's listing, and the root's in listUsers
    expect(nesting.figures.apiCalls).toBe(plain.figures.apiCalls + 2);

    // lead is a member of the root, and so of its sub-group, only by inheritance.
    expect(await store.getCachedUser('gitlab', ids.lead)).toMatchObject({
      groups: ['my-gitlab-group', 'my-gitlab-group/sub-group'],
      nestedGroups: ['my-gitlab-group/sub-group'],
    });
    expect(await store.getCachedUser('gitlab', ids.sub)).toMatchObject({ groups: ['my-gitlab-group/sub-group'], nestedGroups: [] });

    const drift = await daemon.call<{ items: Array<{ user: { subject: string }; organization: string; group: string }> }>(
      'GET',
      '/v1/drift?connector=gitlab&kind=nested_or_overage',
    );
    expect(drift.status).toBe(200);
    expect(drift.body.items.map((i) => `${i.user.subject} ${i.organization}/${i.group}`)).toEqual([
      `${ids.lead} Sonar/my-gitlab-group/sub-group`,
    ]);
  });
});
