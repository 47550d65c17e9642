import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, type CallOptions } from './types.js';

export interface RetryPolicy {
  maxRetries: number;
  /** First backoff; doubles per retry, with full jitter. */
  baseDelayMs?: number;
  /** Longest wait honoured for one retry, `Retry-After` included. */
  maxDelayMs?: number;
}

/**
 * Runs `attempt` until it succeeds, retrying only `ConnectorError`s of kind `rate_limited`,
 * `unreachable` or `timeout` (a 5xx maps to `unreachable`). A `retryAfterMs` on the error (from
 * `Retry-After` or Okta's `X-Rate-Limit-Reset`) is honoured instead of the backoff. Each retry
 * bumps `options.stats.retries`; the abort signal ends the wait at once.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  options: CallOptions,
  attempt: () => Promise<T>,
): Promise<T> {
  const base = policy.baseDelayMs ?? 200;
  const max = policy.maxDelayMs ?? 60_000;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error) || retry >= policy.maxRetries) throw error;
      const hinted = error.retryAfterMs;
      const delay = Math.min(max, hinted ?? Math.random() * base * 2 ** retry);
      if (options.stats) options.stats.retries++;
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}

function isRetryable(error: unknown): error is ConnectorError {
  return (
    error instanceof ConnectorError &&
    (error.kind === 'rate_limited' || error.kind === 'unreachable' || error.kind === 'timeout')
  );
}

/** `Retry-After` is seconds or an HTTP date; returns milliseconds to wait, or undefined. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An abort signal that fires on the caller's signal or after `timeoutMs`, whichever is first. */
export function callSignal(options: CallOptions, timeoutMs: number): AbortSignal {
  return AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]);
}
