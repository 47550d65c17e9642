import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import { OktaDirectory, SEEDED_AT, type FakeOkta } from '../fakes/okta/index.js';
import { callOptions, newStats, oktaConnectorFor, startFakeOkta } from './helpers.js';

function seededOrg(now?: () => Date) {
  const directory = new OktaDirectory(now ? { now } : {});
  const users = Array.from({ length: 20 }, (_, i) => directory.addUser({ login: `u${i}@example.com`, at: SEEDED_AT }));
  const groups = Array.from({ length: 30 }, (_, i) => directory.addGroup({ name: `team-${i}`, at: SEEDED_AT }));
  for (const [i, user] of users.entries()) directory.addMember(groups[i % 30]!.id, user.id, SEEDED_AT);
  return { directory, users, groups };
}

describe('Okta incremental feed (lastMembershipUpdated / lastUpdated filter)', () => {
  let fake: FakeOkta | undefined;
  afterEach(() => fake?.stop());

  it('returns exactly the group whose members changed after the cursor', async () => {
    const { directory, users, groups } = seededOrg();
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake, { pageSize: 10 });

    const cursor = await connector.startCursor(callOptions());
    directory.addMember(groups[7]!.id, users[0]!.id);
    const stats = newStats();
    const result = await connector.changedGroups(cursor, callOptions(stats));

    expect(result.changed).toEqual([{ id: groups[7]!.id, name: 'team-7' }]);
    expect(result.deleted).toEqual([]);
    expect(Date.parse(result.cursor)).toBeGreaterThanOrEqual(Date.parse(cursor));
    expect(stats).toMatchObject({ apiCalls: 1, pages: 1 });
    const sent = fake.server.requests.at(-1)!.query.get('filter');
    expect(sent).toBe(`lastUpdated gt "${cursor}" or lastMembershipUpdated gt "${cursor}"`);
  });

  it('sees removals and renames too, and nothing when nothing changed', async () => {
    const { directory, users, groups } = seededOrg();
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake, { groupTypes: ['OKTA_GROUP'] });

    const cursor = await connector.startCursor(callOptions());
    expect((await connector.changedGroups(cursor, callOptions())).changed).toEqual([]);

    directory.removeMember(groups[3]!.id, users[3]!.id);
    directory.renameGroup(groups[12]!.id, 'team-twelve');
    const { changed } = await connector.changedGroups(cursor, callOptions());
    expect(changed).toEqual([
      { id: groups[3]!.id, name: 'team-3' },
      { id: groups[12]!.id, name: 'team-twelve' },
    ]);
    expect(fake.server.requests.at(-1)!.query.get('filter')).toBe(
      `(type eq "OKTA_GROUP") and (lastUpdated gt "${cursor}" or lastMembershipUpdated gt "${cursor}")`,
    );
  });

  it("takes the cursor from the org's clock, not ours", async () => {
    // The org's clock runs an hour behind this machine's: a cursor from our clock would skip
    // every change the org stamps in the next hour.
    const { directory, users, groups } = seededOrg(() => new Date(Date.now() - 3_600_000));
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake);

    const cursor = await connector.startCursor(callOptions());
    expect(Date.parse(cursor)).toBeLessThan(Date.now() - 3_000_000);
    directory.addMember(groups[1]!.id, users[5]!.id);
    const { changed } = await connector.changedGroups(cursor, callOptions());
    expect(changed.map((g) => g.name)).toEqual(['team-1']);
  });

  it('rejects a cursor it did not issue as expired, so the caller resyncs in full', async () => {
    const { directory } = seededOrg();
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake);
    const error = await connector.changedGroups('yesterday', callOptions()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'cursor_expired' });
    expect(fake.apiCalls()).toBe(0);
  });
});

describe('Okta incremental feed with membership events (System Log)', () => {
  let fake: FakeOkta | undefined;
  afterEach(() => fake?.stop());

  it('gives the member changes of groups whose only change is their members, from one log query', async () => {
    const { directory, users, groups } = seededOrg();
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake, { membershipEvents: true });
    const cursor = await connector.startCursor(callOptions());

    directory.addMember(groups[7]!.id, users[0]!.id);
    directory.addMember(groups[7]!.id, users[1]!.id);
    directory.removeMember(groups[7]!.id, users[1]!.id); // the last word wins
    directory.removeMember(groups[3]!.id, users[3]!.id);
    directory.renameGroup(groups[12]!.id, 'team-twelve');
    directory.addMember(groups[12]!.id, users[2]!.id);
    const created = directory.addGroup({ name: 'brand-new' });
    directory.addMember(created.id, users[4]!.id);
    fake.server.resetLog();
    const stats = newStats();
    const result = await connector.changedGroups(cursor, callOptions(stats));

    // Renamed and created groups are re-listed; the others' member changes come as they are.
    expect(result.changed).toEqual([
      { id: groups[12]!.id, name: 'team-twelve' },
      { id: created.id, name: 'brand-new' },
    ]);
    expect(result.memberChanges).toEqual([
      { group: { id: groups[3]!.id, name: 'team-3' }, added: [], removed: [users[3]!.id] },
      { group: { id: groups[7]!.id, name: 'team-7' }, added: [users[0]!.id], removed: [users[1]!.id] },
    ]);
    expect(stats).toMatchObject({ apiCalls: 2, pages: 2 });
    const logQuery = fake.server.requests.find((r) => r.path === '/api/v1/logs')!.query;
    expect(logQuery.get('since')).toBe(cursor);
    expect(logQuery.get('filter')).toBe('eventType eq "group.user_membership.add" or eventType eq "group.user_membership.remove"');
  });

  it('re-lists a group whose change the log does not show yet', async () => {
    const { directory, users, groups } = seededOrg();
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake, { membershipEvents: true });
    const cursor = await connector.startCursor(callOptions());

    directory.addMember(groups[5]!.id, users[9]!.id);
    directory.events.length = 0; // the System Log lags behind the group's lastMembershipUpdated
    const result = await connector.changedGroups(cursor, callOptions());

    expect(result.changed).toEqual([{ id: groups[5]!.id, name: 'team-5' }]);
    expect(result.memberChanges).toEqual([]);
  });

  it('pages through the log, and describes users new to the cache', async () => {
    const { directory, users, groups } = seededOrg();
    fake = await startFakeOkta({ directory });
    const connector = oktaConnectorFor(fake, { membershipEvents: true });
    const cursor = await connector.startCursor(callOptions());
    const newcomers = Array.from({ length: 1500 }, (_, i) => directory.addUser({ login: `n${i}@example.com`, firstName: 'New', lastName: String(i) }));
    for (const user of newcomers) directory.addMember(groups[0]!.id, user.id);

    const stats = newStats();
    const result = await connector.changedGroups(cursor, callOptions(stats));
    expect(result.memberChanges?.[0]?.added).toHaveLength(1500);
    expect(stats.pages).toBe(3); // one group page, two log pages of up to 1,000

    const described = await connector.describeUsers([newcomers[0]!.id, 'no-such-user', users[1]!.id], callOptions());
    expect(described).toEqual([
      { subject: newcomers[0]!.id, email: 'n0@example.com', name: 'New 0' },
      { subject: users[1]!.id, email: 'u1@example.com', name: null },
    ]);
  });
});

