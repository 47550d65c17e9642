import type { AsyncLocalStorage } from 'node:async_hooks';
import okta from '@okta/okta-sdk-nodejs';
import { ConnectorError } from '../types.js';
import type { OktaConnectorConfig } from './config.js';
import { CountingRequestExecutor, type OktaCall } from './executor.js';

/**
 * An SDK client that depends on the connector's config alone. The SDK's ConfigLoader merges
 * `~/.okta/okta.yaml`, `./okta.yaml` and `OKTA_CLIENT_*` variables *under* what we pass, so every
 * setting it would act on is passed explicitly: `orgUrl`, `token`, and `authorizationMode: 'SSWS'`
 * (else `OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey` would switch it to OAuth with a key from the
 * environment). `HTTPS_PROXY` is dropped by our executor. What remains of those files is cosmetic
 * (`userAgent`), except that a malformed okta.yaml makes the SDK throw: reported as invalid config.
 * `cacheMiddleware: null` turns off the SDK's cache, which keeps GET answers forever.
 */
export function createHermeticClient(config: OktaConnectorConfig, calls: AsyncLocalStorage<OktaCall>): okta.Client {
  const requestExecutor = new CountingRequestExecutor(calls, {
    maxRetries: config.maxRetries,
    // The SDK's budget for one request including its 429 waits; each attempt also has its own
    // `timeoutMs` through the executor's signal.
    requestTimeout: config.timeoutMs * (config.maxRetries + 1),
  });
  try {
    return new okta.Client({
      orgUrl: config.orgUrl,
      token: config.token,
      authorizationMode: 'SSWS',
      cacheMiddleware: null,
      requestExecutor,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectorError('invalid_config', config.id, `cannot set up the Okta SDK client: ${reason}`, {
      cause: error,
    });
  }
}
