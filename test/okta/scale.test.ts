import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OktaDirectory, seedLargeDirectory, type FakeOkta } from '../fakes/okta/index.js';
import { callOptions, newStats, oktaConnectorFor, onGroupsList, onMembersLists, startFakeOkta } from './helpers.js';

describe('Okta connector at scale: 10,000 users x 500 groups', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();

  beforeAll(async () => {
    seedLargeDirectory(directory, { users: 10_000, groups: 500, minGroups: 2, maxGroups: 8 });
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());

  it('lists every group and membership within 5% of the minimum number of API calls', async () => {
    const pageSize = 200;
    const membersPageSize = 100;
    const connector = oktaConnectorFor(fake, { pageSize, membersPageSize });
    const stats = newStats();
    const options = callOptions(stats);

    const groupsOfUser = new Map<string, Set<string>>();
    let groupCount = 0;
    let memberships = 0;
    for await (const page of connector.listGroups(options)) {
      for (const group of page) {
        groupCount++;
        for await (const members of connector.listMembers(group, options)) {
          for (const member of members) {
            memberships++;
            let names = groupsOfUser.get(member.subject);
            if (!names) groupsOfUser.set(member.subject, (names = new Set()));
            names.add(group.name);
          }
        }
      }
    }

    const counts = directory.counts;
    expect(groupCount).toBe(500);
    expect(memberships).toBe(counts.memberships);
    expect(groupsOfUser.size).toBe(10_000);
    for (const user of directory.users()) {
      expect([...groupsOfUser.get(user.id)!].sort()).toEqual(directory.groupsOf(user.id).map((g) => g.profile.name).sort());
    }

    // The fewest requests Okta's paging allows: one per page of groups, and one per page of
    // each group's members (an empty group still takes one).
    let minimum = Math.ceil(500 / pageSize);
    for (const group of directory.groups()) {
      minimum += Math.max(1, Math.ceil(directory.memberIds(group.id)!.length / membersPageSize));
    }
    const calls = fake.apiCalls();
    expect(fake.apiCalls(onGroupsList)).toBe(Math.ceil(500 / pageSize));
    expect(fake.apiCalls(onMembersLists)).toBe(calls - Math.ceil(500 / pageSize));
    expect(calls).toBeLessThanOrEqual(Math.floor(minimum * 1.05));
    expect(minimum).toBeGreaterThan(500); // some groups span pages: the bound is not trivial
    expect(stats.apiCalls).toBe(calls);
    expect(stats.pages).toBe(calls);
    expect(stats.retries).toBe(0);
  });
});
