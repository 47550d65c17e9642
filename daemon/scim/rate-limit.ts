/**
 * A token bucket per SCIM token: `ratePerSecond` requests a second on average, with bursts up to
 * `burst`. An IdP's initial push arrives as fast as it can send; beyond the rate it is told to
 * wait (`429` with `Retry-After`) rather than slowing logins down.
 */
export interface RateLimit {
  /** Takes one request: 0 when allowed, else how many seconds to wait before retrying. */
  take(key: string): number;
}

export const DEFAULT_RATE_PER_SECOND = 100;
export const DEFAULT_BURST = 200;

export function createRateLimit(
  options: { ratePerSecond?: number; burst?: number; now?: () => number } = {},
): RateLimit {
  const rate = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
  const burst = options.burst ?? DEFAULT_BURST;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * rate);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
    },
  };
}
