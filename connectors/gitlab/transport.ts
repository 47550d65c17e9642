import type { Groups } from '@gitbeaker/rest';
import { parseRetryAfter, withRetries, type RetryPolicy } from '../retry.js';
import { ConnectorError, type CallOptions } from '../types.js';

/**
 * The HTTP layer under gitbeaker. gitbeaker's own requester would get in the way three times:
 * its GET helper takes no caller AbortSignal (only one `queryTimeout` signal for a whole
 * auto-paged listing); it retries 429 and 502 up to ten times after a few milliseconds,
 * ignoring `Retry-After`, out of sight of our call counts; and it hides response headers of list
 * calls. So the connector passes this requester through gitbeaker's documented `requesterFn`
 * option: gitbeaker still builds endpoints (encoding path ids as `top%2Fsub`), query strings and
 * paging info, while each HTTP request here is one counted `fetch` with the caller's signal and
 * a per-request timeout, retried by `withRetries`, which honours `Retry-After`.
 */

type ResourceConfig = ConstructorParameters<typeof Groups>[0];
export type RequesterFn = NonNullable<ResourceConfig['requesterFn']>;
type Requester = ReturnType<RequesterFn>;
type ResourceOptions = Parameters<RequesterFn>[0];
type RequestOptions = Parameters<Requester['get']>[1];

export interface TransportSettings {
  connector: string;
  /** Timeout of one HTTP request, in milliseconds. */
  timeoutMs: number;
  retry: RetryPolicy;
}

/** GitLab answered 404: callers decide whether that means "no such user" or a failure. */
export class GitlabNotFoundError extends ConnectorError {
  constructor(connector: string, message: string) {
    super('bad_response', connector, message);
    this.name = 'GitlabNotFoundError';
  }
}

/** A requester for one connector call: its requests share the call's signal and stats. */
export function createRequesterFn(settings: TransportSettings, call: CallOptions): RequesterFn {
  return (resource: ResourceOptions): Requester => {
    const readOnly = async (): Promise<never> => {
      throw new ConnectorError('invalid_config', settings.connector, 'the GitLab connector only reads');
    };
    return {
      get: async (endpoint, options) => {
        const url = buildUrl(resource.url, endpoint, options?.searchParams);
        return withRetries(settings.retry, call, () => getOnce(settings, call, resource, url, options));
      },
      post: readOnly,
      put: readOnly,
      patch: readOnly,
      delete: readOnly,
    };
  };
}

/** gitbeaker hands over camelCase parameters (`perPage`); GitLab reads snake_case (`per_page`). */
function buildUrl(base: string, endpoint: string, searchParams: Record<string, unknown> | undefined): URL {
  const url = new URL(endpoint, base.endsWith('/') ? base : `${base}/`);
  for (const [key, value] of Object.entries(searchParams ?? {})) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TypeError(`unsupported query parameter ${key}`);
    }
    url.searchParams.set(key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), String(value));
  }
  return url;
}

async function getOnce(
  settings: TransportSettings,
  call: CallOptions,
  resource: ResourceOptions,
  url: URL,
  options: RequestOptions,
) {
  const { connector } = settings;
  call.signal.throwIfAborted();
  const headers: Record<string, string> = { ...resource.headers, accept: 'application/json' };
  for (const [name, value] of Object.entries(resource.authHeaders)) headers[name] = await value();
  const what = `GET ${url.pathname}`;
  const signals = [call.signal, AbortSignal.timeout(settings.timeoutMs)];
  if (options?.signal) signals.push(options.signal);

  if (call.stats) call.stats.apiCalls++;
  try {
    // `manual`: a redirect must not carry the token to another origin; it is reported instead.
    const response = await fetch(url, { headers, signal: AbortSignal.any(signals), redirect: 'manual' });
    const text = await response.text();
    const responseHeaders = Object.fromEntries(response.headers.entries());
    if (!response.ok) throw statusError(connector, what, response.status, responseHeaders, text);
    // gitbeaker's requester contract is generic over the body type; every body the connector
    // reads is checked against a zod schema after gitbeaker hands it back.
    let body;
    try {
      body = response.status === 204 || text === '' ? null : JSON.parse(text);
    } catch (error) {
      throw new ConnectorError('bad_response', connector, `${what}: answer is not JSON`, { cause: error });
    }
    if (Array.isArray(body) && url.searchParams.has('page') && responseHeaders['x-next-page'] === undefined) {
      // Without it the last page cannot be told from a cut-off list: never read that as complete.
      throw new ConnectorError('bad_response', connector, `${what}: list answer without x-next-page header`);
    }
    return { body, headers: responseHeaders, status: response.status };
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    if (call.signal.aborted) throw call.signal.reason;
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new ConnectorError('timeout', connector, `${what}: no answer within ${settings.timeoutMs} ms`, {
        cause: error,
      });
    }
    throw new ConnectorError('unreachable', connector, `${what}: ${describe(error)}`, { cause: error });
  }
}

function statusError(
  connector: string,
  what: string,
  status: number,
  headers: Record<string, string>,
  text: string,
): ConnectorError {
  const detail = gitlabMessage(text);
  const said = detail ? ` (${detail})` : '';
  if (status === 401) return new ConnectorError('auth_failed', connector, `${what}: GitLab refused the token${said}`);
  if (status === 403) {
    return new ConnectorError('auth_failed', connector, `${what}: the token lacks the rights for this call${said}`);
  }
  if (status === 404) return new GitlabNotFoundError(connector, `${what}: not found${said}`);
  if (status === 429) {
    return new ConnectorError('rate_limited', connector, `${what}: rate limited (429)`, {
      retryAfterMs: parseRetryAfter(headers['retry-after']) ?? resetDelay(headers['ratelimit-reset']),
    });
  }
  if (status >= 500) return new ConnectorError('unreachable', connector, `${what}: GitLab answered ${status}${said}`);
  if (status >= 300 && status < 400) {
    return new ConnectorError(
      'invalid_config',
      connector,
      `${what}: GitLab redirects to ${headers.location ?? '?'}; set url to the instance's own address`,
    );
  }
  return new ConnectorError('bad_response', connector, `${what}: GitLab answered ${status}${said}`);
}

/** `RateLimit-Reset` is a Unix time in seconds. */
function resetDelay(value: string | undefined): number | undefined {
  const seconds = Number(value);
  return value && Number.isFinite(seconds) ? Math.max(0, seconds * 1000 - Date.now()) : undefined;
}

/** GitLab errors are `{"message": …}` or `{"error": …}`; anything else is shown briefly. */
function gitlabMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') {
      const value = 'message' in parsed ? parsed.message : 'error' in parsed ? parsed.error : undefined;
      if (value !== undefined) return (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 200);
    }
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 200);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
