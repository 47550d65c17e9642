import { ConnectorError } from './types.js';

/**
 * The one way a connector turns what its client library threw into a `ConnectorError`. Each
 * connector type has a classifier of one shape (`classifyOktaError`, `classifyEntraError`,
 * `classifyLdapError`) that knows its library's errors; what no classifier recognises gets a
 * kind from what every library shares (a timeout, a socket error).
 */

export interface ErrorContext {
  /** The connector's id: every message starts with it. */
  connector: string;
  /** What was being done (`bind`, `search of ou=people,…`), when the classifier words it. */
  what?: string;
}

/** One connector type's reading of its library's errors; null when it does not recognise one. */
export type ConnectorErrorClassifier = (error: unknown, context: ErrorContext) => ConnectorError | null;

export function toConnectorError(error: unknown, context: ErrorContext, classify?: ConnectorErrorClassifier): ConnectorError {
  if (error instanceof ConnectorError) return error;
  return classify?.(error, context) ?? unclassified(error, context);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT']);

/** What any library's error says without its classifier: a timeout, a network failure, or else a bad answer. */
function unclassified(error: unknown, { connector, what }: ErrorContext): ConnectorError {
  const text = error instanceof Error ? error.message || error.name : String(error);
  const message = what ? `${what}: ${text}` : text;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new ConnectorError('timeout', connector, message, { cause: error });
  }
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new ConnectorError(code === 'ETIMEDOUT' ? 'timeout' : 'unreachable', connector, `${message} (${code})`, { cause: error });
  }
  return new ConnectorError('bad_response', connector, message, { cause: error });
}
