import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { connectorDefinitions } from '../../connectors/registry.js';
import { parseConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/logger.js';
import { createDaemon } from '../../daemon/main.js';
import { DEPLOY_ENV, deployDir, readText, repoRoot } from './support.js';

/**
 * The image's default config, run for real: the daemon starts on it with only its two roots moved
 * (/data → a temp folder, /opt/jitsync → this checkout) and the port made free, answers a login
 * from the demo directory, and the image's health check script reads its /readyz.
 */

const run = promisify(execFile);
const HEALTHCHECK = join(deployDir, 'healthcheck.mjs');
const dir = mkdtempSync(join(tmpdir(), 'jitsync-container-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function healthcheck(url: string): Promise<number> {
  try {
    await run(process.execPath, [HEALTHCHECK, url]);
    return 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe('deploy/jitsync.container.yaml in a stand-in container', () => {
  it('serves logins from the demo directory, and the health check sees it ready, then gone', async () => {
    const text = readText(join(deployDir, 'jitsync.container.yaml'))
      .replaceAll('sqlite:/data/', `sqlite:${dir}/`)
      .replaceAll('/opt/jitsync/', `${repoRoot}/`)
      .replace(/^ {2}listen: 0\.0\.0\.0:8787/m, '  listen: 127.0.0.1:0');
    // The image's config folder is /etc/jitsync; every path is absolute, so it plays no part.
    const config = parseConfig(text, { baseDir: '/etc/jitsync', env: DEPLOY_ENV, definitions: connectorDefinitions });
    expect(config.store).toEqual({ kind: 'sqlite', path: join(dir, 'jitsync.db') });
    expect(config.connectors.map((c) => c.path)).toEqual([join(repoRoot, 'examples', 'directory.json')]);
    expect(config.findings).toEqual({ errors: [], warnings: [] });

    const daemon = await createDaemon(config, createLogger('silent'));
    let address: string;
    try {
      address = await daemon.listen();
      const login = await fetch(`${address}/v1/logins`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEPLOY_ENV.JITSYNC_HOOK_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ connector: 'demo', subject: '00u1ada', email: 'ada@example.com' }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { organizations: string[] }).organizations).toEqual(['OrgA', 'OrgB']);
      expect(await healthcheck(`${address}/readyz`)).toBe(0);
    } finally {
      await daemon.close();
    }
    expect(await healthcheck(`${address}/readyz`)).toBe(1);
  });

  it('the health check fails on any answer but 200', async () => {
    const server = createServer((_request, response) => response.writeHead(503).end('{"status":"unavailable"}'));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { port } = server.address() as AddressInfo;
      expect(await healthcheck(`http://127.0.0.1:${port}/readyz`)).toBe(1);
    } finally {
      await new Promise((closed) => server.close(closed));
    }
  });
});
