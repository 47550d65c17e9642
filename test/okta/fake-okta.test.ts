import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OktaDirectory, SEEDED_AT, type FakeOkta } from '../fakes/okta/index.js';
import { startFakeOkta } from './helpers.js';

/** The fake must be as strict as Okta, or it would hide client bugs. Checked with plain fetch. */
describe('fake Okta org', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();

  const get = (path: string, token = fake.token) =>
    fetch(`${fake.baseUrl}${path}`, { headers: { authorization: `SSWS ${token}`, accept: 'application/json' } });
  const nextLink = (response: Response) => /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) directory.addGroup({ name: `team-${i}`, at: SEEDED_AT });
    directory.addGroup({ name: 'AD', type: 'APP_GROUP', at: '2025-06-01T00:00:00.000Z' });
    directory.addUser({ login: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', at: SEEDED_AT });
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());

  it('wants Authorization: SSWS with the right token, answering 401 E0000011 otherwise', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer ' + fake.token }, { authorization: 'SSWS nope' }];
    for (const headers of variants) {
      const response = await fetch(`${fake.baseUrl}/api/v1/groups`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toMatchObject({ errorCode: 'E0000011', errorCauses: [] });
    }
  });

  it('puts JSON, Date and the rate-limit headers on every answer', async () => {
    const response = await get('/api/v1/groups');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(Number.isNaN(Date.parse(response.headers.get('date') ?? ''))).toBe(false);
    expect(Number(response.headers.get('x-rate-limit-limit'))).toBeGreaterThan(0);
    expect(response.headers.get('x-rate-limit-remaining')).toMatch(/^\d+$/);
    expect(Number(response.headers.get('x-rate-limit-reset')) * 1000).toBeGreaterThan(Date.now());
  });

  it('answers 404 E0000007 for routes and objects Okta does not have, 405 for other methods', async () => {
    for (const path of ['/api/v1/groupz', '/api/v1/groups/', '/api/v2/groups', '/api/v1/groups/00gnope/users']) {
      const response = await get(path);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ errorCode: 'E0000007' });
    }
    const post = await fetch(`${fake.baseUrl}/api/v1/groups`, { method: 'POST', headers: { authorization: `SSWS ${fake.token}` } });
    expect(post.status).toBe(405);
  });

  it('pages with an absolute next link and an opaque cursor, and no next link on the last page', async () => {
    const first = await get('/api/v1/groups?limit=4');
    expect((await first.json()) as unknown[]).toHaveLength(4);
    expect(first.headers.get('link')).toContain(`<${fake.baseUrl}/api/v1/groups?limit=4>; rel="self"`);
    const next = nextLink(first)!;
    expect(next.startsWith(`${fake.baseUrl}/api/v1/groups?limit=4&after=`)).toBe(true);

    const second = await get(next.slice(fake.baseUrl.length));
    expect((await second.json()) as unknown[]).toHaveLength(2);
    expect(nextLink(second)).toBeUndefined();

    expect((await get('/api/v1/groups?limit=6')).headers.get('link')).not.toContain('rel="next"');
    expect((await get('/api/v1/groups?after=00g000')).status).toBe(400);
    expect((await get('/api/v1/groups?limit=0')).status).toBe(400);
  });

  it('filters groups the way the SDK sends it, with and binding tighter than or', async () => {
    const names = async (filter: string) => {
      const response = await get(`/api/v1/groups?filter=${encodeURIComponent(filter)}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { profile: { name: string } }[]).map((g) => g.profile.name);
    };
    expect(await names('type eq "APP_GROUP"')).toEqual(['AD']);
    expect(await names('lastMembershipUpdated gt "2025-01-01T00:00:00.000Z"')).toEqual(['AD']);
    expect(await names('type eq "OKTA_GROUP" and lastUpdated gt "2025-01-01T00:00:00.000Z" or type eq "APP_GROUP"')).toEqual(['AD']);
    expect(await names('type eq "OKTA_GROUP" and (lastUpdated gt "2025-01-01T00:00:00.000Z" or type eq "APP_GROUP")')).toEqual([]);

    for (const bad of ['type eq OKTA_GROUP', 'name eq "x"', 'lastUpdated gt "yesterday"', '(type eq "APP_GROUP"', 'type co "OKTA"']) {
      const response = await get(`/api/v1/groups?filter=${encodeURIComponent(bad)}`);
      expect(response.status, bad).toBe(400);
      expect(await response.json()).toMatchObject({ errorCode: 'E0000031' });
    }
  });

  it('finds users by id, by login and by an email search', async () => {
    const ada = directory.user('ada@example.com')!;
    expect(await (await get(`/api/v1/users/${ada.id}`)).json()).toMatchObject({ id: ada.id, status: 'ACTIVE' });
    expect(await (await get('/api/v1/users/ada%40example.com')).json()).toMatchObject({ id: ada.id });
    const search = await get(`/api/v1/users?search=${encodeURIComponent('profile.email eq "ADA@example.com"')}`);
    expect(((await search.json()) as { id: string }[]).map((u) => u.id)).toEqual([ada.id]);
    expect((await get(`/api/v1/users?q=ada`)).status).toBe(400);
  });

  it('injects 429 storms with E0000047 and a reset one second ahead', async () => {
    fake.rateLimitStorm(1);
    const response = await get('/api/v1/groups');
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ errorCode: 'E0000047' });
    const reset = Number(response.headers.get('x-rate-limit-reset'));
    const date = Date.parse(response.headers.get('date')!) / 1000;
    expect(reset - date).toBe(1);
    expect(response.headers.get('x-rate-limit-remaining')).toBe('0');
    expect((await get('/api/v1/groups')).status).toBe(200);
  });
});
