import { AuthenticationError, AuthenticationRequiredError, CredentialUnavailableError } from '@azure/identity';
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { ConnectorErrorClassifier } from '../errors.js';
import { parseRetryAfter } from '../retry.js';
import { ConnectorError, type ConnectorErrorKind } from '../types.js';

/**
 * Maps what `@azure/identity` and the Graph client throw to `ConnectorError` kinds: the token
 * endpoint's 4xx → `auth_failed`; Graph 401/403 → `auth_failed`, 429 → `rate_limited` (with
 * `Retry-After`), 410 → `cursor_expired`, 5xx → `unreachable`, other 4xx → `bad_response`;
 * no response at all → `timeout` or `unreachable`. Messages carry the IdP's code, never secrets.
 * The classifier for `toConnectorError` (connectors/errors.ts).
 */
export const classifyEntraError: ConnectorErrorClassifier = (error, { connector }) => {
  if (error instanceof AuthenticationError) {
    const detail = `${error.errorResponse.error}: ${firstLine(error.errorResponse.errorDescription)}`;
    return new ConnectorError(kindForStatus(error.statusCode, 'auth_failed'), connector, `token request failed (HTTP ${error.statusCode}) ${detail}`, {
      cause: error,
    });
  }
  if (error instanceof AuthenticationRequiredError || error instanceof CredentialUnavailableError) {
    // @azure/identity 4.13 wraps the token endpoint's answer here with the status dropped; the
    // OAuth error code leads the message (`invalid_client: ... AADSTS7000215 ...`).
    const code = /^([a-z_]+):/.exec(error.message)?.[1] ?? '';
    const kind = REJECTED_CREDENTIALS.has(code) ? 'auth_failed' : 'unreachable';
    return new ConnectorError(kind, connector, `token request failed: ${firstLine(error.message)}`, { cause: error });
  }
  if (error instanceof GraphError) {
    if (error.statusCode <= 0) return noResponse(error.code ?? error.name, error, connector);
    const retryAfterMs = parseRetryAfter(error.headers?.get('retry-after'));
    const kind = kindForStatus(error.statusCode, 'bad_response');
    const message = `Graph answered HTTP ${error.statusCode} ${error.code ?? ''}: ${firstLine(error.message)}`;
    return new ConnectorError(kind, connector, message, retryAfterMs === undefined ? { cause: error } : { cause: error, retryAfterMs });
  }
  if (error instanceof Error) return noResponse(error.name, error, connector);
  return new ConnectorError('unreachable', connector, String(error));
};

/** The HTTP status behind an error from the Graph client, when there was a response. */
export function graphStatus(error: unknown): number | undefined {
  return error instanceof GraphError && error.statusCode > 0 ? error.statusCode : undefined;
}

/**
 * OAuth errors by which the token endpoint refuses our credentials or request: retrying cannot
 * help. Anything else (busy, unreachable, a 5xx that MSAL reports without a code) is retried.
 */
const REJECTED_CREDENTIALS = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_grant',
  'invalid_scope',
  'invalid_request',
  'invalid_resource',
  'invalid_tenant',
  'unsupported_grant_type',
]);

function kindForStatus(status: number, otherClientError: ConnectorErrorKind): ConnectorErrorKind {
  if (status === 401 || status === 403) return 'auth_failed';
  if (status === 429) return 'rate_limited';
  if (status === 410) return 'cursor_expired';
  if (status === 408 || status >= 500) return 'unreachable';
  return otherClientError;
}

function noResponse(name: string, error: Error, connector: string): ConnectorError {
  const kind = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable';
  return new ConnectorError(kind, connector, `no answer from Entra: ${firstLine(error.message) || name}`, { cause: error });
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]!.slice(0, 300);
}
