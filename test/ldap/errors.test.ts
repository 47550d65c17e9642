import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import { LDIF, SERVICE_DN, emailOf } from './fixture.js';
import { collect, makeConnector, newStats, signal } from './helpers.js';
import { startSlapd, type Slapd } from './slapd.js';

let slapd: Slapd;

beforeAll(async () => {
  slapd = await startSlapd({ ldif: LDIF, monitorReaders: [SERVICE_DN] });
});

afterAll(async () => {
  await slapd?.stop();
});

async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, got a result');
}

function expectKind(error: unknown, kind: ConnectorError['kind']): void {
  expect(error).toBeInstanceOf(ConnectorError);
  if (error instanceof ConnectorError) {
    expect(error.kind).toBe(kind);
    expect(error.connector).toBe('ldap-test');
  }
}

describe('errors', () => {
  it('a wrong bind password is auth_failed, and is not retried', async () => {
    const connector = makeConnector(slapd.url, { bindPassword: 'wrong', maxRetries: 3 });
    const stats = newStats();
    expectKind(await failure(() => connector.lookupUser({ subject: '', email: emailOf('alice') }, { signal: signal(), stats })), 'auth_failed');
    expectKind(await failure(() => collect(connector.listGroups({ signal: signal() }))), 'auth_failed');
    expect(stats.retries).toBe(0);
  });

  it('an entry without the subject attribute is bad_response', async () => {
    const connector = makeConnector(slapd.url, { attributes: { subject: 'employeeNumber' } });
    expectKind(await failure(() => connector.lookupUser({ subject: 'x', email: emailOf('alice') }, { signal: signal() })), 'bad_response');
  });

  it('a missing base DN is invalid_config', async () => {
    const connector = makeConnector(slapd.url, { groupBase: 'ou=nowhere,dc=example,dc=com' });
    expectKind(await failure(() => collect(connector.listGroups({ signal: signal() }))), 'invalid_config');
  });

  it('a server that never answers ends in a timeout, not a hang', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const connector = makeConnector(`ldap://127.0.0.1:${address.port}`, { timeoutMs: 300 });
      expectKind(await failure(() => connector.lookupUser({ subject: 'x', email: 'y' }, { signal: signal() })), 'timeout');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("the caller's abort ends the call with the abort reason", async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const error = await failure(() => makeConnector(slapd.url).lookupUser({ subject: 'x', email: 'y' }, { signal: controller.signal }));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ConnectorError);
    expect(error instanceof Error ? error.message : '').toBe('shutting down');
  });

  // Last: stops the server.
  it('a stopped server is unreachable, never an empty result', async () => {
    const connector = makeConnector(slapd.url, { maxRetries: 1 });
    const stats = newStats();
    await slapd.kill();
    expectKind(await failure(() => connector.lookupUser({ subject: 'x', email: emailOf('alice') }, { signal: signal(), stats })), 'unreachable');
    expect(stats.retries).toBe(1);
    expectKind(await failure(() => collect(connector.listGroups({ signal: signal() }))), 'unreachable');
    expectKind(await failure(() => collect(connector.listMembers({ id: 'x', name: 'x' }, { signal: signal() }))), 'unreachable');
    expectKind(await failure(() => connector.startCursor({ signal: signal() })), 'unreachable');
  });
});
