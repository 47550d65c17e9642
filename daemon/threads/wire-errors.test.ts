import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConflictError, NotFoundError, ScimUniquenessError, StoreBusyError, StoreError, StoreUnavailableError } from '../../store/types.js';
import { answerFor, AppError } from '../errors.js';
import { fromWire, toWire } from './wire-errors.js';

/** Through structured clone, as a message between threads carries it. */
const across = (error: unknown) => fromWire(structuredClone(toWire(error)));

describe('errors between threads', () => {
  it('arrive as the same store error, with its fields, and so get the same answer', () => {
    const errors = [
      new StoreBusyError(300),
      new StoreUnavailableError('the SQLite store /x cannot be used: disk full (SQLITE_FULL)'),
      new NotFoundError('account', 'u1'),
      new AlreadyExistsError('identity', 'demo:00u1ada'),
      new ConflictError('account changed by another write'),
      new ScimUniquenessError('userName', 'ada@example.com'),
      new StoreError('invalid value'),
    ];
    for (const error of errors) {
      const arrived = across(error);
      expect(arrived.constructor, error.name).toBe(error.constructor);
      expect(arrived).toEqual(error);
      expect(arrived.message).toBe(error.message);
      expect(answerFor(arrived)).toEqual(answerFor(error));
    }
  });

  it('keep an API error whole, and anything else as an error with its message and stack', () => {
    expect(across(new AppError(409, 'already_exists', 'organization exists: OrgA'))).toMatchObject({ status: 409, code: 'already_exists' });
    const bug = new TypeError('x is not a function');
    const arrived = across(bug);
    expect(arrived).toMatchObject({ message: 'x is not a function', stack: bug.stack });
  });
});
