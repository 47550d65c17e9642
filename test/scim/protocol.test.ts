import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { CORE_GROUP, CORE_USER, PATCH_OP, startScimDaemon, type ScimDaemon } from './support.js';

/** RFC 7644 answers a client relies on beyond the IdPs' sequences: errors, preconditions, limits. */

let d: ScimDaemon;
beforeAll(async () => {
  d = await startScimDaemon();
});
afterAll(async () => d?.stop());

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe('the SCIM service provider', () => {
  it('describes itself: ServiceProviderConfig, ResourceTypes and Schemas, as application/scim+json', async () => {
    const config = await d.scim('entra', 'GET', '/ServiceProviderConfig');
    expect(config.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, etag: { supported: true }, bulk: { supported: false } });
    const types = await d.scim('entra', 'GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    const schemas = await d.scim('entra', 'GET', '/Schemas');
    expect(schemas.body.totalResults).toBe(3);
    const user = await d.scim('entra', 'GET', `/Schemas/${CORE_USER}`);
    expect(user.body.attributes.map((a: { name: string }) => a.name)).toContain('userName');
    const refused = await d.scim('entra', 'DELETE', '/Schemas');
    expect(refused.status).toBe(405);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '405' });
  });

  it('answers RFC 7644 errors: 400 invalidFilter, 404 for an unknown id, 400 for an unknown member', async () => {
    const filter = await d.scim('entra', 'GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    expect(filter.status).toBe(400);
    expect(filter.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
    const missing = await d.scim('entra', 'GET', '/Users/no-such-id');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: [ERROR], status: '404' });
    const ghost = await d.scim('entra', 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'ghosts', members: [{ value: 'nobody' }] });
    expect(ghost.status).toBe(400);
    expect(ghost.body.scimType).toBe('invalidValue');
    const noName = await d.scim('entra', 'POST', '/Users', { schemas: [CORE_USER] });
    expect(noName.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const notJson = await d.scim('entra', 'POST', '/Users', '{"userName":');
    expect(notJson.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });

  it('a PATCH that fails changes nothing', async () => {
    const created = await d.scim('entra', 'POST', '/Users', { schemas: [CORE_USER], userName: 'patchy@example.com', externalId: 'patchy' });
    const failed = await d.scim('entra', 'PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Changed' },
        { op: 'remove', path: 'emails[' },
      ],
    });
    expect(failed.status).toBe(400);
    expect(failed.body.scimType).toBe('invalidPath');
    const read = await d.scim('entra', 'GET', `/Users/${created.body.id}`);
    expect(read.body).not.toHaveProperty('displayName');
    expect(read.body.meta.version).toBe('W/"1"');
  });

  it('concurrent member PATCHes of one group lose no member, and the cache ends as the group says', async () => {
    const group = await d.scim('okta', 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'developers' });
    const users = await Promise.all(
      Array.from({ length: 10 }, (_, i) => d.scim('okta', 'POST', '/Users', { schemas: [CORE_USER], userName: `c${i}@example.com`, externalId: `c${i}` })),
    );
    const answers = await Promise.all(
      users.map((u) =>
        d.scim('okta', 'PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u.body.id }] }] }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const read = await d.scim('okta', 'GET', `/Groups/${group.body.id}`);
    expect(read.body.members.map((m: { value: string }) => m.value).sort()).toEqual(users.map((u) => u.body.id).sort());
    const cached = await d.daemon.store.getCachedUsers('okta', users.map((_, i) => `c${i}`));
    expect(cached.map((c) => c.groups)).toEqual(Array(10).fill(['developers']));
  });

  it('honours If-Match: 412 on a stale version, the write goes through on the current one', async () => {
    const created = await d.scim('entra', 'POST', '/Users', { schemas: [CORE_USER], userName: 'etag@example.com' });
    const id = created.body.id;
    const body = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Dr' }] };
    const stale = await d.scim('entra', 'PATCH', `/Users/${id}`, body, { 'if-match': 'W/"7"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ schemas: [ERROR], status: '412' });
    const current = await d.scim('entra', 'PATCH', `/Users/${id}`, body, { 'if-match': 'W/"1"' });
    expect(current.status).toBe(200);
    expect(current.headers.get('etag')).toBe('W/"2"');
  });

  it('takes a group PATCH adding 2,000 members at once, and answers 413 beyond the 1 MiB body limit', async () => {
    const group = await d.scim('entra', 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'everyone' });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const user = await d.scim('entra', 'POST', '/Users', { schemas: [CORE_USER], userName: `member${i}@example.com`, externalId: `m${i}` });
      ids.push(user.body.id);
    }
    // Entra's members as Okta sends them, with a display name each: ~110 bytes a member.
    const members = Array.from({ length: 2_000 }, (_, i) => ({ value: ids[i % ids.length], display: `member${i}@example.com with a long display name` }));
    const big = await d.scim('entra', 'PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: members }] });
    expect(big.status).toBe(200);
    expect(big.body.members).toHaveLength(40);
    expect((await d.daemon.store.getCachedUser('entra', 'm7'))?.groups).toEqual(['everyone']);

    const huge = await d.scim('entra', 'POST', '/Users', { schemas: [CORE_USER], userName: 'huge@example.com', padding: 'x'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ schemas: [ERROR], status: '413' });
  });

  it('a scim connector has nothing to pre-warm: a run of it is refused (409), and "every connector" skips it', async () => {
    const one = await d.call('POST', '/v1/prewarm', { connector: 'entra' });
    expect(one.status).toBe(409);
    expect(one.body.error).toMatchObject({ code: 'prewarm_not_applicable', message: expect.stringContaining('pushes') });
    const all = await d.call('POST', '/v1/prewarm', {});
    expect(all.status).toBe(202);
    expect(all.body.skipped.map((s: { connector: string }) => s.connector).sort()).toEqual(['entra', 'okta']);
    expect(all.body.runs.map((r: { connector: string }) => r.connector)).toEqual(['demo']);
    // The pushed cache is intact.
    expect((await d.daemon.store.getCachedUser('entra', 'm7'))?.groups).toEqual(['everyone']);
  });
});

describe('the rate limit', () => {
  let slow: TestDaemon;
  beforeAll(async () => {
    slow = await startDaemon({ extra: '  - { id: slow, type: scim, token: scim-slow-token-0123456789, rateLimit: { perSecond: 1, burst: 2 } }' });
  });
  afterAll(async () => slow?.stop());

  it('answers 429 with Retry-After once the burst is spent', async () => {
    const statuses: Array<{ status: number; retryAfter: string | null; body: unknown }> = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${slow.url}/scim/v2/slow/Users`, { headers: { authorization: 'Bearer scim-slow-token-0123456789' } });
      statuses.push({ status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() });
    }
    const limited = statuses.find((s) => s.status === 429);
    expect(limited).toBeDefined();
    expect(Number(limited!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(limited!.body).toMatchObject({ schemas: [ERROR], status: '429' });
  });
});
