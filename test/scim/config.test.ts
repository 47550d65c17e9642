import { describe, expect, it } from 'vitest';
import { connectorDefinitions } from '../../connectors/registry.js';
import { ConfigError, parseConfig } from '../../daemon/config/load.js';

/** The `scim` connector entry: its token rules, its defaults, and what it refuses. */

const config = (entry: string) => `
server:
  listen: 127.0.0.1:0
  hookToken: config-hook-token-0123456
  adminToken: config-admin-token-0123456
connectors:
  - ${entry}
`;
const parse = (entry: string) => parseConfig(config(entry), { baseDir: '/tmp', env: {}, definitions: connectorDefinitions });
const problems = (entry: string): string[] => {
  try {
    parse(entry);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

describe('a scim connector entry', () => {
  it('takes a token and fills in the defaults', () => {
    const [entry] = parse('{ id: entra, type: scim, token: scim-token-0123456789 }').connectors;
    expect(entry).toMatchObject({
      id: 'entra',
      type: 'scim',
      token: 'scim-token-0123456789',
      subjectAttribute: 'externalId',
      onDeprovision: 'disable',
      provisionOnPush: false,
      rateLimit: { perSecond: 100, burst: 200 },
    });
  });

  it('refuses a short token, one with spaces, and the hook or admin token', () => {
    expect(problems('{ id: s, type: scim, token: short }')).toEqual(['connectors[0].token: must be at least 16 characters']);
    expect(problems('{ id: s, type: scim, token: "has spaces in it 0123" }')[0]).toMatch(/visible ASCII/);
    expect(problems('{ id: s, type: scim, token: config-hook-token-0123456 }')).toEqual([
      'connectors[0].token: must differ from server.hookToken and server.adminToken',
    ]);
    expect(problems('{ id: s, type: scim, token: config-admin-token-0123456 }')).toHaveLength(1);
  });

  it('takes provisionOnPush: true', () => {
    const [entry] = parse('{ id: entra, type: scim, token: scim-token-0123456789, provisionOnPush: true }').connectors;
    expect(entry).toMatchObject({ id: 'entra', type: 'scim', provisionOnPush: true });
    expect(problems('{ id: s, type: scim, token: scim-token-0123456789, provisionOnPush: "yes" }')[0]).toMatch(/provisionOnPush/);
  });

  it('refuses a pre-warm schedule and unknown values', () => {
    expect(problems('{ id: s, type: scim, token: scim-token-0123456789, prewarm: "0 * * * *" }')[0]).toMatch(/no pre-warm/);
    expect(problems('{ id: s, type: scim, token: scim-token-0123456789, subjectAttribute: email }')[0]).toMatch(/subjectAttribute/);
    expect(problems('{ id: s, type: scim, token: scim-token-0123456789, onDeprovision: delete }')[0]).toMatch(/onDeprovision/);
  });
});
