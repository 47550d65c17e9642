import { afterEach, describe, expect, test } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import type { FakeEntra } from '../fakes/entra/fake-entra.js';
import { callOptions, names, startEntra } from './harness.js';

let fake: FakeEntra | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function seedFlat(entra: FakeEntra, groups: number) {
  const users = Array.from({ length: 4 }, (_, i) => entra.directory.addUser({ userPrincipalName: `u${i}@example.com` }));
  const made = Array.from({ length: groups }, (_, i) =>
    entra.directory.addGroup({ displayName: `group-${i}`, members: [users[i % users.length]!.id] }),
  );
  return { users, groups: made };
}

describe('entra connector: delta feed', () => {
  test('the initial round gives a cursor; after one change the next round returns exactly that group', async () => {
    const started = await startEntra({ delta: { pageSize: 3 } });
    fake = started.fake;
    const { users, groups } = seedFlat(fake, 7);
    const options = callOptions();

    const cursor = await started.connector.startCursor(options);
    // The initial round walked every page (7 groups, 3 per page) to its deltaLink.
    expect(fake.graphCalls('/v1.0/groups/delta')).toHaveLength(3);
    expect(options.stats.pages).toBe(3);

    fake.directory.addMember(groups[4]!.id, users[1]!.id);
    fake.directory.removeMember(groups[2]!.id, users[2]!.id);
    const first = await started.connector.changedGroups(cursor, callOptions());

    // Flat groups: the member changes themselves, nothing to re-list. Membership changes come
    // without displayName: the name comes from the cursor, with no call.
    expect(first.changed).toEqual([]);
    expect(first.memberChanges).toEqual([
      { group: { id: groups[4]!.id, name: 'group-4' }, added: [users[1]!.id], removed: [] },
      { group: { id: groups[2]!.id, name: 'group-2' }, added: [], removed: [users[2]!.id] },
    ]);
    expect(fake.graphCalls('/v1.0/directoryObjects/getByIds')).toHaveLength(0);
    expect(first.deleted).toEqual([]);
    expect(first.cursor).not.toBe(cursor);

    const quiet = await started.connector.changedGroups(first.cursor, callOptions());
    expect(quiet).toMatchObject({ changed: [], memberChanges: [], deleted: [] });
  });

  test('describeUsers gives the users behind added subjects, in one getByIds call per 1,000', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { users } = seedFlat(fake, 1);
    const ids = [users[0]!.id, users[3]!.id, 'no-such-user'];

    const described = await started.connector.describeUsers(ids, callOptions());

    expect(described).toEqual([
      { subject: users[0]!.id, email: 'u0@example.com', name: 'u0' },
      { subject: users[3]!.id, email: 'u3@example.com', name: 'u3' },
    ]);
    expect(fake.graphCalls('/v1.0/directoryObjects/getByIds')).toHaveLength(1);
  });

  test('renamed and created groups come with their new names', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { groups } = seedFlat(fake, 3);
    const cursor = await started.connector.startCursor(callOptions());

    fake.directory.renameGroup(groups[1]!.id, 'group-1-renamed');
    const created = fake.directory.addGroup({ displayName: 'brand-new' });
    const result = await started.connector.changedGroups(cursor, callOptions());

    expect(names(result.changed)).toEqual(['brand-new', 'group-1-renamed']);
    expect(result.changed.find((g) => g.name === 'brand-new')?.id).toBe(created.id);
  });

  test('a group whose member changes are split across objects and pages comes back once', async () => {
    const started = await startEntra({ delta: { pageSize: 2, membersPerObject: 3 } });
    fake = started.fake;
    const { groups } = seedFlat(fake, 2);
    const cursor = await started.connector.startCursor(callOptions());
    fake.server.resetLog();

    const newcomers = Array.from({ length: 10 }, (_, i) => fake!.directory.addUser({ userPrincipalName: `new${i}@example.com` }));
    for (const user of newcomers) fake.directory.addMember(groups[0]!.id, user.id);
    fake.directory.renameGroup(groups[1]!.id, 'renamed');
    const result = await started.connector.changedGroups(cursor, callOptions());

    // 10 member changes at 3 per object = 4 objects for group-0, plus 1 for the rename: 3 pages.
    expect(fake.graphCalls('/v1.0/groups/delta')).toHaveLength(3);
    expect(result.memberChanges).toHaveLength(1);
    expect(result.memberChanges?.[0]?.added).toEqual(newcomers.map((u) => u.id));
    // A renamed group is re-listed: every holder gets the new name.
    expect(result.changed).toEqual([{ id: groups[1]!.id, name: 'renamed' }]);
  });

  test('deleted groups come back as deleted ids, soft or permanent; their parents as changed', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { groups } = seedFlat(fake, 3);
    const parent = fake.directory.addGroup({ displayName: 'parent', members: [groups[0]!.id] });
    const cursor = await started.connector.startCursor(callOptions());

    fake.directory.deleteGroup(groups[0]!.id);
    fake.directory.deleteGroup(groups[1]!.id, { permanently: true });
    const result = await started.connector.changedGroups(cursor, callOptions());

    expect([...result.deleted].sort()).toEqual([groups[0]!.id, groups[1]!.id].sort());
    expect(result.changed).toEqual([{ id: parent.id, name: 'parent' }]);
  });

  test('a change inside a nested group also marks every group above it as changed', async () => {
    const started = await startEntra();
    fake = started.fake;
    const user = fake.directory.addUser({ userPrincipalName: 'x@example.com' });
    const sre = fake.directory.addGroup({ displayName: 'SRE' });
    const platform = fake.directory.addGroup({ displayName: 'Platform', members: [sre.id] });
    fake.directory.addGroup({ displayName: 'Engineering', members: [platform.id] });
    const unrelated = fake.directory.addGroup({ displayName: 'Unrelated' });
    const cursor = await started.connector.startCursor(callOptions());
    fake.server.resetLog();

    fake.directory.addMember(sre.id, user.id);
    fake.directory.addMember(unrelated.id, user.id);
    const result = await started.connector.changedGroups(cursor, callOptions());

    expect(names(result.changed)).toEqual(['Engineering', 'Platform', 'SRE']);
    expect(result.memberChanges).toEqual([{ group: { id: unrelated.id, name: 'Unrelated' }, added: [user.id], removed: [] }]);
    // The nesting comes from the cursor: no transitiveMemberOf call.
    expect(fake.server.count()).toBe(1);
  });

  test('a group put into another, or taken out, re-lists the parent and every group above it', async () => {
    const started = await startEntra();
    fake = started.fake;
    const user = fake.directory.addUser({ userPrincipalName: 'x@example.com' });
    const team = fake.directory.addGroup({ displayName: 'Team', members: [user.id] });
    const department = fake.directory.addGroup({ displayName: 'Department' });
    fake.directory.addGroup({ displayName: 'Company', members: [department.id] });
    const cursor = await started.connector.startCursor(callOptions());

    fake.directory.addMember(department.id, team.id);
    const joined = await started.connector.changedGroups(cursor, callOptions());
    expect(names(joined.changed)).toEqual(['Company', 'Department']);

    // Team is nested now: a direct change in it re-lists it and its ancestors.
    fake.directory.addMember(team.id, fake.directory.addUser({ userPrincipalName: 'y@example.com' }).id);
    const nested = await started.connector.changedGroups(joined.cursor, callOptions());
    expect(names(nested.changed)).toEqual(['Company', 'Department', 'Team']);
    expect(nested.memberChanges).toEqual([]);

    fake.directory.removeMember(department.id, team.id);
    const left = await started.connector.changedGroups(nested.cursor, callOptions());
    expect(names(left.changed)).toEqual(['Company', 'Department']);

    // Flat again: member changes apply directly.
    fake.directory.removeMember(team.id, user.id);
    const flat = await started.connector.changedGroups(left.cursor, callOptions());
    expect(flat.changed).toEqual([]);
    expect(flat.memberChanges).toEqual([{ group: { id: team.id, name: 'Team' }, added: [], removed: [user.id] }]);
  });

  test('an expired delta token (410 Gone) is cursor_expired', async () => {
    const started = await startEntra();
    fake = started.fake;
    seedFlat(fake, 2);
    const cursor = await started.connector.startCursor(callOptions());
    fake.expireDeltaTokens();

    const error = await started.connector.changedGroups(cursor, callOptions()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'cursor_expired' });
  });

  test('a cursor of another tenant, or of another shape, is refused without a request', async () => {
    const started = await startEntra();
    fake = started.fake;
    fake.server.resetLog();
    const foreign = JSON.stringify({ v: 1, deltaLink: 'https://evil.example.com/v1.0/groups/delta?$deltatoken=x', groups: {} });
    // A bare deltaLink, as cursors were before they carried the groups: a full resync rebuilds it.
    const bare = `${fake.baseUrl}/v1.0/groups/delta?$deltatoken=x`;

    for (const cursor of [foreign, bare, '{"v":1}']) {
      await expect(started.connector.changedGroups(cursor, callOptions())).rejects.toMatchObject({ kind: 'cursor_expired' });
    }
    expect(fake.server.count()).toBe(0);
  });
});
