import { afterEach, describe, expect, test } from 'vitest';
import { ConnectorError, hasUserListing, type IdpUser } from '../../connectors/types.js';
import type { LoggedRequest } from '../fakes/fake-server.js';
import type { FakeEntra } from '../fakes/entra/fake-entra.js';
import { callOptions, collect, startEntra } from './harness.js';

let fake: FakeEntra | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

const usersCall = (r: LoggedRequest) => r.path === '/v1.0/users';

/** Nine users in a group, one in none, one without mail, one disabled. */
function seed(entra: FakeEntra) {
  const d = entra.directory;
  const members = Array.from({ length: 8 }, (_, i) =>
    d.addUser({ userPrincipalName: `user${i}@example.com`, displayName: `User ${i}` }),
  );
  const loner = d.addUser({ userPrincipalName: 'loner@example.com', displayName: 'Lone Wolf', mail: 'Lone.Wolf@example.com' });
  const nomail = d.addUser({ userPrincipalName: 'svc@example.com', displayName: 'Service', mail: null });
  const disabled = d.addUser({ userPrincipalName: 'off@example.com', displayName: 'Off', accountEnabled: false });
  d.addGroup({ displayName: 'Staff', members: [...members.map((u) => u.id), nomail.id, disabled.id] });
  return { members, loner, nomail, disabled };
}

describe('entra connector: listUsers', () => {
  test('lists every user of the tenant across pages, with the fewest requests the page size allows', async () => {
    const started = await startEntra({}, { pageSize: 4 });
    fake = started.fake;
    const { loner } = seed(fake);
    const options = callOptions();

    expect(hasUserListing(started.connector)).toBe(true);
    const pages = await collect(started.connector.listUsers(options));

    expect(pages.map((p) => p.length)).toEqual([4, 4, 3]);
    expect(pages.flat().map((u) => u.subject)).toEqual(fake.directory.listUsers().map((u) => u.id));
    expect(pages.flat().map((u) => u.subject)).toContain(loner.id);
    const calls = fake.graphCalls('/v1.0/users');
    expect(calls).toHaveLength(Math.ceil(11 / 4));
    expect(calls.every((r) => r.query.get('$top') === '4' && r.query.get('$select') === 'id,displayName,mail')).toBe(true);
    expect(options.stats).toEqual({ apiCalls: 3, pages: 3, retries: 0 });
  });

  test("asks for Graph's maximum page of 999 by default", async () => {
    const started = await startEntra();
    fake = started.fake;
    seed(fake);

    expect((await collect(started.connector.listUsers(callOptions()))).flat()).toHaveLength(11);
    expect(fake.graphCalls('/v1.0/users').map((r) => r.query.get('$top'))).toEqual(['999']);
  });

  test('reports each user exactly as lookupUser and listMembers do', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { members, loner, nomail, disabled } = seed(fake);
    const listed = new Map((await collect(started.connector.listUsers(callOptions()))).flat().map((u) => [u.subject, u]));

    for (const user of [members[0]!, loner, nomail, disabled]) {
      const found = await started.connector.lookupUser({ subject: user.id, email: user.userPrincipalName }, callOptions());
      if (!found) throw new Error(`lookupUser did not find ${user.userPrincipalName}`);
      expect(listed.get(user.id)).toEqual<IdpUser>({ subject: found.subject, email: found.email, name: found.name });
    }
    expect(listed.get(loner.id)).toEqual({ subject: loner.id, email: 'Lone.Wolf@example.com', name: 'Lone Wolf' });
    expect(listed.get(nomail.id)).toEqual({ subject: nomail.id, email: null, name: 'Service' });

    const staff = fake.directory.listGroups()[0]!;
    const inGroup = (await collect(started.connector.listMembers({ id: staff.id, name: 'Staff' }, callOptions()))).flat();
    // Every member of Staff, so that the comparison below covers all ten of them.
    const staffIds = [...members.map((u) => u.id), nomail.id, disabled.id];
    expect(inGroup.map((member) => member.subject).sort()).toEqual(staffIds.sort());
    for (const member of inGroup) expect(listed.get(member.subject)).toEqual(member);
  });

  test('5xx beyond the retries is a ConnectorError, never an empty list', async () => {
    const started = await startEntra({}, { maxRetries: 2 });
    fake = started.fake;
    seed(fake);
    fake.server.inject({ match: usersCall, times: 3, response: { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'busy' } } } });
    const options = callOptions();
    const pages: unknown[] = [];

    const error = await (async () => {
      for await (const page of started.connector.listUsers(options)) pages.push(page);
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(pages).toEqual([]);
    expect(options.stats).toMatchObject({ apiCalls: 3, retries: 2 });
  });

  test('a failure after the first page ends the listing with an error', async () => {
    const started = await startEntra({}, { pageSize: 5, maxRetries: 0 });
    fake = started.fake;
    seed(fake);
    fake.server.inject({ match: (r) => usersCall(r) && r.query.has('$skiptoken'), times: 1, response: { status: 500, body: { error: { code: 'x', message: 'y' } } } });
    const pages: unknown[] = [];

    const error = await (async () => {
      for await (const page of started.connector.listUsers(callOptions())) pages.push(page);
    })().catch((e: unknown) => e);

    expect(pages).toHaveLength(1);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
  });
});

describe('fake Entra: GET /v1.0/users', () => {
  test('rejects query options it does not implement and properties users do not have', async () => {
    const started = await startEntra();
    fake = started.fake;
    const token = await tokenFor(fake);
    const get = (query: string) => fetch(`${fake!.baseUrl}/v1.0/users${query}`, { headers: { authorization: `Bearer ${token}` } });

    expect((await get('?$filter=accountEnabled eq true')).status).toBe(400);
    expect((await get('?$select=id,members')).status).toBe(400);
    expect((await get('?$top=1000')).status).toBe(400);
    expect((await get('?$top=999')).status).toBe(200);
  });
});

async function tokenFor(entra: FakeEntra): Promise<string> {
  const response = await fetch(`${entra.baseUrl}/${entra.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: entra.clientId,
      client_secret: entra.clientSecret,
      scope: entra.scope,
    }),
  });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}
