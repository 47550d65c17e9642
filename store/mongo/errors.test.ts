import { MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../types.js';
import { classifyMongoError } from './errors.js';

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

  it('leaves other errors as they are', () => {
    const duplicate = new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' });
    expect(classifyMongoError(duplicate, 'MongoDB 7.0')).toBe(duplicate);
    const plain = new Error('bug');
    expect(classifyMongoError(plain, 'MongoDB 7.0')).toBe(plain);
  });
});
