import { describe, expect, test } from 'vitest';
import { hasIncrementalFeed } from '../types.js';
import { entraConnector } from './index.js';

const valid = {
  id: 'entra',
  type: 'entra',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientSecret: 's3cret',
};

function problems(input: Record<string, unknown>): string[] {
  const result = entraConnector.configSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('entra connector config', () => {
  test('defaults: public cloud URLs, Graph maximum page size, base retry and timeout settings', () => {
    expect(entraConnector.configSchema.parse(valid)).toEqual({
      ...valid,
      authorityHost: 'https://login.microsoftonline.com',
      graphUrl: 'https://graph.microsoft.com',
      pageSize: 999,
      recordNesting: false,
      timeoutMs: 10_000,
      maxRetries: 4,
    });
  });

  test('URLs must be https origins; a trailing slash is dropped', () => {
    expect(entraConnector.configSchema.parse({ ...valid, graphUrl: 'https://graph.microsoft.us/' }).graphUrl).toBe(
      'https://graph.microsoft.us',
    );
    expect(problems({ ...valid, graphUrl: 'http://127.0.0.1:8080' })).toEqual([expect.stringMatching(/^graphUrl: must be an https URL/)]);
    expect(problems({ ...valid, authorityHost: 'https://login.microsoftonline.com/tenant' })).toEqual([
      expect.stringMatching(/^authorityHost: must be an origin only/),
    ]);
  });

  test('names every bad key at once: page size over 999, a client id that is no GUID, an unknown key', () => {
    const found = problems({ ...valid, pageSize: 1000, clientId: 'my-app', clientSecrt: 'typo' });
    expect(found).toHaveLength(3);
    expect(found.some((p) => p.startsWith('pageSize:'))).toBe(true);
    expect(found.some((p) => p.startsWith('clientId:'))).toBe(true);
    expect(found.some((p) => p.includes('clientSecrt'))).toBe(true);
  });

  test('creates a connector with the incremental feed capability', () => {
    const connector = entraConnector.create(entraConnector.configSchema.parse(valid), { baseDir: '.' });
    expect(connector.type).toBe('entra');
    expect(connector.id).toBe('entra');
    expect(hasIncrementalFeed(connector)).toBe(true);
  });
});
