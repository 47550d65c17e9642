import type { AsyncLocalStorage } from 'node:async_hooks';
import okta from '@okta/okta-sdk-nodejs';
import type { CallStats } from '../types.js';

/**
 * The SDK's request executor, with what jitsync needs around every HTTP request it sends:
 * counting, an abort signal with a timeout, and no inherited proxy. The SDK's own behaviour is
 * kept: a 429 carrying `X-Rate-Limit-Reset` is retried after reset − `Date` + 1 s, at most
 * `maxRetries` times, within `requestTimeout` overall.
 *
 * The SDK's API methods take no per-call options that reach the executor, so the call they belong
 * to (signal, timeout, counters) travels in an AsyncLocalStorage the connector runs each SDK call in.
 */
export interface OktaCall {
  /** The caller's signal: aborting it cancels the request in flight. */
  signal: AbortSignal;
  /** Timeout of one HTTP request (each retry gets its own). */
  timeoutMs: number;
  stats: CallStats;
  /** The earliest `Date` header the org sent during this call, as epoch milliseconds. */
  earliestServerTime?: number;
}

type SdkRequest = Parameters<InstanceType<typeof okta.DefaultRequestExecutor>['fetch']>[0];

/** What of node-fetch's response we read (the SDK's typings leave it untyped). */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
}

const RETRY_COUNT_HEADER = 'X-Okta-Retry-Count';

export class CountingRequestExecutor extends okta.DefaultRequestExecutor {
  constructor(
    private readonly calls: AsyncLocalStorage<OktaCall>,
    options: { maxRetries: number; requestTimeout: number },
  ) {
    super(options);
  }

  override buildRetryRequest(request: SdkRequest, requestId: string, delayMs: number): SdkRequest {
    const retry = super.buildRetryRequest(request, requestId, delayMs);
    // The SDK subtracts the 429 wait twice from the retry's node-fetch timeout (its elapsed time
    // already includes the wait), so past half the budget the retry times out at once. The
    // budget check itself (wait + elapsed < requestTimeout) stays the SDK's; each attempt is
    // timed by the signal set in `fetch`.
    return Object.assign(retry, { timeout: 0 });
  }

  override fetch(request: SdkRequest): Promise<FetchResponse> {
    const call = this.calls.getStore();
    const headers: unknown = Reflect.get(request, 'headers');
    const isRetry = typeof headers === 'object' && headers !== null && RETRY_COUNT_HEADER in headers;
    // A collection reuses one request object for all its pages; without this the SDK would count
    // the whole listing against `requestTimeout` and refuse a late 429 retry.
    if (!isRetry) request.startTime = undefined;
    // Hermetic: the SDK builds a proxy agent from HTTPS_PROXY behind our back; we never use one.
    request.agent = undefined;
    if (call) {
      call.stats.apiCalls++;
      if (isRetry) call.stats.retries++;
      // node-fetch honours `signal`. Non-enumerable, so the SDK's deep copy for a retry skips it
      // (a copied AbortSignal would be a plain object) and this method sets a fresh one.
      Object.defineProperty(request, 'signal', {
        value: AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]),
        enumerable: false,
        configurable: true,
        writable: true,
      });
    }
    const response: Promise<FetchResponse> = super.fetch(request);
    return response.then((res) => {
      if (call) noteServerTime(call, res.headers.get('date'));
      return res;
    });
  }
}

function noteServerTime(call: OktaCall, date: string | null): void {
  const time = date ? Date.parse(date) : Number.NaN;
  if (Number.isNaN(time)) return;
  if (call.earliestServerTime === undefined || time < call.earliestServerTime) call.earliestServerTime = time;
}
