import { describe, expect, it } from 'vitest';
import { oktaConfigSchema, oktaConnector } from '../../connectors/okta/index.js';

const base = { id: 'okta-prod', type: 'okta', orgUrl: 'https://example.okta.com', token: 'secret' };

describe('Okta connector config', () => {
  it('applies the documented defaults', () => {
    expect(oktaConfigSchema.parse(base)).toEqual({
      ...base,
      timeoutMs: 10_000,
      maxRetries: 4,
      pageSize: 200,
      membersPageSize: 1000,
      membershipEvents: false,
    });
    expect(oktaConnector.type).toBe('okta');
  });

  it.each([
    [{ orgUrl: 'http://example.okta.com' }, 'orgUrl'],
    [{ orgUrl: 'https://example.okta.com/api/v1' }, 'orgUrl'],
    [{ orgUrl: 'ftp://example.okta.com' }, 'orgUrl'],
    [{ token: '' }, 'token'],
    [{ pageSize: 500 }, 'pageSize'],
    [{ membersPageSize: 5000 }, 'membersPageSize'],
    [{ groupTypes: ['OKTA_GROUP', 'OKTA_GROUP'] }, 'groupTypes'],
    [{ groupTypes: ['SECURITY'] }, 'groupTypes.0'],
    [{ orgUrl: 'not a url' }, 'orgUrl'],
    [{ pagesize: 10 }, 'pagesize'],
  ])('rejects %j, naming %s', (change, key) => {
    const result = oktaConfigSchema.safeParse({ ...base, ...change });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join() : ''));
    expect(paths).toContain(key);
  });

  it('allows plain http to a loopback org only', () => {
    expect(oktaConfigSchema.parse({ ...base, orgUrl: 'http://127.0.0.1:8080/' }).orgUrl).toBe('http://127.0.0.1:8080');
  });
});
