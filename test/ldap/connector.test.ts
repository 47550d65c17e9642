import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdpMember, IdpUser } from '../../connectors/types.js';
import { GROUPS, LDIF, LEGACY_GROUP, PEOPLE, SERVICE_DN, emailOf, groupDn, nameOf } from './fixture.js';
import { collect, makeConnector, newStats, signal } from './helpers.js';
import { startSlapd, type Slapd } from './slapd.js';

let slapd: Slapd;
/** uid → entryUUID, read from the server: the subject the connector must report. */
const uuid = new Map<string, string>();

beforeAll(async () => {
  slapd = await startSlapd({ ldif: LDIF, monitorReaders: [SERVICE_DN] });
  const admin = await slapd.admin();
  try {
    const { searchEntries } = await admin.search('ou=people,dc=example,dc=com', {
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'entryUUID'],
    });
    for (const entry of searchEntries) uuid.set(String(entry.uid), String(entry.entryUUID));
  } finally {
    await admin.unbind();
  }
});

afterAll(async () => {
  await slapd?.stop();
});

const person = (uid: string): IdpUser => ({ subject: uuid.get(uid) ?? '?', email: emailOf(uid), name: nameOf(uid) });
const bySubject = (a: IdpUser, b: IdpUser): number => a.subject.localeCompare(b.subject);
/** A group's members as `listMembers` reports them: named in its member list, or reached only through nested groups. */
const membersOf = (direct: string[], nested: string[] = []): IdpMember[] =>
  [...direct.map((uid) => ({ ...person(uid), nested: false })), ...nested.map((uid) => ({ ...person(uid), nested: true }))].sort(bySubject);

describe('listGroups', () => {
  it('pages through every group under the base, counting searches and pages', async () => {
    const stats = newStats();
    const pages = await collect(makeConnector(slapd.url, { pageSize: 2 }).listGroups({ signal: signal(), stats }));
    const groups = pages.flat();
    expect(groups.map((group) => group.name).sort()).toEqual([...Object.keys(GROUPS), LEGACY_GROUP].sort());
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(pages.every((page) => page.length <= 2)).toBe(true);
    expect(stats.apiCalls).toBe(1);
    expect(stats.pages).toBe(pages.length);
    // ids are the entries' entryUUIDs, distinct per group
    expect(new Set(groups.map((group) => group.id)).size).toBe(groups.length);
    expect(groups.every((group) => /^[0-9a-f-]{36}$/.test(group.id))).toBe(true);
  });

  it('uses the DN as id when configured so', async () => {
    const groups = (await collect(makeConnector(slapd.url, { attributes: { groupId: 'dn' } }).listGroups({ signal: signal() }))).flat();
    expect(groups).toContainEqual({ id: groupDn('platform team'), name: 'platform team' });
  });
});

describe('listMembers', () => {
  const connector = () => makeConnector(slapd.url);
  const groupNamed = async (name: string) => {
    const groups = (await collect(connector().listGroups({ signal: signal() }))).flat();
    const group = groups.find((candidate) => candidate.name === name);
    if (!group) throw new Error(`no group ${name}`);
    return group;
  };
  const members = async (name: string, pageSize?: number) => {
    const group = await groupNamed(name);
    const pages = await collect(makeConnector(slapd.url, pageSize ? { pageSize } : {}).listMembers(group, { signal: signal() }));
    return { pages, users: pages.flat().sort(bySubject) };
  };

  it('expands nested groups two levels deep, flagging who is reached only through them', async () => {
    expect((await members('engineering')).users).toEqual(membersOf(['alice', 'bob'], ['carol', 'dave']));
  });

  it('terminates on a membership cycle and lists each member once', async () => {
    expect((await members('ops')).users).toEqual(membersOf(['erin'], ['frank']));
    expect((await members('oncall')).users).toEqual(membersOf(['frank'], ['erin']));
  });

  it('pages the members by pageSize', async () => {
    const { pages, users } = await members('engineering', 2);
    expect(users).toEqual(membersOf(['alice', 'bob'], ['carol', 'dave']));
    expect(pages.length).toBe(2);
    expect(pages.every((page) => page.length <= 2)).toBe(true);
  });

  it('handles names with spaces and filter syntax characters', async () => {
    expect((await members('platform team')).users).toEqual(membersOf(['grace', 'alice']));
    expect((await members('a*(b)')).users).toEqual(membersOf(['heidi']));
    expect((await members('outer')).users).toEqual(membersOf(['ivan'], ['heidi']));
  });

  it('finds a group by DN id too', async () => {
    const dnConnector = makeConnector(slapd.url, { attributes: { groupId: 'dn' } });
    const users = (await collect(dnConnector.listMembers({ id: groupDn('backend'), name: 'backend' }, { signal: signal() }))).flat();
    expect(users.sort(bySubject)).toEqual(membersOf(['carol'], ['dave']));
  });

  it('lists nothing for a group that no longer exists', async () => {
    const gone = { id: '6f1f4c1e-0000-4000-8000-000000000000', name: 'gone' };
    expect(await collect(connector().listMembers(gone, { signal: signal() }))).toEqual([]);
  });
});

describe('lookupUser', () => {
  const connector = () => makeConnector(slapd.url);

  it('finds a user by subject and reports groups held through nesting', async () => {
    const stats = newStats();
    const result = await connector().lookupUser({ subject: uuid.get('dave') ?? '', email: 'other@example.com' }, { signal: signal(), stats });
    expect(result).toEqual({
      ...person('dave'),
      groups: ['backend', 'db-team', 'engineering'],
      nestedGroups: ['backend', 'engineering'],
    });
    expect(stats.apiCalls).toBeGreaterThan(0);
  });

  it('falls back to the email when the subject is unknown', async () => {
    for (const subject of ['not-a-uuid', '0b5e7c4a-1111-4222-8333-444455556666']) {
      const result = await connector().lookupUser({ subject, email: emailOf('alice') }, { signal: signal() });
      expect(result).toEqual({ ...person('alice'), groups: ['engineering', 'platform team'], nestedGroups: [] });
    }
  });

  it('resolves parents through a cycle', async () => {
    const result = await connector().lookupUser({ subject: uuid.get('frank') ?? '', email: '' }, { signal: signal() });
    expect(result?.groups).toEqual(['oncall', 'ops']);
    expect(result?.nestedGroups).toEqual(['ops']);
  });

  it('follows a group whose DN holds filter syntax characters', async () => {
    const result = await connector().lookupUser({ subject: uuid.get('heidi') ?? '', email: '' }, { signal: signal() });
    expect(result?.groups).toEqual(['a*(b)', 'outer']);
    expect(result?.nestedGroups).toEqual(['outer']);
  });

  it('returns a user in no group with empty lists', async () => {
    const result = await connector().lookupUser({ subject: '', email: emailOf('judy') }, { signal: signal() });
    expect(result).toEqual({ ...person('judy'), groups: [], nestedGroups: [] });
  });

  it('reads groupOfUniqueNames when uniqueMember is a member attribute', async () => {
    const both = makeConnector(slapd.url, { attributes: { member: ['member', 'uniqueMember'] } });
    const result = await both.lookupUser({ subject: uuid.get('judy') ?? '', email: '' }, { signal: signal() });
    expect(result?.groups).toEqual([LEGACY_GROUP]);
    const legacy = (await collect(both.listGroups({ signal: signal() }))).flat().find((group) => group.name === LEGACY_GROUP);
    if (!legacy) throw new Error('legacy group not listed');
    expect((await collect(both.listMembers(legacy, { signal: signal() }))).flat()).toEqual(membersOf(['judy']));
  });

  it('returns null for an unknown user', async () => {
    const result = await connector().lookupUser(
      { subject: '0b5e7c4a-1111-4222-8333-444455556666', email: 'nobody@example.com' },
      { signal: signal() },
    );
    expect(result).toBeNull();
  });

  it('escapes filter values: a `*` subject or email matches nobody', async () => {
    expect(await connector().lookupUser({ subject: '*', email: '*' }, { signal: signal() })).toBeNull();
    expect(await connector().lookupUser({ subject: '*)(uid=*', email: '*)(|(mail=*' }, { signal: signal() })).toBeNull();
  });

  it('uses the configured attributes', async () => {
    const byUid = makeConnector(slapd.url, { attributes: { subject: 'uid', name: 'sn' } });
    const result = await byUid.lookupUser({ subject: 'carol', email: '' }, { signal: signal() });
    expect(result).toEqual({
      subject: 'carol',
      email: emailOf('carol'),
      name: 'Example',
      groups: ['backend', 'engineering'],
      nestedGroups: ['engineering'],
    });
  });

  it('ad-matching-rule mode sends a filter the server accepts (OpenLDAP matches nothing with it)', async () => {
    const ad = makeConnector(slapd.url, { nesting: 'ad-matching-rule' });
    const result = await ad.lookupUser({ subject: uuid.get('dave') ?? '', email: '' }, { signal: signal() });
    // On Active Directory the rule adds backend and engineering; OpenLDAP returns 0 entries for it.
    expect(result?.groups).toEqual(['db-team']);
    expect(result?.nestedGroups).toEqual([]);
  });

  it('knows all ten people', async () => {
    for (const uid of PEOPLE) {
      const result = await connector().lookupUser({ subject: uuid.get(uid) ?? '', email: '' }, { signal: signal() });
      expect(result?.email).toBe(emailOf(uid));
    }
  });
});
