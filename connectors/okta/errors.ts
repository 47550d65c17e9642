import { z } from 'zod';
import type { ConnectorErrorClassifier } from '../errors.js';
import { ConnectorError, type ConnectorErrorKind } from '../types.js';

/**
 * Maps what the SDK and node-fetch throw to `ConnectorError`s. The SDK throws `OktaApiError`
 * (JSON error body) or `HttpError` (other body), both with `status` and node-fetch `headers`;
 * node-fetch throws `FetchError` (`type` "system" for network errors, "request-timeout") and
 * `AbortError`; the SDK's executor throws plain `Error`s when a 429 wait would overrun
 * `requestTimeout`. Messages carry Okta's error code and summary, never request headers.
 */

const httpErrorShape = z.object({
  status: z.coerce.number().int(),
  errorCode: z.string().optional(),
  headers: z.custom<{ get(name: string): string | null }>(
    (h) => typeof h === 'object' && h !== null && typeof Reflect.get(h, 'get') === 'function',
  ),
});

const namedErrorShape = z.object({ name: z.string(), type: z.string().optional(), message: z.string() });

export function httpStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error) || (error.name !== 'OktaApiError' && error.name !== 'HttpError')) return undefined;
  const parsed = httpErrorShape.safeParse(error);
  return parsed.success ? parsed.data.status : undefined;
}

/** Okta's classifier for `toConnectorError` (connectors/errors.ts). */
export const classifyOktaError: ConnectorErrorClassifier = (error, { connector }) => {
  const fail = (kind: ConnectorErrorKind, message: string, retryAfterMs?: number) =>
    new ConnectorError(kind, connector, message, {
      cause: error,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });

  if (error instanceof z.ZodError) {
    return fail('bad_response', `unexpected answer from Okta: ${z.prettifyError(error).split('\n').slice(0, 4).join('; ')}`);
  }
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const parsed = httpErrorShape.parse(error);
    const detail = error instanceof Error ? error.message : `HTTP ${status}`;
    if (status === 401 || status === 403) return fail('auth_failed', `Okta refused the API token: ${detail}`);
    if (status === 429) {
      return fail('rate_limited', `Okta rate limit still exceeded after retries: ${detail}`, rateLimitWait(parsed.headers));
    }
    if (status >= 500) return fail('unreachable', `Okta answered ${detail}`);
    return fail('bad_response', `Okta answered ${detail}`);
  }
  const named = namedErrorShape.safeParse(error);
  if (named.success) {
    const { name, type, message } = named.data;
    if (name === 'AbortError' || name === 'TimeoutError') return fail('timeout', `Okta did not answer in time (${message})`);
    if (name === 'FetchError') {
      if (type === 'request-timeout') return fail('timeout', `Okta did not answer in time (${message})`);
      if (type === 'system') return fail('unreachable', `cannot reach Okta: ${message}`);
      return fail('bad_response', `unreadable answer from Okta: ${message}`);
    }
    if (message.startsWith('HTTP 429 retry delay would exceed')) {
      return fail('rate_limited', 'Okta asked to wait longer than the request timeout allows');
    }
    if (message.startsWith('HTTP request time exceeded')) return fail('timeout', 'Okta did not answer in time');
    return fail('bad_response', `unreadable answer from Okta: ${message}`);
  }
  return fail('bad_response', `unreadable answer from Okta: ${String(error)}`);
};

/** How long Okta asked us to wait: `X-Rate-Limit-Reset` (epoch seconds) − `Date`, as the SDK does. */
function rateLimitWait(headers: { get(name: string): string | null }): number | undefined {
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  const date = Date.parse(headers.get('date') ?? '');
  const now = Number.isNaN(date) ? Date.now() : date;
  return Math.max(0, reset * 1000 - now + 1000);
}
