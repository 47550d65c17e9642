import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { ConnectorError } from '../connectors/types.js';
import { StoreUnavailableError } from '../store/types.js';
import { connectorFailed, connectorSucceeded, createConnectorStatus } from './connector-status.js';
import { createLogger } from './logger.js';

function setup() {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  let now = 0;
  const status = createConnectorStatus({
    connectors: [{ id: 'okta', type: 'okta' }],
    logger: createLogger('warn', sink),
    clock: () => now,
  });
  return { lines, status, advance: (ms: number) => (now += ms) };
}

const timeout = new ConnectorError('timeout', 'okta', 'Okta did not answer in time');

it('logs one line per connector and kind a minute, then says how many it left out', () => {
  const { lines, status, advance } = setup();
  for (let i = 0; i < 5; i++) status.record(connectorFailed('okta', 'login', timeout));
  status.record(connectorFailed('okta', 'login', new ConnectorError('auth_failed', 'okta', 'Okta refused the API token')));
  expect(lines.map((line) => [line.kind, line.suppressed])).toEqual([
    ['timeout', 0],
    ['auth_failed', 0],
  ]);
  advance(60_000);
  status.record(connectorFailed('okta', 'prewarm', timeout));
  expect(lines.map((line) => [line.kind, line.suppressed])).toEqual([
    ['timeout', 0],
    ['auth_failed', 0],
    ['timeout', 4],
  ]);
  expect(lines[2]).toMatchObject({ connector: 'okta', source: 'prewarm', msg: 'connector okta failed (timeout): okta: Okta did not answer in time' });
});

it('keeps the last error and the last success, and reads no store error as the IdP\'s', () => {
  const { status } = setup();
  expect(connectorFailed('okta', 'prewarm', new StoreUnavailableError('disk full'))).toBeNull();
  status.record(connectorFailed('okta', 'login', timeout, new Date('2026-12-02T06:00:00Z')));
  status.record(connectorSucceeded('okta', 'login', new Date('2026-12-02T06:01:00Z')));
  expect(status.list()).toEqual([
    {
      id: 'okta',
      type: 'okta',
      lastSuccessAt: '2026-12-02T06:01:00.000Z',
      lastError: { kind: 'timeout', message: 'okta: Okta did not answer in time', at: '2026-12-02T06:00:00.000Z', source: 'login' },
    },
  ]);
});
