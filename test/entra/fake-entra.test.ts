import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FakeEntra } from '../fakes/entra/fake-entra.js';

/** The fake must be as strict as Graph: a loose fake hides client bugs. */

let fake: FakeEntra;
let token: string;

beforeEach(async () => {
  fake = new FakeEntra();
  await fake.start();
  token = await fetchToken(fake.clientSecret).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
});
afterEach(() => fake.stop());

function fetchToken(secret: string): Promise<Response> {
  return fetch(`${fake.baseUrl}/${fake.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: fake.clientId, client_secret: secret, scope: fake.scope, grant_type: 'client_credentials' }),
  });
}

async function graph(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${fake.baseUrl}/v1.0${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('fake Entra', () => {
  test('OpenID metadata names the tenant token endpoint and an issuer on the same host', async () => {
    const response = await fetch(`${fake.baseUrl}/${fake.tenantId}/v2.0/.well-known/openid-configuration`);
    const body = (await response.json()) as Record<string, string>;
    expect(body.token_endpoint).toBe(`${fake.baseUrl}/${fake.tenantId}/oauth2/v2.0/token`);
    expect(body.issuer).toBe(`${fake.baseUrl}/${fake.tenantId}/v2.0`);
  });

  test('a wrong client secret gets 401 invalid_client with an AADSTS description', async () => {
    const response = await fetchToken('wrong');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
  });

  test('Graph without a valid bearer token is 401 InvalidAuthenticationToken', async () => {
    const response = await fetch(`${fake.baseUrl}/v1.0/groups`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
    fake.revokeTokens();
    expect((await graph('/groups')).status).toBe(401);
  });

  test('membership casts need ConsistencyLevel: eventual and $count=true', async () => {
    const user = fake.directory.addUser({ userPrincipalName: 'a@example.com' });
    const path = `/users/${user.id}/transitiveMemberOf/microsoft.graph.group`;
    expect((await graph(path)).status).toBe(400);
    expect((await graph(`${path}?$count=true`)).status).toBe(400);
    expect((await graph(path, { ConsistencyLevel: 'eventual' })).status).toBe(400);
    expect(await graph(`${path}?$count=true`, { ConsistencyLevel: 'eventual' })).toMatchObject({
      status: 200,
      body: { '@odata.count': 0, value: [] },
    });
  });

  test('$top outside 1..999, unknown query options and unknown properties are 400; unknown routes 404', async () => {
    expect((await graph('/groups?$top=1000')).status).toBe(400);
    expect((await graph('/groups?$top=0')).status).toBe(400);
    expect((await graph('/groups?$orderby=displayName')).status).toBe(400);
    expect((await graph('/groups?$select=id,nope')).body).toMatchObject({ error: { code: 'Request_BadRequest' } });
    expect((await graph('/groupz')).status).toBe(404);
    expect((await graph('/users/nobody')).status).toBe(404);
  });

  test('paging: default 100 per page, absolute nextLink that keeps $select', async () => {
    for (let i = 0; i < 150; i++) fake.directory.addGroup({ displayName: `g${i}` });
    const first = await graph('/groups?$select=id,displayName');
    expect(first.body.value).toHaveLength(100);
    const next = String(first.body['@odata.nextLink']);
    expect(next.startsWith(`${fake.baseUrl}/v1.0/groups?`)).toBe(true);
    const second = await graph(next.slice(`${fake.baseUrl}/v1.0`.length));
    expect(second.body.value).toHaveLength(50);
    expect(second.body['@odata.nextLink']).toBeUndefined();
    expect(Object.keys((second.body.value as object[])[0]!).sort()).toEqual(['displayName', 'id']);
  });

  test('delta: full first round, then only changes; an expired token is 410 Gone', async () => {
    const user = fake.directory.addUser({ userPrincipalName: 'a@example.com' });
    const group = fake.directory.addGroup({ displayName: 'g', members: [user.id] });
    fake.directory.addGroup({ displayName: 'h' });
    const first = await graph('/groups/delta?$select=displayName,members');
    expect(first.body.value).toEqual([
      { id: group.id, displayName: 'g', 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: user.id }] },
      expect.objectContaining({ displayName: 'h' }),
    ]);
    const deltaPath = String(first.body['@odata.deltaLink']).slice(`${fake.baseUrl}/v1.0`.length);

    fake.directory.removeMember(group.id, user.id);
    const second = await graph(deltaPath);
    expect(second.body.value).toEqual([
      { id: group.id, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: user.id, '@removed': { reason: 'deleted' } }] },
    ]);

    fake.expireDeltaTokens();
    const third = await graph(String(second.body['@odata.deltaLink']).slice(`${fake.baseUrl}/v1.0`.length));
    expect(third.status).toBe(410);
  });
});
