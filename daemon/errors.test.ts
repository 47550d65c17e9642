import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../connectors/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreBusyError, StoreError, StoreUnavailableError } from '../store/types.js';
import { answerFor } from './errors.js';

/**
 * The one table of store and connector errors (over HTTP: test/http/store-errors.test.ts and
 * store-lock.test.ts). A lost compare-and-swap only happens under real contention on MongoDB, so
 * its row is held here.
 */
describe('answerFor', () => {
  it('answers each store and connector error as documented, never a bare 500', () => {
    const rows = [
      [new StoreBusyError(300), 503, 'store_busy'],
      [new StoreUnavailableError('the SQLite store /x cannot be used: disk full (SQLITE_FULL)'), 503, 'store_unavailable'],
      [new ConflictError('account changed by another write'), 409, 'conflict'],
      [new AlreadyExistsError('identity', 'demo:00u1ada'), 409, 'conflict'],
      [new NotFoundError('account', 'u1'), 404, 'not_found'],
      [new StoreError('invalid value'), 500, 'store_error'],
      [new ConnectorError('timeout', 'okta', 'Okta did not answer in time'), 503, 'idp_unavailable'],
    ] as const;
    for (const [error, status, code] of rows) expect(answerFor(error), error.name).toMatchObject({ status, code });
    expect(answerFor(new StoreBusyError(300))?.headers).toEqual({ 'retry-after': '1' });
    // The store's own message (a path) stays in the log; the answer says what to do.
    expect(answerFor(new StoreUnavailableError('the SQLite store /x cannot be used'))?.message).not.toContain('/x');
  });

  it('leaves any other error to the caller', () => {
    expect(answerFor(new Error('boom'))).toBeNull();
    expect(answerFor('boom')).toBeNull();
  });
});
