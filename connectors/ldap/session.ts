import type { ConnectionOptions } from 'node:tls';
import {
  Client,
  InvalidAsn1Error,
  MessageParserError,
  NoSuchObjectError,
  ResultCodeError,
  type Entry,
} from 'ldapts';
import { toConnectorError, type ConnectorErrorClassifier } from '../errors.js';
import { callSignal } from '../retry.js';
import { ConnectorError, type CallOptions } from '../types.js';
import { BINARY_ATTRIBUTES } from './entries.js';

/**
 * One bound connection for one batch of operations: connect, bind, search, unbind. Every LDAP
 * request is bounded by `timeoutMs` and the caller's signal; when either fires the socket is
 * torn down, so nothing keeps waiting on a dead server.
 */

export interface SessionSettings {
  connectorId: string;
  url: string;
  bindDN: string;
  bindPassword: string;
  timeoutMs: number;
  tlsOptions?: ConnectionOptions;
  startTls: boolean;
}

export interface SearchQuery {
  filter: string;
  attributes: string[];
  scope?: 'base' | 'one' | 'sub';
  pageSize: number;
}

export interface LdapSession {
  /** One search, page by page (simple paged-results control). */
  pages(base: string, query: SearchQuery): AsyncGenerator<Entry[]>;
  /** Every entry of one search. */
  all(base: string, query: SearchQuery): Promise<Entry[]>;
  /** One entry by DN (unpaged base search); null when it does not exist or the filter fails. */
  read(dn: string, query: { filter?: string; attributes: string[] }): Promise<Entry | null>;
  close(): Promise<void>;
}

export async function openSession(settings: SessionSettings, options: CallOptions): Promise<LdapSession> {
  const client = new Client({
    url: settings.url,
    connectTimeout: settings.timeoutMs,
    ...(settings.tlsOptions ? { tlsOptions: settings.tlsOptions } : {}),
  });
  const teardown = (): void => {
    // unbind() destroys the socket even mid-request; pending requests then reject.
    client.unbind().catch(() => undefined);
  };

  const guard = <T>(request: Promise<T>, what: string): Promise<T> => {
    const signal = callSignal(options, settings.timeoutMs);
    const stopped = (): unknown => {
      if (options.signal.aborted) return options.signal.reason;
      return new ConnectorError('timeout', settings.connectorId, `${what} took longer than ${settings.timeoutMs} ms`);
    };
    if (signal.aborted) {
      request.catch(() => undefined);
      teardown();
      return Promise.reject(stopped());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        teardown();
        reject(stopped());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(toConnectorError(error, { connector: settings.connectorId, what }, classifyLdapError));
        },
      );
    });
  };

  try {
    if (settings.startTls) await guard(client.startTLS(settings.tlsOptions ?? {}), 'StartTLS');
    await guard(client.bind(settings.bindDN, settings.bindPassword), 'bind');
  } catch (error) {
    teardown();
    throw error;
  }

  async function* pages(base: string, query: SearchQuery): AsyncGenerator<Entry[]> {
    if (options.stats) options.stats.apiCalls++;
    const iterator = client.searchPaginated(base, {
      scope: query.scope ?? 'sub',
      filter: query.filter,
      attributes: query.attributes,
      explicitBufferAttributes: BINARY_ATTRIBUTES,
      paged: { pageSize: query.pageSize },
    });
    for (;;) {
      const next = await guard(iterator.next(), `search of ${base}`);
      if (next.done) return;
      if (options.stats) options.stats.pages++;
      yield next.value.searchEntries;
    }
  }

  return {
    pages,
    async all(base, query) {
      const entries: Entry[] = [];
      for await (const page of pages(base, query)) entries.push(...page);
      return entries;
    },
    async read(dn, query) {
      if (options.stats) options.stats.apiCalls++;
      try {
        const result = await guard(
          client.search(dn, {
            scope: 'base',
            filter: query.filter ?? '(objectClass=*)',
            attributes: query.attributes,
            explicitBufferAttributes: BINARY_ATTRIBUTES,
          }),
          `read of ${dn}`,
        );
        return result.searchEntries[0] ?? null;
      } catch (error) {
        if (error instanceof ConnectorError && error.cause instanceof NoSuchObjectError) return null;
        throw error;
      }
    },
    async close() {
      const unbound = client.unbind().catch(() => undefined);
      // A hung server must not hold the caller: the socket is gone either way.
      await Promise.race([unbound, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    },
  };
}

/** Opens a session, runs `work`, and always unbinds. */
export async function withSession<T>(
  settings: SessionSettings,
  options: CallOptions,
  work: (session: LdapSession) => Promise<T>,
): Promise<T> {
  const session = await openSession(settings, options);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

function errorCode(error: Error): string | undefined {
  return 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** LDAP's classifier for `toConnectorError` (connectors/errors.ts): an ldapts, socket or TLS failure. */
export const classifyLdapError: ConnectorErrorClassifier = (error, { connector, what = 'LDAP' }) => {
  // A timeout or an abort is worded alike for every connector (connectors/errors.ts).
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return null;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  const make = (kind: ConnectorError['kind'], text = message): ConnectorError =>
    new ConnectorError(kind, connector, text, { cause: error });
  if (error instanceof ResultCodeError) {
    switch (error.code) {
      case 49:
        return make('auth_failed', `${what}: invalid credentials for the bind DN`);
      case 7: // authMethodNotSupported
      case 8: // strongAuthRequired: the server wants TLS or SASL
      case 13: // confidentialityRequired
      case 48: // inappropriateAuthentication
      case 50: // insufficientAccessRights
        return make('auth_failed', `${message} (LDAP result ${error.code})`);
      case 3:
        return make('timeout', `${message} (server time limit)`);
      case 51: // busy
      case 52: // unavailable
        return make('unreachable', `${message} (LDAP result ${error.code})`);
      case 32:
        return make('invalid_config', `${what}: no such object (check userBase/groupBase)`);
      case 34:
        return make('invalid_config', `${message} (invalid DN syntax)`);
      default:
        return make('bad_response', `${message} (LDAP result ${error.code})`);
    }
  }
  if (error instanceof MessageParserError || error instanceof InvalidAsn1Error) return make('bad_response');
  if (error instanceof Error) {
    const code = errorCode(error);
    if (code === 'ETIMEDOUT') return make('timeout');
    if (code !== undefined && NETWORK_CODES.has(code)) return make('unreachable', `${message} (${code})`);
    if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/.test(code)) {
      return make('invalid_config', `${message} (TLS: check tls.caFile / the server certificate)`);
    }
    if (/timed? ?out/i.test(error.message)) return make('timeout');
    if (/connection closed|socket/i.test(error.message)) return make('unreachable');
  }
  return make('bad_response');
};
