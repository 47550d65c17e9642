import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { withRetries, type RetryPolicy } from '../retry.js';
import {
  ConnectorError,
  type CallOptions,
  type Connector,
  type ConnectorDefinition,
  type ConnectorDeps,
  type IdpGroup,
  type IdpMember,
  type IdpUser,
  type IdpUserGroups,
  type IncrementalFeed,
  type UserListing,
} from '../types.js';
import { ldapConfigSchema, type LdapConnectorConfig } from './config.js';
import { createDirectory, isGeneralizedTime } from './directory.js';
import { openSession, withSession, type LdapSession, type SessionSettings } from './session.js';

export { ldapConfigSchema, type LdapConnectorConfig } from './config.js';

/**
 * LDAP / Active Directory connector (ldapts). Each operation binds once, runs its searches on
 * that connection and unbinds. Nested groups are expanded client-side by following member DNs
 * (OpenLDAP and AD alike); look-ups may use AD's in-chain matching rule instead.
 */
export function createLdapConnector(
  config: LdapConnectorConfig,
  deps: ConnectorDeps,
): Connector & IncrementalFeed & UserListing {
  const directory = createDirectory(config);
  const policy: RetryPolicy = { maxRetries: config.maxRetries };

  async function tlsOptions(): Promise<ConnectionOptions | undefined> {
    if (!config.tls) return undefined;
    const options: ConnectionOptions = { rejectUnauthorized: config.tls.rejectUnauthorized };
    if (config.tls.caFile) {
      const path = resolve(deps.baseDir, config.tls.caFile);
      try {
        options.ca = await readFile(path);
      } catch (error) {
        throw new ConnectorError('invalid_config', config.id, `tls.caFile ${path} cannot be read`, { cause: error });
      }
    }
    return options;
  }

  async function settings(): Promise<SessionSettings> {
    const tls = await tlsOptions();
    return {
      connectorId: config.id,
      url: config.url,
      bindDN: config.bindDN,
      bindPassword: config.bindPassword,
      timeoutMs: config.timeoutMs,
      startTls: config.tls?.startTls ?? false,
      ...(tls ? { tlsOptions: tls } : {}),
    };
  }

  /** One bound session for `work`, the whole attempt retried on transient failures. */
  async function session<T>(options: CallOptions, work: (open: LdapSession) => Promise<T>): Promise<T> {
    const sessionSettings = await settings();
    return withRetries(policy, options, () => withSession(sessionSettings, options, work));
  }

  /** A session for a stream of pages: only connect and bind are retried (paging cookies die with the connection). */
  async function streamSession(options: CallOptions): Promise<LdapSession> {
    const sessionSettings = await settings();
    return withRetries(policy, options, () => openSession(sessionSettings, options));
  }

  return {
    id: config.id,
    type: 'ldap',

    async *listGroups(options: CallOptions): AsyncIterable<IdpGroup[]> {
      const open = await streamSession(options);
      try {
        for await (const page of directory.groups(open)) if (page.length > 0) yield page;
      } finally {
        await open.close();
      }
    },

    async *listMembers(group: IdpGroup, options: CallOptions): AsyncIterable<IdpMember[]> {
      const open = await streamSession(options);
      try {
        // The expansion runs here anyway, so each member comes flagged `nested` at no extra search.
        const dns = await directory.memberDns(open, group);
        for (let i = 0; i < dns.length; i += config.pageSize) {
          const members = await directory.members(open, dns.slice(i, i + config.pageSize));
          if (members.length > 0) yield members;
        }
      } finally {
        await open.close();
      }
    },

    async *listUsers(options: CallOptions): AsyncIterable<IdpUser[]> {
      const open = await streamSession(options);
      try {
        for await (const page of directory.allUsers(open)) if (page.length > 0) yield page;
      } finally {
        await open.close();
      }
    },

    async lookupUser(query, options): Promise<IdpUserGroups | null> {
      return session(options, async (open) => {
        const entry = await directory.findUser(open, query);
        if (!entry) return null;
        const user = directory.toUser(entry);
        const { direct, all } = await directory.groupsOf(open, entry);
        const directNames = new Set(direct.map((group) => directory.toGroup(group).name));
        const names = [...new Set(all.map((group) => directory.toGroup(group).name))].sort();
        return { ...user, groups: names, nestedGroups: names.filter((name) => !directNames.has(name)) };
      });
    },

    async startCursor(options: CallOptions): Promise<string> {
      return session(options, async (open) => (await directory.serverTime(open)) ?? directory.latestGroupChange(open));
    },

    async changedGroups(cursor: string, options: CallOptions) {
      if (!isGeneralizedTime(cursor)) {
        throw new ConnectorError('cursor_expired', config.id, `cursor ${JSON.stringify(cursor)} is not an LDAP generalized time`);
      }
      return session(options, async (open) => {
        // The clock is read before the search, so a change made during it is in the next run.
        const now = await directory.serverTime(open);
        const { groups, newest } = await directory.changedSince(open, cursor);
        return {
          changed: groups.map(directory.toGroup),
          // modifyTimestamp cannot show deletions (the entry is gone); a full run finds them.
          deleted: [],
          cursor: now ?? newest,
        };
      });
    },
  };
}

export const ldapConnector: ConnectorDefinition<LdapConnectorConfig> = {
  type: 'ldap',
  configSchema: ldapConfigSchema,
  create: createLdapConnector,
};
