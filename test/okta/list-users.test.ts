import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, hasUserListing, type IdpUser } from '../../connectors/types.js';
import { OktaDirectory, SEEDED_AT, type FakeOkta, type OktaUser } from '../fakes/okta/index.js';
import { callOptions, collect, newStats, oktaConnectorFor, onPath, startFakeOkta } from './helpers.js';

const onUsersList = onPath('/api/v1/users');

describe('Okta connector: every user of the org (UserListing)', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();
  let loner: OktaUser;
  let suspended: OktaUser;
  let nameless: OktaUser;
  let gone: OktaUser;

  beforeAll(async () => {
    const team = directory.addGroup({ name: 'team', at: SEEDED_AT });
    for (let u = 0; u < 397; u++) {
      const user = directory.addUser({ login: `u${u}@example.com`, firstName: 'U', lastName: String(u), at: SEEDED_AT });
      directory.addMember(team.id, user.id, SEEDED_AT);
    }
    loner = directory.addUser({ login: 'loner@example.com', firstName: 'Lone', lastName: 'Wolf', at: SEEDED_AT });
    suspended = directory.addUser({ login: 'sus@example.com', firstName: 'Sus', status: 'SUSPENDED', at: SEEDED_AT });
    nameless = directory.addUser({ login: 'staged@example.com', status: 'STAGED', at: SEEDED_AT });
    directory.addUser({ login: 'svc@example.com', email: 'svc-owner@example.com', lastName: 'Service', at: SEEDED_AT });
    gone = directory.addUser({ login: 'gone@example.com', firstName: 'Gone', status: 'DEPROVISIONED', at: SEEDED_AT });
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.server.resetLog();
    fake.clearFaults();
  });

  it('offers the capability', () => {
    expect(hasUserListing(oktaConnectorFor(fake))).toBe(true);
  });

  it('lists every user but the DEPROVISIONED across pages of 200, in the fewest requests', async () => {
    const stats = newStats();
    const { items, pages } = await collect(oktaConnectorFor(fake).listUsers(callOptions(stats)));

    const expected = directory.users().filter((u) => u.status !== 'DEPROVISIONED');
    expect(expected).toHaveLength(401);
    expect(items.map((u) => u.subject)).toEqual(expected.map((u) => u.id));
    expect(items.map((u) => u.subject)).not.toContain(gone.id);
    // A user in no group and users who are not ACTIVE are still in the org.
    expect(items.map((u) => u.subject)).toEqual(expect.arrayContaining([loner.id, suspended.id, nameless.id]));
    expect(pages).toBe(3);
    expect(fake.apiCalls(onUsersList)).toBe(Math.ceil(401 / 200));
    expect(stats).toEqual({ apiCalls: 3, pages: 3, retries: 0 });
    for (const request of fake.server.requests) {
      expect(request.query.get('limit')).toBe('200');
      expect(request.query.has('search') || request.query.has('filter') || request.query.has('q')).toBe(false);
    }
  });

  it('reports each user exactly as lookupUser and listMembers do', async () => {
    const connector = oktaConnectorFor(fake);
    const listed = new Map((await collect(connector.listUsers(callOptions()))).items.map((u) => [u.subject, u]));
    const sample = [loner, suspended, nameless, directory.user('svc@example.com')!, directory.user('u7@example.com')!];
    for (const user of sample) {
      const found = await connector.lookupUser({ subject: user.id, email: user.profile.email }, callOptions());
      if (!found) throw new Error(`lookupUser did not find ${user.id}`);
      const { subject, email, name } = found;
      expect(listed.get(user.id)).toEqual<IdpUser>({ subject, email, name });
    }
    expect(listed.get(loner.id)).toEqual({ subject: loner.id, email: 'loner@example.com', name: 'Lone Wolf' });
    expect(listed.get(nameless.id)).toEqual({ subject: nameless.id, email: 'staged@example.com', name: null });
    expect(listed.get(directory.user('svc@example.com')!.id)?.email).toBe('svc-owner@example.com');

    const team = directory.groups()[0]!;
    const members = (await collect(connector.listMembers({ id: team.id, name: 'team' }, callOptions()))).items;
    expect(members[3]).toEqual(listed.get(members[3]!.subject));
  });

  it('fails with a ConnectorError, never a short or empty list, when 5xx outlast the retries', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 2 });
    fake.serverErrors(10, { match: onUsersList });
    const pages: IdpUser[][] = [];
    const stats = newStats();
    const error = await (async () => {
      for await (const page of connector.listUsers(callOptions(stats))) pages.push(page);
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(pages).toEqual([]);
    expect(stats).toMatchObject({ apiCalls: 3, retries: 2 });
  });

  it('fails mid-listing with an error rather than ending early', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 1 });
    fake.serverErrors(2, { match: (request) => onUsersList(request) && request.query.has('after') });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const page of connector.listUsers(callOptions())) seen.push(...page.map((u) => u.subject));
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(seen).toHaveLength(200);
  });
});

describe('fake Okta org: GET /api/v1/users', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();

  beforeAll(async () => {
    directory.addUser({ login: 'ada@example.com', at: SEEDED_AT });
    directory.addUser({ login: 'old@example.com', status: 'DEPROVISIONED', at: SEEDED_AT });
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());

  const logins = async (query: string): Promise<string[]> => {
    const response = await fetch(`${fake.baseUrl}/api/v1/users${query}`, {
      headers: { authorization: `SSWS ${fake.token}`, accept: 'application/json' },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Array<{ profile: { login: string } }>;
    return body.map((u) => u.profile.login);
  };

  it('leaves DEPROVISIONED users out unless a search asks for them', async () => {
    expect(await logins('')).toEqual(['ada@example.com']);
    expect(await logins(`?search=${encodeURIComponent('profile.login eq "old@example.com"')}`)).toEqual(['old@example.com']);
  });
});
