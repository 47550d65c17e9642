import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { connectorDefinitions } from '../connectors/registry.js';
import { parseConfig } from '../daemon/config/load.js';
import { createLogger } from '../daemon/logger.js';
import { createDaemon } from '../daemon/main.js';

/**
 * The README's curl example against the example config must return the README's answer, so the
 * docs cannot drift from the code. Only the store path and port differ from `npm start`.
 */
it('the README login example returns the documented answer', async () => {
  const readme = readFileSync('README.md', 'utf8');
  const request = /-d '(\{.*\})'/.exec(readme)?.[1];
  const documented = /<!-- readme-login-answer -->\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
  expect(request).toBeDefined();
  expect(documented).toBeDefined();

  const dir = mkdtempSync(join(tmpdir(), 'jitsync-readme-'));
  const text = readFileSync('jitsync.example.yaml', 'utf8')
    .replace(/^store: .*$/m, `store: sqlite:${join(dir, 'jitsync.db')}`)
    .replace(/^  listen: .*$/m, '  listen: 127.0.0.1:0')
    .replace(/^  level: .*$/m, '  level: silent');
  const config = parseConfig(text, { baseDir: resolve('.'), env: {}, definitions: connectorDefinitions });
  const daemon = await createDaemon(config, createLogger('silent'));
  try {
    const address = await daemon.listen();
    const response = await fetch(`${address}/v1/logins`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-hook-token-change-me', 'content-type': 'application/json' },
      body: request,
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { user: object; groups: object };
    expect(withoutVolatile(answer)).toEqual(withoutVolatile(JSON.parse(documented!) as typeof answer));
  } finally {
    await daemon.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Ids and times differ per run; everything else must match. */
function withoutVolatile(answer: { user: object; groups: object }) {
  return {
    ...answer,
    user: { ...answer.user, id: '<id>' },
    groups: { ...answer.groups, fetchedAt: '<time>', ageSeconds: 0 },
  };
}
