import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectorDefinitions } from '../../connectors/registry.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ConfigError } from '../../daemon/config/problems.js';
import { createSelfSignedCert } from '../fakes/entra/tls.js';
import { DIRECTORY, startDaemon, type TestDaemon } from '../support/daemon.js';
import { CORE_USER, ENTRA_TOKEN, startScimDaemon, type ScimDaemon } from './support.js';

/**
 * SCIM routes get the server's common handling (405 with `Allow`, request metrics, graceful stop),
 * served by the SCIM thread from the main listener, or on a listener of its own
 * (`server.scimListen` / `server.scimTls`), over HTTPS.
 */

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe('SCIM on the main listener', () => {
  let d: ScimDaemon;
  beforeAll(async () => {
    d = await startScimDaemon();
  });
  afterAll(async () => d?.stop());

  it('answers a method a SCIM path does not take with 405, Allow and an RFC 7644 error, before the token check', async () => {
    for (const token of [ENTRA_TOKEN, null]) {
      const response = await fetch(`${d.url}/scim/v2/entra/Users`, {
        method: 'PUT',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
      expect(response.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
      expect(await response.json()).toMatchObject({ schemas: [ERROR], status: '405' });
    }
    const options = await fetch(`${d.url}/scim/v2/entra/Users/some-id`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PATCH, PUT');
    // The API keeps its own error shape.
    const api = await fetch(`${d.url}/v1/logins`, { method: 'PUT' });
    expect(api.status).toBe(405);
    expect(await api.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('counts SCIM requests in the request metrics, by route', async () => {
    expect((await d.scim('entra', 'GET', '/Users')).status).toBe(200);
    expect((await d.scim('entra', 'GET', '/Users/no-such-id')).status).toBe(404);
    // Served by the SCIM thread, whose samples reach the metrics within a second; not counted twice.
    const metrics = () => fetch(`${d.url}/metrics`).then((r) => r.text());
    await expect.poll(metrics, { timeout: 5_000 }).toMatch(/jitsync_http_requests_total\{method="GET",route="\/scim\/v2\/entra\/Users",status="200"\} [1-9]/);
    expect(await metrics()).toMatch(/jitsync_http_requests_total\{method="GET",route="\/scim\/v2\/entra\/Users\/:id",status="404"\} [1-9]/);
    expect(await metrics()).not.toMatch(/route="\/scim\/\*"/);
  });
});

/** An HTTPS request that trusts only `ca`. */
function httpsCall(url: string, ca: Buffer, method: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca,
        headers: { authorization: `Bearer ${ENTRA_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('server.scimListen with server.scimTls', () => {
  let d: TestDaemon;
  let ca: Buffer;
  let scimUrl: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitsync-scim-tls-'));
    writeFileSync(join(dir, 'directory.json'), JSON.stringify(DIRECTORY));
    const files = await createSelfSignedCert(dir);
    ca = readFileSync(files.certPath);
    d = await startDaemon({
      dir,
      server: '  scimListen: 127.0.0.1:0\n  scimTls: { certFile: ./cert.pem, keyFile: ./key.pem }',
      extra: `  - { id: entra, type: scim, token: ${ENTRA_TOKEN} }`,
    });
    scimUrl = `${d.daemon.scimAddress!}/scim/v2/entra`;
  });
  afterAll(async () => d?.stop());

  it('serves SCIM over HTTPS on its own listener, and the pushed user is in the cache the login reads', async () => {
    const created = await httpsCall(`${scimUrl}/Users`, ca, 'POST', { schemas: [CORE_USER], userName: 'tls@example.com', externalId: 'tls-1' });
    expect(created.status).toBe(201);
    const found = await httpsCall(`${scimUrl}/Users?filter=${encodeURIComponent('userName eq "tls@example.com"')}`, ca, 'GET');
    expect(found.body.Resources.map((u: { id: string }) => u.id)).toEqual([created.body.id]);
    const login = await d.login({ connector: 'entra', subject: 'tls-1', email: 'tls@example.com' });
    expect(login.status).toBe(200);
  });

  it('serves nothing but SCIM there, and no SCIM on the main listener', async () => {
    const api = await httpsCall(`${scimUrl.replace('/scim/v2/entra', '')}/v1/users`, ca, 'GET');
    expect(api.status).toBe(404);
    const main = await fetch(`${d.url}/scim/v2/entra/Users`, { headers: { authorization: `Bearer ${ENTRA_TOKEN}` } });
    expect(main.status).toBe(404);
    expect((await d.call('GET', '/v1/connectors')).status).toBe(200);
  });

  it('counts the requests of its own thread in the daemon\'s request metrics', async () => {
    expect((await httpsCall(`${scimUrl}/Users/no-such-id`, ca, 'GET')).status).toBe(404);
    await expect.poll(async () => (await fetch(`${d.url}/metrics`)).text(), { timeout: 5_000 }).toMatch(
      /jitsync_http_requests_total\{method="GET",route="\/scim\/v2\/entra\/Users\/:id",status="404"\} [1-9]/,
    );
  });

  it('stops both listeners on a graceful stop', async () => {
    expect(await d.daemon.stop(Date.now() + 2_000)).toBe(true);
    await expect(httpsCall(`${scimUrl}/Users`, ca, 'GET')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(d.daemon.server.server.listening).toBe(false);
  });
});

describe('server.scimListen and server.scimTls in the config', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const parse = (server: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'jitsync-scim-cfg-'));
    dirs.push(dir);
    const text = `server:\n  listen: 127.0.0.1:8787\n  hookToken: hook-token-0123456789\n  adminToken: admin-token-0123456789\n${server}\n`;
    return () => parseConfig(text, { baseDir: dir, env: {}, definitions: connectorDefinitions });
  };
  const problems = (load: () => unknown) => {
    try {
      load();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
      throw error;
    }
    return [];
  };

  it('defaults to the main listener, without TLS', () => {
    const config = parse('')();
    expect(config.server.scimListen).toBeNull();
    expect(config.server.scimTls).toBeNull();
  });

  it('names TLS files that cannot be read, TLS without a SCIM listener, and a SCIM listener on the main address', () => {
    expect(problems(parse('  scimListen: 0.0.0.0:8443\n  scimTls: { certFile: ./missing-cert.pem, keyFile: ./missing-key.pem }'))).toEqual([
      expect.stringMatching(/^server\.scimTls\.certFile: file not found: .*missing-cert\.pem \(relative paths resolve against the config file's folder\)$/),
      expect.stringMatching(/^server\.scimTls\.keyFile: file not found: .*missing-key\.pem/),
    ]);
    expect(problems(parse('  scimTls: { certFile: ./cert.pem, keyFile: ./key.pem }'))).toEqual([
      'server.scimTls: needs server.scimListen (TLS is for the SCIM listener only)',
    ]);
    expect(problems(parse('  scimListen: 127.0.0.1:8787'))).toEqual([
      'server.scimListen: must differ from server.listen (leave it out to serve SCIM on server.listen)',
    ]);
  });
});
