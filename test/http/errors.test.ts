import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HOOK_TOKEN, startDaemon, type TestDaemon } from '../support/daemon.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => d.stop());

const valid = { connector: 'demo', subject: '00u1ada', email: 'ada@example.com', groups: ['developers'] };

/** Bad input must change nothing: no account, no audit entry, no cache entry. */
async function expectNothingWritten() {
  expect(await d.daemon.store.countUsers()).toBe(0);
  expect(await d.daemon.store.listAudit({})).toEqual([]);
  expect(await d.daemon.store.getCachedUser('demo', '00u1ada')).toBeNull();
}

describe('bad input gets the documented status and error body and writes nothing', () => {
  it('malformed JSON → 400', async () => {
    const { status, body } = await d.call('POST', '/v1/logins', '{"connector": "demo",');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/JSON/i);
    await expectNothingWritten();
  });

  it('wrong types → 400 naming each field', async () => {
    const { status, body } = await d.call('POST', '/v1/logins', { ...valid, subject: 42, groups: 'developers' });
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    const paths = body.error.details.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['body.subject', 'body.groups']));
    await expectNothingWritten();
  });

  it('missing email → 400', async () => {
    const { email: _omitted, ...withoutEmail } = valid;
    const { status, body } = await d.call('POST', '/v1/logins', withoutEmail);
    expect(status).toBe(400);
    expect(body.error.message).toContain('body.email');
    await expectNothingWritten();
  });

  it('malformed email and unknown fields → 400', async () => {
    expect((await d.call('POST', '/v1/logins', { ...valid, email: 'not-an-email' })).status).toBe(400);
    expect((await d.call('POST', '/v1/logins', { ...valid, admin: true })).status).toBe(400);
    await expectNothingWritten();
  });

  it('unknown connector → 400 listing the known ones', async () => {
    const { status, body } = await d.call('POST', '/v1/logins', { ...valid, connector: 'okta-prod' });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'unknown_connector', details: { known: ['demo'] } });
    await expectNothingWritten();
  });

  it('a body over 64 KiB → 413', async () => {
    const groups = Array.from({ length: 3000 }, (_, i) => `group-with-a-long-name-${i}`);
    const { status, body } = await d.call('POST', '/v1/logins', { ...valid, groups });
    expect(status).toBe(413);
    expect(body.error.code).toBe('payload_too_large');
    await expectNothingWritten();
  });

  it('a missing or wrong token → 401, and each token opens only its own routes', async () => {
    expect((await d.call('POST', '/v1/logins', valid, null)).status).toBe(401);
    expect((await d.call('POST', '/v1/logins', valid, 'wrong-token-0123456789')).status).toBe(401);
    expect((await d.call('POST', '/v1/logins', valid, ADMIN_TOKEN)).status).toBe(401);
    expect((await d.call('GET', '/v1/organizations', undefined, HOOK_TOKEN)).status).toBe(401);
    const { body } = await d.call('GET', '/v1/organizations', undefined, null);
    expect(body.error.code).toBe('unauthorized');
    await expectNothingWritten();
  });

  it('unknown routes and resources → 404', async () => {
    expect((await d.call('GET', '/v1/nothing-here')).status).toBe(404);
    const user = await d.call('GET', '/v1/users/no-such-user');
    expect(user.status).toBe(404);
    expect(user.body.error.code).toBe('not_found');
  });
});
