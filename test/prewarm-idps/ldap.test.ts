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
});
