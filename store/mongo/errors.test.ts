import { MongoBulkWriteError, MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ConflictError, StoreUnavailableError } from '../types.js';
import { classifyMongoError, isDuplicateKeyError, isWriteConflictError } from './errors.js';

/** DocumentDB's answer to a write that lost a deadlock on a unique index, as the driver hands it over. */
const deadlock = () => new MongoServerError({ ok: 0, code: 16908292, errmsg: 'deadlock detected' });

/**
 * The same answer to operations of an unordered bulk write (seen on concurrent cache upserts). The
 * driver does not export its `WriteError` class: each write error here is its JSON shape.
 */
function bulkFailure(...codes: number[]): MongoBulkWriteError {
  const writeErrors = codes.map((code, index) => ({ code, index, errmsg: code === 11000 ? 'Duplicate key violation' : 'deadlock detected', op: {} }));
  return new MongoBulkWriteError({ message: writeErrors[0]!.errmsg, code: codes[0]!, writeErrors: writeErrors as never }, undefined as never);
}

describe('classifyMongoError', () => {
  it('reads an unreachable server or a full disk as StoreUnavailableError', () => {
    const network = classifyMongoError(new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'), 'MongoDB 7.0, database jitsync');
    expect(network).toBeInstanceOf(StoreUnavailableError);
    expect((network as Error).message).toBe(
      'the MongoDB store (MongoDB 7.0, database jitsync) cannot be used: connect ECONNREFUSED 127.0.0.1:27017',
    );
    const full = classifyMongoError(new MongoServerError({ code: 14031, errmsg: 'Not enough disk space' }), 'MongoDB 7.0');
    expect(full).toBeInstanceOf(StoreUnavailableError);
  });

  it('reads a write the server rolled back as a deadlock as a ConflictError (a 409, never a 500)', () => {
    const single = classifyMongoError(deadlock(), 'FerretDB 2.5.0 (DocumentDB)');
    expect(single).toBeInstanceOf(ConflictError);
    expect((single as Error).message).toMatch(/FerretDB 2\.5\.0 \(DocumentDB\).*deadlock detected.*retry/);
    expect(classifyMongoError(bulkFailure(16908292), 'FerretDB 2.5.0')).toBeInstanceOf(ConflictError);
    // A serialization failure (40001) is the same kind of rollback.
    expect(classifyMongoError(new MongoServerError({ code: 16777220, errmsg: 'could not serialize access' }), 'x')).toBeInstanceOf(ConflictError);
  });

  it('reads a duplicate key no method translated as a ConflictError, and any other driver error as StoreUnavailableError', () => {
    const duplicate = classifyMongoError(new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' }), 'MongoDB 7.0');
    expect(duplicate).toBeInstanceOf(ConflictError);
    expect((duplicate as Error).message).toMatch(/MongoDB 7\.0.*E11000 duplicate key.*retry/);
    const internal = classifyMongoError(
      new MongoServerError({ code: 1, codeName: 'InternalError', errmsg: 'could not create exclusion constraint' }),
      'FerretDB 2.5.0',
    );
    expect(internal).toBeInstanceOf(StoreUnavailableError);
    expect((internal as Error).message).toBe('the MongoDB store (FerretDB 2.5.0) cannot be used: could not create exclusion constraint');
  });

  it('leaves errors that are not the driver\'s as they are', () => {
    const plain = new Error('bug');
    expect(classifyMongoError(plain, 'MongoDB 7.0')).toBe(plain);
  });
});

describe('error codes of a bulk write', () => {
  it('finds a duplicate key or a deadlock in any operation of the bulk write, not only the first', () => {
    expect(isDuplicateKeyError(bulkFailure(16908292, 11000))).toBe(true);
    expect(isWriteConflictError(bulkFailure(11000, 16908292))).toBe(true);
    expect(isWriteConflictError(bulkFailure(11000))).toBe(false);
    expect(isDuplicateKeyError(deadlock())).toBe(false);
    expect(isWriteConflictError(new Error('deadlock detected'))).toBe(false);
  });
});
