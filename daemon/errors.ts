import { ConnectorError } from '../connectors/types.js';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  StoreBusyError,
  StoreError,
  StoreUnavailableError,
} from '../store/types.js';

/**
 * An error a caller can act on: a stable code, the HTTP status it maps to, and a message that is
 * safe to show (it never carries secrets). Anything else that escapes is a 500 with no detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Headers the answer carries (`Retry-After`). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const notFound = (what: string, key: string) => new AppError(404, 'not_found', `${what} not found: ${key}`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);

type ErrorClass<E> = abstract new (...args: never[]) => E;
interface ErrorRule<E extends Error = Error> {
  error: ErrorClass<E>;
  answer(error: E): AppError;
}
const rule = <E extends Error>(error: ErrorClass<E>, answer: (error: E) => AppError): ErrorRule => ({
  error,
  answer: answer as (error: Error) => AppError,
});

/**
 * Every store and connector error the API answers, and how (docs/api.md, error answers), in
 * one table, first match wins. Busy is transient (a retry soon succeeds); unavailable means the
 * store takes no reads or writes until repaired; a lost race that survived the store's own
 * retries (a compare-and-swap, or a unique key another writer took first) is a conflict the caller
 * may retry. A service that gives one of these a meaning of its own (`409 already_exists` when an
 * organization exists) answers it itself.
 */
const ERROR_TABLE: readonly ErrorRule[] = [
  rule(StoreBusyError, () => new AppError(503, 'store_busy', 'the store is locked by another writer; retry shortly', undefined, { 'retry-after': '1' })),
  rule(StoreUnavailableError, () => new AppError(503, 'store_unavailable', 'the store cannot be read or written; see the daemon log')),
  rule(ConflictError, () => new AppError(409, 'conflict', 'another write changed the same record; retry')),
  rule(AlreadyExistsError, () => new AppError(409, 'conflict', 'another write changed the same record; retry')),
  rule(NotFoundError, (error) => new AppError(404, 'not_found', error.message)),
  rule(StoreError, () => new AppError(500, 'store_error', 'the store refused the operation; see the daemon log')),
  rule(ConnectorError, (error) => new AppError(503, 'idp_unavailable', `the identity provider did not answer (${error.kind}): ${error.message}`)),
];

/** The API's answer for a store or connector error, or null for any other error. */
export function answerFor(error: unknown): AppError | null {
  for (const { error: type, answer } of ERROR_TABLE) if (error instanceof type) return answer(error);
  return null;
}
