import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fit } from '../../daemon/drift/render-table.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { prewarm } from './scenario.js';

/** The CLI as users run it: the built bin (`npm test` builds before running vitest). */
const BIN = resolve('dist/daemon/cli.js');
const run = promisify(execFile);

/** Retitles the terminal, moves the cursor up and erases the line: what the probe sent. */
const HOSTILE = '\x1b]0;PWNED\x07\x1b[1A\x1b[2Kall good\u202Eevil';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon({
    directory: {
      groups: [{ id: 'g1', name: HOSTILE }],
      users: [{ subject: '00u1ada', email: 'ada@example.com', name: 'Ada', groups: [HOSTILE] }],
    },
  });
  await prewarm(d, 'demo');
  await d.daemon.close();
});
afterAll(() => rmSync(d.dir, { recursive: true, force: true }));

it('terminal escape injection: jitsync drift prints control characters of IdP group names escaped, never raw', async () => {
  const config = join(d.dir, 'cli.yaml');
  writeFileSync(
    config,
    `server: { listen: 127.0.0.1:0, hookToken: cli-hook-token-0123456789, adminToken: cli-admin-token-0123456789 }
store: sqlite:./jitsync.db
log: { level: silent }
connectors:
  - { id: demo, type: file, path: ./directory.json }
`,
  );
  const { stdout } = await run(process.execPath, [BIN, 'drift', '--config', config, '--kind', 'unmatched_idp_group'], {
    env: { ...process.env, COLUMNS: '200' },
  }).catch((error: { code: number; stdout: string }) => {
    expect(error.code).toBe(3); // drift found
    return error;
  });
  // No C0/C1 control byte and no bidi override reaches the terminal; the name is still readable.
  expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  expect(stdout).toContain('\\x1b]0;PWNED\\x07'); // the GROUP column is cut at 18 characters
  expect(fit(HOSTILE, 60).trimEnd()).toBe('\\x1b]0;PWNED\\x07\\x1b[1A\\x1b[2Kall good\\u202eevil');
});
