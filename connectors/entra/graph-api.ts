import { ClientSecretCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  AuthenticationHandlerOptions,
  Client,
  HTTPMessageHandler,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client';
import type { z } from 'zod';
import { toConnectorError } from '../errors.js';
import { callSignal, withRetries } from '../retry.js';
import { ConnectorError, type CallOptions, type CallStats } from '../types.js';
import type { EntraConnectorConfig } from './config.js';
import { classifyEntraError, graphStatus } from './errors.js';
import { collectionSchema } from './graph-schemas.js';

/**
 * The Graph client as jitsync drives it. The middleware chain is ours: authentication (the token
 * is fetched per attempt with that attempt's abort signal and handed over as a request option),
 * a counter of the requests really sent, and the fetch handler. The client's own RetryHandler is
 * left out on purpose: `withRetries` is the one retry policy (429 honouring `Retry-After`, 5xx,
 * network errors), bounded by `maxRetries`, abortable while it waits, and it counts retries;
 * the RetryHandler would retry only 429/503/504, sleep through an abort, and stack a second
 * policy on ours. The credential's own pipeline retries are off for the same reason.
 */

export interface GraphRequestOptions {
  headers?: Record<string, string>;
  /** Answer `null` instead of throwing when Graph says 404. */
  nullOnNotFound?: boolean;
}

export interface GraphApi {
  /** One GET (retried as a unit); `path` is relative to `/v1.0` or an absolute Graph link. */
  get(path: string, options: CallOptions, request?: GraphRequestOptions): Promise<unknown>;
  post(path: string, body: unknown, options: CallOptions): Promise<unknown>;
  /**
   * Follows `@odata.nextLink` from `path`, validating each page with `item`; counts pages. With
   * `nullOnNotFound`, a 404 on the first page yields nothing (a 404 later is an error).
   */
  pages<T extends z.ZodType>(
    path: string,
    item: T,
    options: CallOptions,
    request?: GraphRequestOptions,
  ): AsyncGenerator<z.infer<T>[]>;
  /** Validates a response; a mismatch is a `bad_response`. */
  parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T>;
  /** Rejects a link that leaves the configured Graph origin (the token is not sent elsewhere). */
  checkLink(url: string, what: string): string;
}

/** Carries one call's counters to the counting middleware. */
class StatsOption implements MiddlewareOptions {
  constructor(readonly stats: CallStats) {}
}

/** Counts every request that really goes out, retries included. */
class RequestCounter implements Middleware {
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    const option = context.middlewareControl?.getMiddlewareOptions(StatsOption);
    if (option instanceof StatsOption) option.stats.apiCalls++;
    if (!this.next) throw new Error('RequestCounter must not be last in the middleware chain');
    await this.next.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

export function createGraphApi(config: EntraConnectorConfig): GraphApi {
  const connector = config.id;
  const newCredential = () =>
    new ClientSecretCredential(config.tenantId, config.clientId, config.clientSecret, {
      authorityHost: config.authorityHost,
      disableInstanceDiscovery: true,
      retryOptions: { maxRetries: 0 },
    });
  let credential = newCredential();
  const scope = `${config.graphUrl}/.default`;
  const noDefaultToken = {
    getAccessToken: () => Promise.reject(new Error('every Graph request must carry its own token option')),
  };
  const client = Client.initWithMiddleware({
    baseUrl: config.graphUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(config.graphUrl).hostname]),
    middleware: [new AuthenticationHandler(noDefaultToken), new RequestCounter(), new HTTPMessageHandler()],
  });
  const policy = { maxRetries: config.maxRetries };

  async function send(
    method: 'GET' | 'POST',
    path: string,
    options: CallOptions,
    request: GraphRequestOptions & { body?: unknown },
  ): Promise<unknown> {
    return withRetries(policy, options, async () => {
      const signal = callSignal(options, config.timeoutMs);
      try {
        const token = await untilAborted(credential.getToken(scope, { abortSignal: signal }), signal).catch((error: unknown) => {
          // MSAL remembers a 429/5xx from the token endpoint and fails every request for the
          // next 60 s without asking again, which would turn our retries into instant failures:
          // a transient failure gets a fresh credential (our retries stay bounded and backed off).
          const mapped = toConnectorError(error, { connector }, classifyEntraError);
          if (mapped.kind !== 'auth_failed') credential = newCredential();
          throw mapped;
        });
        const call = client
          .api(path)
          .option('signal', signal)
          .middlewareOptions([
            new AuthenticationHandlerOptions({ getAccessToken: () => Promise.resolve(token.token) }),
            new StatsOption(options.stats ?? { apiCalls: 0, pages: 0, retries: 0 }),
          ]);
        for (const [name, value] of Object.entries(request.headers ?? {})) call.header(name, value);
        const body: unknown = method === 'GET' ? await call.get() : await call.post(request.body);
        return body;
      } catch (error) {
        // The caller gave up: surface its abort, not a retryable error.
        if (options.signal.aborted) throw options.signal.reason;
        if (request.nullOnNotFound && graphStatus(error) === 404) return null;
        throw toConnectorError(error, { connector }, classifyEntraError);
      }
    });
  }

  const api: GraphApi = {
    get: (path, options, request = {}) => send('GET', path, options, request),
    post: (path, body, options) => send('POST', path, options, { body }),

    async *pages(path, item, options, request = {}) {
      const schema = collectionSchema(item);
      let next: string | undefined = path;
      let first = true;
      while (next !== undefined) {
        // `nullOnNotFound` holds for the first page only: a 404 later would cut the list short.
        const raw = await send('GET', next, options, first ? request : { ...request, nullOnNotFound: false });
        if (raw === null) return; // 404 on the first page with `nullOnNotFound`: nothing there
        first = false;
        const page = api.parse(schema, raw, `page of ${path}`);
        if (options.stats) options.stats.pages++;
        yield page.value;
        next = page['@odata.nextLink'] === undefined ? undefined : api.checkLink(page['@odata.nextLink'], 'nextLink');
      }
    },

    parse(schema, value, what) {
      const result = schema.safeParse(value);
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
        throw new ConnectorError('bad_response', connector, `unexpected ${what}${where}: ${issue?.message ?? 'invalid'}`);
      }
      return result.data;
    },

    checkLink(url, what) {
      if (new URL(url).origin !== config.graphUrl) {
        throw new ConnectorError('bad_response', connector, `${what} leaves ${config.graphUrl}: ${new URL(url).origin}`);
      }
      return url;
    },
  };
  return api;
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it fires: MSAL does not
 * pass the abort signal to its OpenID metadata request, so the wait is cut here.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
