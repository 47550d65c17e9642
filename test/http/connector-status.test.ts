import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../../daemon/logger.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * Issue 13, item 8: an IdP failure is visible. A file connector whose `path` does not exist used
 * to deny every login with `403 idp_unavailable` and say nothing anywhere.
 */

let d: TestDaemon;
afterEach(async () => d?.stop());

/** The daemon's log, line by line, as JSON. */
function logLines(): { lines: Array<Record<string, any>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('warn', sink) };
}

const ADA = { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };

async function finished(t: TestDaemon, runId: string) {
  for (;;) {
    const run = await t.call('GET', `/v1/prewarm/${runId}`);
    if (run.body.state !== 'running') return run.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('a file connector whose file is missing: logins are 403 idp_unavailable, one log line names it, /readyz and GET /v1/connectors show the last error', async () => {
  const { lines, logger } = logLines();
  d = await startDaemon({ extra: '  - { id: gone, type: file, path: ./missing.json }', logger });

  for (let i = 0; i < 3; i++) {
    const denied = await d.login({ ...ADA, connector: 'gone' });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ decision: 'deny', reason: 'idp_unavailable' });
  }

  // One line for three failures of one kind: rate-limited, not one per login.
  const failures = lines.filter((line) => line.connector === 'gone' && line.kind !== undefined);
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({ level: 40, connector: 'gone', kind: 'unreachable', source: 'login' });
  expect(failures[0]!.msg).toContain('missing.json');

  const listed = await d.call('GET', '/v1/connectors');
  expect(listed.status).toBe(200);
  const [demo, gone] = listed.body.connectors;
  expect(demo).toEqual({
    id: 'demo',
    type: 'file',
    lastSuccessAt: null,
    lastError: null,
    cache: { users: 0, memberships: 0, lastCompleteRunAt: null },
  });
  expect(gone).toMatchObject({ id: 'gone', type: 'file', lastSuccessAt: null, lastError: { kind: 'unreachable', source: 'login' } });
  expect(gone.lastError.message).toContain('missing.json');
  expect(Date.parse(gone.lastError.at)).not.toBeNaN();

  const ready = await d.call('GET', '/readyz', undefined, null);
  expect(ready.status).toBe(200);
  expect(ready.body.connectors.find((c: { id: string }) => c.id === 'gone').lastError).toEqual(gone.lastError);

  // A live look-up that works is a success; a pre-warm run's outcome counts as well.
  expect((await d.login(ADA)).status).toBe(200);
  const prewarm = await d.call('POST', '/v1/prewarm', { full: true });
  expect(prewarm.status).toBe(202);
  const runs = await Promise.all(prewarm.body.runs.map((run: { id: string }) => finished(d, run.id)));
  expect(runs.map((run) => [run.connector, run.state])).toEqual([
    ['demo', 'succeeded'],
    ['gone', 'failed'],
  ]);

  const after = (await d.call('GET', '/v1/connectors')).body.connectors;
  expect(after[0].lastSuccessAt).not.toBeNull();
  expect(after[0].lastError).toBeNull();
  expect(after[0].cache).toMatchObject({ users: 4, lastCompleteRunAt: runs[0].startedAt });
  expect(after[1].lastError).toMatchObject({ kind: 'unreachable', source: 'prewarm' });
  expect(after[1].lastError.at >= gone.lastError.at).toBe(true);
  // Still one line: the run's failure is of the same kind, within the minute.
  expect(lines.filter((line) => line.connector === 'gone' && line.kind !== undefined)).toHaveLength(1);
});

it('GET /v1/connectors needs the admin token', async () => {
  d = await startDaemon();
  const refused = await d.call('GET', '/v1/connectors', undefined, null);
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe('unauthorized');
});
