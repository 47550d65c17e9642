import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_KINDS } from '../../daemon/drift/types.js';
import { BODY_LIMIT } from '../../daemon/http/server.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * Issue 13, item 10: the OpenAPI document is the API's exact contract. (Schemathesis, run by
 * test/schemathesis/run.sh, holds every answer to it; these tests pin what the document says.)
 */

let d: TestDaemon;
let doc: any;
beforeAll(async () => {
  d = await startDaemon();
  doc = await (await fetch(`${d.url}/openapi.json`)).json();
});
afterAll(async () => d.stop());

type Operation = { method: string; path: string; op: any };
const operations = (): Operation[] =>
  Object.entries<any>(doc.paths).flatMap(([path, methods]) => Object.entries<any>(methods).map(([method, op]) => ({ method, path, op })));
/** The API proper; the probes and metrics outside `/v1` need no token. */
const v1 = () => operations().filter(({ path }) => path.startsWith('/v1/'));

describe('the OpenAPI document', () => {
  it("documents GET /v1/drift's 200 bodies: JSON with its items, CSV and HTML", () => {
    const ok = doc.paths['/v1/drift'].get.responses['200'];
    expect(Object.keys(ok.content).sort()).toEqual(['application/json', 'text/csv', 'text/html']);
    const page = ok.content['application/json'].schema;
    expect(page.required).toEqual(expect.arrayContaining(['generatedAt', 'summary', 'total', 'items']));
    expect(page.properties.items.items.properties.kind.enum).toEqual([...DRIFT_KINDS]);
    expect(ok.content['text/csv'].schema.type).toBe('string');
  });

  it('lists kind, connector and organization as enums, not any string', () => {
    const parameters = doc.paths['/v1/drift'].get.parameters;
    const byName = (name: string) => parameters.find((p: any) => p.name === name).schema;
    expect(byName('kind').items.enum).toEqual([...DRIFT_KINDS]);
    expect(byName('connector').items.enum).toEqual(['demo']);
    expect(byName('organization').enum).toEqual(['OrgA', 'OrgB', 'Sonar']);
    expect(doc.paths['/v1/logins'].post.requestBody.content['application/json'].schema.properties.connector.enum).toEqual(['demo']);
  });

  it('documents 400, 401, 500 and 503 everywhere, 413 and 415 with a body, 414 with path parameters', () => {
    for (const { method, path, op } of v1()) {
      const statuses = Object.keys(op.responses);
      expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '500', '503']));
      if (method !== 'get') expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['413', '415']));
      if (path.includes('{')) expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['404', '414']));
      for (const status of statuses) expect(op.responses[status].description, `${method} ${path} ${status}`).not.toBe('Default Response');
    }
  });

  it('has one security scheme per token, each operation naming its own', () => {
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['adminToken', 'hookToken']);
    for (const { method, path, op } of v1()) {
      expect(op.security, `${method} ${path}`).toEqual([path === '/v1/logins' ? { hookToken: [] } : { adminToken: [] }]);
    }
  });

  it('documents the probes and metrics too, without a token; only the document itself is left out', () => {
    expect(Object.keys(doc.paths).filter((path) => !path.startsWith('/v1/')).sort()).toEqual(['/healthz', '/metrics', '/readyz']);
    for (const path of ['/healthz', '/metrics', '/readyz']) {
      expect(doc.paths[path].get.security, path).toBeUndefined();
      expect(Object.keys(doc.paths[path].get.responses), path).toEqual(expect.arrayContaining(['200', '503']));
    }
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
  });

  it('gives every operation a unique operationId', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every request body an example that the daemon takes', async () => {
    for (const { method, path, op } of operations()) {
      if (!op.requestBody) continue;
      const example = op.requestBody.content['application/json'].example;
      expect(example, `${method} ${path}`).toBeDefined();
      const answer = await d.call(method.toUpperCase(), path.replace('{id}', 'no-such-user').replace('{org}', 'OrgA'), example);
      expect([200, 201, 202, 404, 409], `${method} ${path}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
    }
  });

  it('bounds the login body so that the largest valid one fits the 64 KiB body limit', async () => {
    const schema = doc.paths['/v1/logins'].post.requestBody.content['application/json'].schema;
    const { groups } = schema.properties;
    expect(groups.maxItems * (groups.items.maxLength + 3)).toBeLessThan(BODY_LIMIT * 0.85);
    // The largest body a client sends in practice: every string field and every group at its limit.
    const longest = (field: string) => 'x'.repeat(schema.properties[field].maxLength);
    const body = {
      connector: 'demo',
      subject: longest('subject'),
      email: `${'e'.repeat(64)}@${'d'.repeat(63)}.example.com`,
      name: longest('name'),
      givenName: longest('givenName'),
      familyName: longest('familyName'),
      username: longest('username'),
      groups: Array.from({ length: groups.maxItems }, (_, i) => `${i}`.padEnd(groups.items.maxLength, 'g')),
    };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(BODY_LIMIT);
    const answer = await d.login(body);
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
  });

  it('documents links between operations, for stateful clients', () => {
    expect(doc.paths['/v1/logins'].post.responses['200'].links.GetUser).toEqual({ operationId: 'getUser', parameters: { id: '$response.body#/user/id' } });
    expect(doc.paths['/v1/prewarm'].post.requestBody.required).toBe(false);
  });
});
