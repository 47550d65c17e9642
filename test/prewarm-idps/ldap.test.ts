import { setTimeout as sleep } from 'node:timers/promises';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LDIF, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, emailOf, groupDn, personDn } from '../ldap/fixture.js';
import { SUFFIX, startSlapd, type Slapd } from '../ldap/slapd.js';
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

/**
 * The fixture directory (test/ldap/fixture.ts): engineering ⊃ backend ⊃ db-team, so dave (in
 * db-team) is in all three; ops ↔ oncall is a cycle; alice is also in "platform team".
 */
const ORGANIZATIONS: OrganizationSeed[] = [
  { key: 'Eng', groups: ['engineering', 'backend', 'db-team'] },
  { key: 'Platform', groups: ['platform team'] },
];

let slapd: Slapd;
/** entryUUID (the SSO subject) of each person. */
const subjects = new Map<string, string>();

beforeAll(async () => {
  slapd = await startSlapd({ ldif: LDIF, monitorReaders: [SERVICE_DN] });
  const admin = await slapd.admin();
  try {
    const { searchEntries } = await admin.search(`ou=people,${SUFFIX}`, {
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'entryUUID'],
    });
    for (const entry of searchEntries) subjects.set(String(entry.uid), String(entry.entryUUID));
  } finally {
    await admin.unbind();
  }
  expect(subjects.size).toBe(PEOPLE.length);
  // modifyTimestamp has one-second resolution: let the seeding's second pass, so the first
  // run's cursor is later than every seeded group.
  await sleep(1_100);
});

afterAll(async () => {
  await slapd?.stop();
});

let workspace: Workspace | undefined;
let daemon: RunningDaemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  workspace?.remove();
  workspace = undefined;
});

function ldapEntry(): Record<string, unknown> {
  return {
    id: 'ldap',
    type: 'ldap',
    url: slapd.url,
    bindDN: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    userBase: `ou=people,${SUFFIX}`,
    groupBase: `ou=groups,${SUFFIX}`,
  };
}

/** Connections slapd has accepted so far, this read's own included (`cn=Monitor`). */
async function connectionsAccepted(): Promise<number> {
  const client = new Client({ url: slapd.url, connectTimeout: 5_000, timeout: 5_000 });
  try {
    await client.bind(SERVICE_DN, SERVICE_PASSWORD);
    const { searchEntries } = await client.search('cn=Total,cn=Connections,cn=Monitor', {
      scope: 'base',
      attributes: ['monitorCounter'],
    });
    return Number(searchEntries[0]?.monitorCounter);
  } finally {
    await client.unbind();
  }
}

const subject = (uid: string): string => subjects.get(uid)!;

describe('pre-warm from LDAP (a real slapd)', () => {
  it('jitsync prewarm caches nested memberships; the next login makes no LDAP connection', async () => {
    workspace = writeConfig({ connector: ldapEntry(), organizations: ORGANIZATIONS });

    const cli = await jitsync(['prewarm', '--config', workspace.configPath]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const summary = summaryOf(cli.stdout);
    expect(summary).toMatchObject({
      connector: 'ldap',
      mode: 'full',
      state: 'succeeded',
      retries: '0',
      groups: '9', // the eight groupOfNames and "legacy" (uniqueMember is not configured: no members)
      users: '10', // every person under userBase, judy too (only in "legacy": in no group here)
      memberships: '16',
      'marked absent': '0',
    });
    expect(Number(summary['api calls'])).toBeGreaterThan(9);

    daemon = await startDaemon(workspace.configPath);
    const before = await connectionsAccepted();
    const dave = await daemon.login({ connector: 'ldap', subject: subject('dave'), email: emailOf('dave') });
    const alice = await daemon.login({ connector: 'ldap', subject: subject('alice'), email: emailOf('alice') });
    expect(await connectionsAccepted()).toBe(before + 1); // only this second read itself

    expect(dave.status).toBe(200);
    expect(dave.body.groups.source).toBe('cache');
    expect([...dave.body.groups.names].sort()).toEqual(['backend', 'db-team', 'engineering']);
    expect(sortedMemberships(dave.body.memberships)).toEqual(
      expectedMemberships(ORGANIZATIONS, ['backend', 'db-team', 'engineering']),
    );
    expect(alice.body.groups.source).toBe('cache');
    expect([...alice.body.groups.names].sort()).toEqual(['engineering', 'platform team']);
    expect(sortedMemberships(alice.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['engineering', 'platform team']));
    expect(alice.body.organizations.sort()).toEqual(['Eng', 'Platform']);

    const judy = await daemon.login({ connector: 'ldap', subject: subject('judy'), email: emailOf('judy') });
    expect(judy.body.groups).toMatchObject({ source: 'cache', names: [] });
    expect(judy.body.memberships).toEqual([]);
  });

  it('an incremental run (modifyTimestamp) re-reads only the changed group and updates only its users', async () => {
    workspace = writeConfig({ connector: ldapEntry(), organizations: ORGANIZATIONS });
    daemon = await startDaemon(workspace.configPath);
    const { store, prewarm } = daemon.daemon;

    const full = await prewarm.run('ldap');
    expect(full).toMatchObject({ state: 'succeeded', mode: 'full' });
    const daveBefore = await store.getCachedUser('ldap', subject('dave'));
    expect(daveBefore?.groups).toEqual(['backend', 'db-team', 'engineering']);
    expect(await store.getCachedUser('ldap', subject('judy'))).toMatchObject({ groups: [] });

    const admin = await slapd.admin();
    try {
      await admin.modify(groupDn('platform team'), [
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDn('judy')] }) }),
      ]);
    } finally {
      await admin.unbind();
    }
    const incremental = await prewarm.run('ldap');

    expect(incremental).toMatchObject({ state: 'succeeded', mode: 'incremental' });
    expect(incremental.figures.groups).toBe(1);
    expect(await store.getCachedUser('ldap', subject('judy'))).toMatchObject({
      groups: ['platform team'],
      email: emailOf('judy'),
      absentSince: null,
    });
    expect(await store.getCachedUser('ldap', subject('dave'))).toEqual(daveBefore);
    expect(incremental.figures.apiCalls * 3).toBeLessThan(full.figures.apiCalls);

    const judy = await daemon.login({ connector: 'ldap', subject: subject('judy'), email: emailOf('judy') });
    expect(judy.body.groups).toMatchObject({ source: 'cache', names: ['platform team'] });
    expect(sortedMemberships(judy.body.memberships)).toEqual(expectedMemberships(ORGANIZATIONS, ['platform team']));
  });

  // Last in the file: it reshapes engineering, and puts it back when done.
  it('records who holds a group only through a nested one, and the drift report names them', async () => {
    // engineering ∋ platform ∋ bob: bob leaves engineering's own member list for a group inside it.
    await ldapAdmin(async (admin) => {
      await admin.add(groupDn('platform'), { objectClass: 'groupOfNames', cn: 'platform', member: personDn('bob') });
      await admin.modify(groupDn('engineering'), [
        new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [personDn('bob')] }) }),
        new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [groupDn('platform')] }) }),
      ]);
    });
    try {
      workspace = writeConfig({ connector: ldapEntry(), organizations: ORGANIZATIONS });
      daemon = await startDaemon(workspace.configPath);
      const { store, prewarm } = daemon.daemon;
      const nestedOf = async (uid: string) => (await store.getCachedUser('ldap', subject(uid)))?.nestedGroups;

      expect(await prewarm.run('ldap')).toMatchObject({ state: 'succeeded', mode: 'full' });
      expect(await store.getCachedUser('ldap', subject('bob'))).toMatchObject({
        groups: ['engineering', 'platform'],
        nestedGroups: ['engineering'],
      });
      expect(await nestedOf('dave')).toEqual(['backend', 'engineering']); // db-team ⊂ backend ⊂ engineering
      expect(await nestedOf('carol')).toEqual(['engineering']);
      expect(await nestedOf('alice')).toEqual([]); // named in engineering's member list
      expect(await nestedOf('frank')).toEqual(['ops']); // the ops ↔ oncall cycle

      // No live look-up has happened: the drift report knows from the run alone.
      const nestedItems = async () => {
        const { status, body } = await daemon!.call<{ items: Array<{ user: { email: string }; organization: string; group: string; detail: string }> }>(
          'GET',
          '/v1/drift?connector=ldap&kind=nested_or_overage',
        );
        expect(status).toBe(200);
        return body.items.map((i) => `${i.user.email} ${i.organization}/${i.group}: ${i.detail}`).sort();
      };
      expect(await nestedItems()).toEqual([
        'bob@example.com Eng/engineering: holds engineering only through a nested group',
        'carol@example.com Eng/engineering: holds engineering only through a nested group',
        'dave@example.com Eng/backend: holds backend only through a nested group',
        'dave@example.com Eng/engineering: holds engineering only through a nested group',
      ]);

      // bob is named in engineering again: the incremental run re-lists it and clears the flag.
      await ldapAdmin((admin) =>
        admin.modify(groupDn('engineering'), [
          new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDn('bob')] }) }),
        ]),
      );
      expect(await prewarm.run('ldap')).toMatchObject({ state: 'succeeded', mode: 'incremental' });
      expect(await nestedOf('bob')).toEqual([]);
      expect(await nestedOf('dave')).toEqual(['backend', 'engineering']);
      expect((await nestedItems()).filter((line) => line.startsWith('bob@'))).toEqual([]);
    } finally {
      await ldapAdmin(async (admin) => {
        await admin.modify(groupDn('engineering'), [
          new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [groupDn('platform')] }) }),
        ]);
        await admin.del(groupDn('platform'));
        await admin
          .modify(groupDn('engineering'), [
            new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDn('bob')] }) }),
          ])
          .catch(() => undefined); // already back when the test got that far
      });
    }
  });
});

async function ldapAdmin(work: (admin: Client) => Promise<unknown>): Promise<void> {
  const admin = await slapd.admin();
  try {
    await work(admin);
  } finally {
    await admin.unbind();
  }
}
