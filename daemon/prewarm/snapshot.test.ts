import { describe, expect, it } from 'vitest';
import type { CachedUser } from '../../store/types.js';
import { applyGroupChanges, applyMemberChanges, diffFullSnapshot, removalGuard, Snapshot } from './snapshot.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';

function cached(subject: string, groups: string[], overrides: Partial<CachedUser> = {}): CachedUser {
  return {
    connector: 'okta',
    subject,
    email: `${subject}@example.com`,
    name: subject,
    groups,
    nestedGroups: [],
    fetchedAt: T0,
    origin: 'prewarm',
    absentSince: null,
    ...overrides,
  };
}

const user = (subject: string) => ({ subject, email: `${subject}@example.com`, name: subject });
/** A member as a listing that knows nesting reports it. */
const member = (subject: string, nested: boolean) => ({ ...user(subject), nested });

function snapshotOf(members: Record<string, string[]>, alsoListed: string[] = []): Snapshot {
  const snapshot = new Snapshot();
  for (const [group, subjects] of Object.entries(members)) {
    snapshot.addMembers({ id: group, name: group }, subjects.map(user));
  }
  snapshot.addUsers(alsoListed.map(user));
  return snapshot;
}

describe('member changes of flat groups', () => {
  const options = { connector: 'okta', now: T1 };
  const byId = (...users: CachedUser[]) => new Map(users.map((u) => [u.subject, u]));

  it('adds and removes exactly the named memberships, writing only the users touched', () => {
    const before = byId(cached('ada', ['devs', 'ops']), cached('bob', ['ops']), cached('cy', ['ops']));
    const { writes, membershipsRemoved } = applyMemberChanges(
      before,
      [
        { group: { id: 'g-ops', name: 'ops' }, added: [], removed: ['ada', 'bob', 'dan'] },
        { group: { id: 'g-admins', name: 'admins' }, added: ['bob'], removed: [] },
      ],
      new Map(),
      options,
    );
    expect(writes.map((u) => [u.subject, u.groups, u.fetchedAt])).toEqual([
      ['ada', ['devs'], T1],
      ['bob', ['admins'], T1],
    ]);
    // dan held nothing to remove.
    expect(membershipsRemoved).toBe(2);
    expect(before.get('ada')?.groups).toEqual(['devs', 'ops']);
  });

  it('brings back an absent user who is added, creates a described newcomer, and skips an unknown one', () => {
    const { writes } = applyMemberChanges(
      byId(cached('ada', [], { absentSince: T0 })),
      [{ group: { id: 'g-devs', name: 'devs' }, added: ['ada', 'eve', 'ghost'], removed: [] }],
      new Map([['eve', user('eve')]]),
      options,
    );
    expect(writes).toEqual([
      { ...cached('ada', ['devs']), fetchedAt: T1 },
      { ...cached('eve', ['devs']), fetchedAt: T1 },
    ]);
  });
});

describe('a full snapshot against the cache', () => {
  it('writes every user fresh, with sorted group names, counting memberships once', () => {
    const snapshot = snapshotOf({ devs: ['ada', 'grace'], admins: ['ada'] });
    snapshot.addMembers({ id: 'devs', name: 'devs' }, [user('ada')]);
    expect(snapshot.memberships).toBe(3);
    const changes = diffFullSnapshot([], snapshot, { connector: 'okta', now: T1, usersListed: false });
    expect(changes.writes.map((u) => [u.subject, u.groups, u.fetchedAt])).toEqual([
      ['ada', ['admins', 'devs'], T1],
      ['grace', ['devs'], T1],
    ]);
    expect(changes).toMatchObject({ absentMarked: 0, membershipsRemoved: 0, usersBefore: 0, membershipsBefore: 0 });
  });

  it('marks users the IdP no longer lists absent, keeping their last known groups', () => {
    const previous = [cached('ada', ['devs']), cached('gone', ['devs', 'admins'])];
    const changes = diffFullSnapshot(previous, snapshotOf({ devs: ['ada'] }), { connector: 'okta', now: T1, usersListed: true });
    expect(changes.writes.find((u) => u.subject === 'gone')).toMatchObject({ absentSince: T1, groups: ['devs', 'admins'] });
    expect(changes).toMatchObject({ absentMarked: 1, membershipsRemoved: 0, usersBefore: 2, membershipsBefore: 3 });
  });

  it('without a user listing, reads a user missing from every group as in no group, not absent', () => {
    const previous = [cached('ada', ['devs']), cached('loner', ['admins'])];
    const changes = diffFullSnapshot(previous, snapshotOf({ devs: ['ada'] }), { connector: 'okta', now: T1, usersListed: false });
    expect(changes.writes.find((u) => u.subject === 'loner')).toMatchObject({ absentSince: null, groups: [], fetchedAt: T1 });
    expect(changes).toMatchObject({ absentMarked: 0, membershipsRemoved: 1 });
  });

  it('brings an absent user back when the IdP lists it again, and does not re-mark one already absent', () => {
    const previous = [cached('back', [], { absentSince: T0 }), cached('still-gone', ['devs'], { absentSince: T0 })];
    const changes = diffFullSnapshot(previous, snapshotOf({ devs: ['back'] }), { connector: 'okta', now: T1, usersListed: true });
    expect(changes.writes).toHaveLength(1);
    expect(changes.writes[0]).toMatchObject({ subject: 'back', absentSince: null, groups: ['devs'] });
    expect(changes.absentMarked).toBe(0);
  });

  it('keeps nested-group knowledge from live look-ups only for groups the user still holds', () => {
    const previous = [cached('ada', ['devs', 'eng'], { nestedGroups: ['eng', 'old'], origin: 'live' })];
    const changes = diffFullSnapshot(previous, snapshotOf({ devs: ['ada'], eng: ['ada'] }), { connector: 'okta', now: T1, usersListed: true });
    expect(changes.writes[0]).toMatchObject({ nestedGroups: ['eng'], origin: 'prewarm' });
  });

  it('records nesting where the listing says it, and keeps what a live look-up said elsewhere', () => {
    const previous = [
      cached('ada', ['devs', 'eng', 'ops'], { nestedGroups: ['devs', 'ops'], origin: 'live' }),
      cached('bob', ['eng'], { nestedGroups: [] }),
    ];
    const snapshot = new Snapshot();
    // eng's listing knows nesting: bob only through a nested group, ada named directly.
    snapshot.addMembers({ id: 'eng', name: 'eng' }, [member('ada', false), member('bob', true)]);
    snapshot.addMembers({ id: 'devs', name: 'devs' }, [member('ada', false)]);
    // ops's listing does not say: the live look-up's word stands.
    snapshot.addMembers({ id: 'ops', name: 'ops' }, [user('ada')]);
    const changes = diffFullSnapshot(previous, snapshot, { connector: 'ldap', now: T1, usersListed: true });
    expect(Object.fromEntries(changes.writes.map((u) => [u.subject, u.nestedGroups]))).toEqual({ ada: ['ops'], bob: ['eng'] });
  });

  it('counts a name as held directly when any group of that name holds the user directly', () => {
    for (const order of [[true, false], [false, true]]) {
      const snapshot = new Snapshot();
      order.forEach((nested, i) => snapshot.addMembers({ id: `eng-${i}`, name: 'eng' }, [member('ada', nested)]));
      const changes = diffFullSnapshot([], snapshot, { connector: 'ldap', now: T1, usersListed: false });
      expect(changes.writes[0]).toMatchObject({ groups: ['eng'], nestedGroups: [] });
    }
  });
});

describe('incremental changes applied to the cache', () => {
  const previous = [cached('ada', ['admins', 'devs']), cached('grace', ['devs']), cached('alan', ['ops'])];

  it('replaces a changed group’s members and writes only the users it touched', () => {
    const changes = applyGroupChanges(
      previous,
      [{ group: { id: 'devs', name: 'devs' }, oldName: 'devs', members: [user('ada'), user('alan')] }],
      [],
      { connector: 'okta', now: T1 },
    );
    expect(changes.writes.map((u) => [u.subject, u.groups])).toEqual([
      ['grace', []],
      ['alan', ['devs', 'ops']],
    ]);
    expect(changes.membershipsRemoved).toBe(1);
  });

  it('moves a renamed group’s members to the new name', () => {
    const changes = applyGroupChanges(
      previous,
      [{ group: { id: 'devs', name: 'engineering' }, oldName: 'devs', members: [user('ada'), user('grace')] }],
      [],
      { connector: 'okta', now: T1 },
    );
    expect(Object.fromEntries(changes.writes.map((u) => [u.subject, u.groups]))).toEqual({
      ada: ['admins', 'engineering'],
      grace: ['engineering'],
    });
  });

  it('brings back a user marked absent whom a changed group lists again', () => {
    const changes = applyGroupChanges(
      [...previous, cached('returning', [], { absentSince: T0 })],
      [{ group: { id: 'ops', name: 'ops' }, oldName: 'ops', members: [user('alan'), user('returning')] }],
      [],
      { connector: 'okta', now: T1 },
    );
    expect(changes.writes).toEqual([expect.objectContaining({ subject: 'returning', groups: ['ops'], absentSince: null })]);
  });

  it('sets and clears nesting of a re-listed group as its listing says, writing holders whose nesting changed', () => {
    const before = [
      cached('ada', ['devs'], { nestedGroups: ['devs'] }),
      cached('grace', ['devs']),
      cached('alan', ['devs'], { nestedGroups: ['devs'] }),
      cached('lin', ['ops']),
    ];
    const changes = applyGroupChanges(
      before,
      [{ group: { id: 'devs', name: 'devs' }, oldName: 'devs', members: [member('ada', false), member('grace', true), user('alan'), member('lin', true)] }],
      [],
      { connector: 'ldap', now: T1 },
    );
    // alan's listing said nothing: unchanged, not written.
    expect(Object.fromEntries(changes.writes.map((u) => [u.subject, [u.groups, u.nestedGroups]]))).toEqual({
      ada: [['devs'], []],
      grace: [['devs'], ['devs']],
      lin: [['devs', 'ops'], ['devs']],
    });
  });

  it('keeps a renamed group nested for members its listing says nothing of', () => {
    const changes = applyGroupChanges(
      [cached('ada', ['devs'], { nestedGroups: ['devs'] })],
      [{ group: { id: 'devs', name: 'engineering' }, oldName: 'devs', members: [user('ada')] }],
      [],
      { connector: 'okta', now: T1 },
    );
    expect(changes.writes).toEqual([expect.objectContaining({ groups: ['engineering'], nestedGroups: ['engineering'] })]);
  });

  it('removes a deleted group from everyone and adds new users it sees', () => {
    const changes = applyGroupChanges(
      previous,
      [{ group: { id: 'new', name: 'new' }, oldName: null, members: [user('newcomer')] }],
      ['devs'],
      { connector: 'okta', now: T1 },
    );
    expect(Object.fromEntries(changes.writes.map((u) => [u.subject, u.groups]))).toEqual({
      newcomer: ['new'],
      ada: ['admins'],
      grace: [],
    });
    expect(changes.membershipsRemoved).toBe(2);
  });
});

describe('the removal guard', () => {
  const base = { writes: [], absentMarked: 0, membershipsRemoved: 0, usersBefore: 100, membershipsBefore: 1000 };

  it('stops a run that would mark more than the limit absent', () => {
    expect(removalGuard({ ...base, absentMarked: 10 }, 0.1)).toBeNull();
    expect(removalGuard({ ...base, absentMarked: 11 }, 0.1)).toMatchObject({ share: 0.11, limit: 0.1 });
  });

  it('stops a run that would strip more than the limit of group memberships', () => {
    expect(removalGuard({ ...base, membershipsRemoved: 100 }, 0.1)).toBeNull();
    const guard = removalGuard({ ...base, membershipsRemoved: 500 }, 0.1);
    expect(guard?.reason).toBe('would remove 500 of 1000 group memberships (50.0%, limit 10.0%)');
  });

  it('never stops a first run', () => {
    expect(removalGuard({ ...base, usersBefore: 0, membershipsBefore: 0 }, 0)).toBeNull();
  });
});
