import { ldapConnector } from '../../connectors/ldap/index.js';
import {
  hasIncrementalFeed,
  hasUserListing,
  type CallStats,
  type Connector,
  type IncrementalFeed,
  type UserListing,
} from '../../connectors/types.js';
import { SERVICE_DN, SERVICE_PASSWORD } from './fixture.js';
import { SUFFIX } from './slapd.js';

export type LdapTestConnector = Connector & IncrementalFeed & UserListing;

/** The real connector, configured from raw YAML-like input as the config loader would. */
export function makeConnector(url: string, overrides: Record<string, unknown> = {}): LdapTestConnector {
  const config = ldapConnector.configSchema.parse({
    id: 'ldap-test',
    type: 'ldap',
    url,
    bindDN: SERVICE_DN,
    bindPassword: SERVICE_PASSWORD,
    userBase: `ou=people,${SUFFIX}`,
    groupBase: `ou=groups,${SUFFIX}`,
    timeoutMs: 5_000,
    maxRetries: 0,
    ...overrides,
  });
  const connector = ldapConnector.create(config, { baseDir: process.cwd() });
  if (!hasIncrementalFeed(connector)) throw new Error('the LDAP connector lost its incremental feed');
  if (!hasUserListing(connector)) throw new Error('the LDAP connector lost its user listing');
  return connector;
}

export function newStats(): CallStats {
  return { apiCalls: 0, pages: 0, retries: 0 };
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const result: T[][] = [];
  for await (const page of pages) result.push(page);
  return result;
}

export const signal = (): AbortSignal => new AbortController().signal;
