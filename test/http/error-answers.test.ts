import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HOOK_TOKEN, startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * Regression tests for the probes of issue 13 (items 4, 7 and 9): each answer is the documented
 * status in the API's error shape `{ error: { code, message } }`, whoever raised it.
 */

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => d.stop());

interface Raw {
  status: number;
  headers: Headers;
  body: any;
}

/** A request with exactly these headers and body (no token unless given). */
async function send(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Raw> {
  const response = await fetch(`${d.url}${path}`, { method, headers: init.headers, body: init.body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** Bytes written straight to a socket, for requests fetch refuses to send; the raw answer. */
function rawExchange(request: string): Promise<string> {
  const { hostname, port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

function expectApiError(answer: { body: any }, code: string) {
  expect(answer.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(answer.body.error.message).not.toMatch(/\.\s*:|\.$/);
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const hook = { authorization: `Bearer ${HOOK_TOKEN}` };
const json = { 'content-type': 'application/json' };
const login = { connector: 'demo', subject: '00u1ada', email: 'ada@example.com', groups: ['developers'] };

describe('over-long path parameters (item 4)', () => {
  const longGroup = 'g'.repeat(256);

  it('a group of 101–256 characters, accepted by POST …/groups, can get members', async () => {
    const user = await d.login(login);
    expect((await d.call('POST', '/v1/organizations/OrgA/groups', { name: longGroup })).status).toBe(201);
    const added = await d.call('PUT', `/v1/organizations/OrgA/groups/${longGroup}/members/${user.body.user.id}`);
    expect(added.status).toBe(200);
    expect(added.body.memberships).toContainEqual({ organization: 'OrgA', group: longGroup, source: 'manual' });
    const removed = await d.call('DELETE', `/v1/organizations/OrgA/groups/${longGroup}/members/${user.body.user.id}`);
    expect(removed.status).toBe(200);
  });

  it('a parameter over the name limit is 400 naming it; one over 1,024 characters is 414 — both after the token check', async () => {
    const tooLong = `/v1/organizations/OrgA/groups/${'g'.repeat(257)}/members/u1`;
    const far = `/v1/organizations/OrgA/groups/${'g'.repeat(5000)}/members/u1`;
    for (const path of [tooLong, far]) {
      const anonymous = await send('PUT', path);
      expect(anonymous.status).toBe(401);
      expectApiError(anonymous, 'unauthorized');
    }
    const invalid = await send('PUT', tooLong, { headers: admin });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details).toEqual([{ path: 'params.group', message: expect.stringContaining('256') }]);
    const huge = await send('PUT', far, { headers: admin });
    expect(huge.status).toBe(414);
    expectApiError(huge, 'uri_too_long');
  });

  it('over-long parameters and malformed URLs are in the request metrics', async () => {
    await send('GET', `/v1/users/${'u'.repeat(2000)}`, { headers: admin });
    await send('GET', '/v1/users/%E0%A4%A', { headers: admin });
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toMatch(/jitsync_http_requests_total\{[^}]*route="\/v1\/users\/:id"[^}]*status="414"[^}]*\} 1/);
    expect(metrics).toMatch(/jitsync_http_requests_total\{[^}]*route="unmatched"[^}]*status="400"[^}]*\} [1-9]/);
  });
});

describe('framework errors answer in the API error shape (item 4)', () => {
  it('a malformed percent-encoding in the path → 400 invalid_url', async () => {
    const answer = await send('GET', '/v1/users/%E0%A4%A', { headers: admin });
    expect(answer.status).toBe(400);
    expectApiError(answer, 'invalid_url');
  });

  it('headers over 16 KiB → 431 headers_too_large', async () => {
    const answer = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]!)).toMatchObject({ error: { code: 'headers_too_large' } });
  });

  it('a negative Content-Length → 400 bad_request', async () => {
    const answer = await rawExchange('POST /v1/logins HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]!)).toMatchObject({ error: { code: 'bad_request' } });
  });
});

describe('misleading or off-shape error answers (item 9)', () => {
  it('a text/plain body → 415, not "expected object"', async () => {
    const answer = await send('POST', '/v1/logins', { headers: { ...hook, 'content-type': 'text/plain' }, body: JSON.stringify(login) });
    expect(answer.status).toBe(415);
    expectApiError(answer, 'unsupported_media_type');
  });

  it('application/json with a charset other than UTF-8 → 415; utf-8 in any case is taken', async () => {
    const utf16 = await send('POST', '/v1/logins', {
      headers: { ...hook, 'content-type': 'application/json; charset=utf-16' },
      body: JSON.stringify(login),
    });
    expect(utf16.status).toBe(415);
    expectApiError(utf16, 'unsupported_media_type');
    expect(utf16.body.error.message).toContain('utf-16');
    const utf8 = await send('POST', '/v1/logins', { headers: { ...hook, 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(login) });
    expect(utf8.status).toBe(200);
  });

  it('bytes that are not UTF-8 → 400, not U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"connector":"demo","subject":"00u'), Buffer.from([0xff, 0xfe]), Buffer.from('","email":"x@example.com"}')]);
    const answer = await send('POST', '/v1/logins', { headers: { ...hook, ...json }, body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('UTF-8');
  });

  it('claims.__proto__ is valid JSON: the login is answered, the key ignored (it sets no prototype)', async () => {
    // `hasgroups: true` would read as Entra overage (a live look-up) were it to reach the claims' prototype.
    const body = `{"connector":"demo","subject":"00u1ada","email":"ada@example.com","groups":["developers"],"claims":{"__proto__":{"hasgroups":true}}}`;
    const answer = await send('POST', '/v1/logins', { headers: { ...hook, ...json }, body });
    expect(answer.status).toBe(200);
    expect(answer.body.groups).toMatchObject({ source: 'token', names: ['developers'] });
    expect(({} as Record<string, unknown>).hasgroups).toBeUndefined();
    const topLevel = await send('POST', '/v1/logins', { headers: { ...hook, ...json }, body: `{"__proto__":{},${body.slice(1)}` });
    expect(topLevel.status).toBe(400);
    expect(topLevel.body.error.details).toEqual([{ path: 'body.__proto__', message: 'is not a known field' }]);
  });

  it('a repeated scalar query parameter → 400 "give this parameter once", not "received NaN"', async () => {
    const answer = await send('GET', '/v1/drift?limit=1&limit=2', { headers: admin });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([{ path: 'querystring.limit', message: 'give this parameter once' }]);
    expect(JSON.stringify(answer.body)).not.toContain('NaN');
  });

  it('an empty list value (connector=, kind=) → 400, not read as "every connector"', async () => {
    expect((await send('GET', '/v1/drift?connector=', { headers: admin })).body.error.code).toBe('unknown_connector');
    expect((await send('GET', '/v1/drift?kind=stale,', { headers: admin })).body.error.code).toBe('invalid_kind');
  });

  it('offset=0x10 → 400, not read as 16', async () => {
    const answer = await send('GET', '/v1/drift?offset=0x10', { headers: admin });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details[0].path).toBe('querystring.offset');
    for (const bad of ['1e2', '+5', ' 5', '5.0']) {
      expect((await send('GET', `/v1/drift?offset=${encodeURIComponent(bad)}`, { headers: admin })).status, bad).toBe(400);
    }
    expect((await send('GET', '/v1/drift?offset=16', { headers: admin })).status).toBe(200);
  });

  it('messages carry no stray dots: a root-level issue is "body: …", an unknown field is named', async () => {
    const notObject = await send('POST', '/v1/logins', { headers: { ...hook, ...json }, body: '[]' });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toMatch(/^body: /);
    expectApiError(notObject, 'invalid_request');
    const unknown = await send('POST', '/v1/logins', { headers: { ...hook, ...json }, body: JSON.stringify({ ...login, admin: true }) });
    expect(unknown.body.error.details).toEqual([{ path: 'body.admin', message: 'is not a known field' }]);
  });

  it('POST /v1/prewarm with no body starts every connector, as its optional fields promise', async () => {
    const none = await send('POST', '/v1/prewarm', { headers: admin });
    expect(none.status).toBe(202);
    expect(none.body.runs.map((r: { connector: string }) => r.connector).concat(none.body.skipped.map((s: { connector: string }) => s.connector))).toEqual(['demo']);
  });

  it('an undeclared method on a known path → 405 with Allow (OPTIONS → 204 with Allow), before the token check', async () => {
    const answer = await send('DELETE', '/v1/organizations');
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
    expectApiError(answer, 'method_not_allowed');
    const member = await send('POST', '/v1/organizations/OrgA/groups/developers/members/u1', { headers: admin });
    expect(member.status).toBe(405);
    expect(member.headers.get('allow')).toBe('DELETE, OPTIONS, PUT');
    const options = await send('OPTIONS', '/v1/logins');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('OPTIONS, POST');
    expect((await send('GET', '/v1/no-such-path', { headers: admin })).status).toBe(404);
  });

  it("a manual membership of the default group → 409 default_group_derived (the organization's state refuses it)", async () => {
    const user = await d.login(login);
    const answer = await d.call('PUT', `/v1/organizations/OrgA/groups/Members/members/${user.body.user.id}`);
    expect(answer.status).toBe(409);
    expectApiError(answer, 'default_group_derived');
  });
});

describe('the Bearer scheme is case-insensitive (item 7, RFC 9110 §11.1)', () => {
  it('bearer, BEARER and Bearer all open the route; the token itself stays case-sensitive', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
      expect((await send('GET', '/v1/organizations', { headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } })).status, scheme).toBe(200);
    }
    expect((await send('GET', '/v1/organizations', { headers: { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` } })).status).toBe(401);
    expect((await send('GET', '/v1/organizations', { headers: { authorization: `Basic ${ADMIN_TOKEN}` } })).status).toBe(401);
  });
});
