import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import { AccessLevel } from '../fakes/gitlab/directory.js';
import { paginate } from '../fakes/gitlab/paging.js';
import { ADMIN_TOKEN, startGitlab, USER_TOKEN } from './harness.js';

/** The fake itself follows GitLab's documented API: what the connector tests rely on. */
describe('fake GitLab API v4', () => {
  let fake: GitlabFake;
  const get = (path: string, token: string | null = ADMIN_TOKEN, bearer = false) =>
    fetch(`${fake.server.baseUrl}/api/v4${path}`, {
      headers: token === null ? {} : bearer ? { authorization: `Bearer ${token}` } : { 'private-token': token },
    });

  beforeAll(async () => {
    fake = await startGitlab();
    const d = fake.directory;
    d.addGroup({ fullPath: 'top', name: 'Top' });
    d.addGroup({ fullPath: 'top/sub', name: 'Sub' });
    for (let i = 0; i < 45; i++) d.addGroup(`top/sub/g${String(i).padStart(2, '0')}`);
    const ada = d.addUser({ username: 'ada', name: 'Ada Lovelace' });
    d.addMember('top', ada.id, AccessLevel.developer);
    d.addMember('top/sub', ada.id, AccessLevel.maintainer);
    d.addMember('top/sub/g01', ada.id, AccessLevel.guest);
  });
  afterAll(() => fake.stop());

  it('refuses a missing or wrong token with 401 and accepts PRIVATE-TOKEN or Bearer', async () => {
    for (const response of [await get('/groups', null), await get('/groups', 'nope')]) {
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: '401 Unauthorized' });
    }
    expect((await get('/groups', ADMIN_TOKEN, true)).status).toBe(200);
  });

  it('pages with x-* headers and absolute Link URLs that keep the query', async () => {
    const response = await get('/groups?all_available=true&per_page=20&page=2');
    expect(response.status).toBe(200);
    const h = response.headers;
    expect([h.get('x-page'), h.get('x-per-page'), h.get('x-next-page'), h.get('x-prev-page')]).toEqual(['2', '20', '3', '1']);
    expect([h.get('x-total'), h.get('x-total-pages')]).toEqual(['47', '3']);
    const links = Object.fromEntries(
      [...(h.get('link') ?? '').matchAll(/<([^>]+)>; rel="(\w+)"/g)].map(([, url, rel]) => [rel, url]),
    );
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next', 'prev']);
    const next = new URL(links.next!);
    expect(next.origin).toBe(fake.server.baseUrl);
    expect(next.pathname).toBe('/api/v4/groups');
    expect(Object.fromEntries(next.searchParams)).toEqual({ all_available: 'true', per_page: '20', page: '3' });
    expect(await response.json()).toHaveLength(20);
    const last = await get('/groups?all_available=true&per_page=20&page=3');
    expect(last.headers.get('x-next-page')).toBe('');
    expect(last.headers.get('ratelimit-limit')).toBeTruthy();
  });

  it('drops totals and rel="last" past 10,000 rows, as GitLab does', () => {
    const request = {
      method: 'GET',
      path: '/api/v4/groups',
      query: new URLSearchParams('per_page=100&page=3'),
      headers: { host: '127.0.0.1:1' },
    };
    const { body, headers } = paginate(request, Array.from({ length: 10_001 }, (_, i) => i));
    expect(body[0]).toBe(200);
    expect(headers['x-next-page']).toBe('4');
    expect(headers['x-total']).toBeUndefined();
    expect(headers['x-total-pages']).toBeUndefined();
    expect(headers.link).not.toContain('rel="last"');
  });

  it('caps per_page at 100 and defaults to 20', async () => {
    expect((await get('/groups?per_page=500')).headers.get('x-per-page')).toBe('100');
    expect((await get('/groups')).headers.get('x-per-page')).toBe('20');
    expect((await get('/groups?per_page=abc')).status).toBe(400);
  });

  it('routes a path id only in its URL-encoded form', async () => {
    const encoded = await get('/groups/top%2Fsub/descendant_groups?per_page=100');
    expect(encoded.status).toBe(200);
    const rows = (await encoded.json()) as Array<{ full_path: string; full_name: string; parent_id: number }>;
    expect(rows).toHaveLength(45);
    expect(rows[0]).toMatchObject({ full_path: 'top/sub/g00', full_name: 'Top / Sub / g00' });
    const raw = await get('/groups/top/sub/descendant_groups');
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({ error: '404 Not Found' });
  });

  it('answers 404 Group Not Found / User Not Found for unknown ids', async () => {
    const group = await get('/groups/nowhere/members/all');
    expect([group.status, await group.json()]).toEqual([404, { message: '404 Group Not Found' }]);
    const user = await get('/users/999999');
    expect([user.status, await user.json()]).toEqual([404, { message: '404 User Not Found' }]);
  });

  it('lists inherited members once each, with the highest access level', async () => {
    const all = (await (await get('/groups/top%2Fsub%2Fg01/members/all')).json()) as Array<{ username: string; access_level: number }>;
    expect(all.filter((m) => m.username === 'ada')).toEqual([expect.objectContaining({ access_level: 40 })]);
    const direct = (await (await get('/groups/top%2Fsub%2Fg02/members')).json()) as unknown[];
    expect(direct).toEqual([]);
  });

  it('shows user memberships (direct only, Namespace) to administrators only', async () => {
    const ada = fake.directory.allUsers().find((u) => u.username === 'ada')!;
    const rows = (await (await get(`/users/${ada.id}/memberships?type=Namespace`)).json()) as Array<{ source_name: string }>;
    expect(rows.map((r) => r.source_name).sort()).toEqual(['Sub', 'Top', 'g01']);
    expect((await get(`/users/${ada.id}/memberships`, USER_TOKEN)).status).toBe(403);
    expect((await get(`/users/${ada.id}/memberships?type=Group`)).status).toBe(400);
  });

  it('finds users by username or search', async () => {
    const byName = (await (await get('/users?username=ADA')).json()) as Array<{ id: number }>;
    expect(byName).toHaveLength(1);
    const bySearch = (await (await get('/users?search=lovelace')).json()) as Array<{ username: string }>;
    expect(bySearch.map((u) => u.username)).toEqual(['ada']);
  });
});
