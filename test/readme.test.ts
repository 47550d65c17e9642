import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { connectorDefinitions } from '../connectors/registry.js';
import { parseConfig } from '../daemon/config/load.js';
import { createLogger } from '../daemon/logger.js';
import { createDaemon } from '../daemon/main.js';
import { answers, type LoginAllowed } from './support/api.js';

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
    const answer = (await response.json()) as LoginAllowed;
    const promised = JSON.parse(documented!) as unknown;
    // What the README shows is a login answer by the API's own schema, field for field.
    expect(answers.loginAllowed.strict().safeParse(promised).error?.issues ?? []).toEqual([]);
    expect(withoutVolatile(answer)).toEqual(withoutVolatile(promised as LoginAllowed));
  } finally {
    await daemon.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Ids and times differ per run; everything else must match. */
function withoutVolatile(answer: LoginAllowed) {
  return {
    ...answer,
    user: { ...answer.user, id: '<id>' },
    groups: { ...answer.groups, fetchedAt: '<time>', ageSeconds: 0 },
  };
}

/** The README and every page of `docs/`: what a reader follows. */
function documentation(): { file: string; text: string }[] {
  const pages = readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  return ['README.md', ...pages].map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');
}

function anchorsOf(text: string): Set<string> {
  const withoutCode = text.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchor(match[1]!)));
}

it('every link of the README and docs/ leads to a file of the repository, and to a heading there', () => {
  const pages = documentation();
  expect(pages.map((page) => page.file)).toEqual(expect.arrayContaining(['README.md', join('docs', 'api.md')]));
  const broken: string[] = [];
  let checked = 0;
  for (const { file, text } of pages) {
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      checked++;
      const [path, hash] = target!.split('#') as [string, string | undefined];
      const resolved = path === '' ? file : join(dirname(file), path);
      if (!resolved.startsWith('..') && existsSync(resolved)) {
        if (hash === undefined || anchorsOf(readFileSync(resolved, 'utf8')).has(hash)) continue;
      }
      broken.push(`${file}: ${target}`);
    }
  }
  expect(checked).toBeGreaterThan(20);
  expect(broken).toEqual([]);
});

it('nothing in the README or docs/ refers to files outside the repository', () => {
  for (const { file, text } of documentation()) {
    expect(text, file).not.toMatch(/\.\.\/shared|SPEC\.md|STYLE\.md|\bSPEC\b/);
  }
});
