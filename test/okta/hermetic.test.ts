import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import okta from '@okta/okta-sdk-nodejs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import { OktaDirectory, SEEDED_AT, type FakeOkta } from '../fakes/okta/index.js';
import { allGroups, oktaConnectorFor, startFakeOkta } from './helpers.js';

/** Settings the SDK would pick up by itself; all point somewhere else. */
const ELSEWHERE = 'http://127.0.0.1:9';
const LEAKY_ENV: Record<string, string> = {
  OKTA_CLIENT_ORGURL: ELSEWHERE,
  OKTA_CLIENT_TOKEN: 'token-from-env',
  OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
  OKTA_CLIENT_CLIENTID: 'client-from-env',
  OKTA_CLIENT_SCOPES: 'okta.groups.read',
  HTTPS_PROXY: ELSEWHERE,
  https_proxy: ELSEWHERE,
};

describe('Okta connector is hermetic', () => {
  let fake: FakeOkta;
  let home: string;
  const saved = new Map<string, string | undefined>();

  const setEnv = (name: string, value: string) => {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    process.env[name] = value;
  };

  beforeAll(async () => {
    const directory = new OktaDirectory();
    directory.addGroup({ name: 'developers', at: SEEDED_AT });
    fake = await startFakeOkta({ directory });
    home = mkdtempSync(join(tmpdir(), 'jitsync-okta-home-'));
    mkdirSync(join(home, '.okta'));
  });
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    saved.clear();
    fake.server.resetLog();
  });
  afterAll(async () => {
    await fake.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('ignores OKTA_CLIENT_* variables, ~/.okta/okta.yaml and HTTPS_PROXY', async () => {
    writeFileSync(
      join(home, '.okta', 'okta.yaml'),
      `okta:\n  client:\n    orgUrl: ${ELSEWHERE}\n    token: token-from-yaml\n    authorizationMode: PrivateKey\n`,
    );
    setEnv('HOME', home);
    for (const [name, value] of Object.entries(LEAKY_ENV)) setEnv(name, value);

    // The environment is really in effect: a client left to itself follows it.
    const leaky = new okta.Client({ token: 'x', authorizationMode: 'SSWS', cacheMiddleware: null });
    expect(leaky.baseUrl).toBe(ELSEWHERE);
    expect(() => new okta.Client({ orgUrl: fake.baseUrl, token: 'x', cacheMiddleware: null })).toThrow(/Private Key/);

    const connector = oktaConnectorFor(fake);
    expect(await allGroups(connector)).toEqual([{ id: expect.any(String), name: 'developers' }]);
    expect(fake.apiCalls()).toBe(1);
    expect(fake.server.requests[0]!.headers.authorization).toBe(`SSWS ${fake.token}`);
  });

  it('reports a malformed okta.yaml the SDK cannot read as invalid config', () => {
    writeFileSync(join(home, '.okta', 'okta.yaml'), 'okta: [unclosed\n');
    setEnv('HOME', home);
    let error: unknown;
    try {
      oktaConnectorFor(fake);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'invalid_config' });
  });
});
