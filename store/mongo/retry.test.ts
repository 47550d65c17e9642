import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { answerFor } from '../../daemon/errors.js';
import { classifyMongoError } from './errors.js';
import { retryWriteConflicts, upsertRetrying, type RetryOptions } from './retry.js';

/**
 * The deadlock hits only some writers of a race, now and then: these tests hand the retry the
 * server's answer directly (a real `MongoServerError` as the driver builds it from the reply).
 */
const deadlock = () => new MongoServerError({ ok: 0, code: 16908292, errmsg: 'deadlock detected' });
const duplicate = () => new MongoServerError({ ok: 0, code: 11000, errmsg: 'E11000 duplicate key error' });

function recordingOptions(attempts: number): RetryOptions & { pauses: number[] } {
  const pauses: number[] = [];
  return { attempts, pauses, pauseMs: (attempt) => attempt * 10, sleep: async (ms) => void pauses.push(ms) };
}

/** A call that fails with `errors` in turn, then answers `done`. */
function failing(errors: Error[]): { call: () => Promise<string>; runs: () => number } {
  let runs = 0;
  return {
    call: async () => {
      const error = errors[runs++];
      if (error) throw error;
      return 'done';
    },
    runs: () => runs,
  };
}

describe('retryWriteConflicts', () => {
  it('runs a call that lost a deadlock again, after a pause, and answers what the next run answers', async () => {
    const options = recordingOptions(5);
    const call = failing([deadlock(), deadlock()]);
    await expect(retryWriteConflicts(call.call, options)).resolves.toBe('done');
    expect(call.runs()).toBe(3);
    expect(options.pauses).toEqual([10, 20]);
  });

  it('gives up after its attempts; the last deadlock then reaches the caller as a 409 conflict', async () => {
    const options = recordingOptions(3);
    const call = failing([deadlock(), deadlock(), deadlock(), deadlock()]);
    const error: unknown = await retryWriteConflicts(call.call, options).catch((e: unknown) => e);
    expect(call.runs()).toBe(3);
    const answer = answerFor(classifyMongoError(error, 'FerretDB 2.5.0 (DocumentDB)'));
    expect(answer).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('passes any other error on at once', async () => {
    const options = recordingOptions(5);
    const call = failing([duplicate()]);
    await expect(retryWriteConflicts(call.call, options)).rejects.toMatchObject({ code: 11000 });
    expect(call.runs()).toBe(1);
    expect(options.pauses).toEqual([]);
  });
});

describe('upsertRetrying', () => {
  it('runs an upsert that lost an insert race (E11000) again', async () => {
    const call = failing([duplicate()]);
    await expect(upsertRetrying(call.call)).resolves.toBe('done');
    expect(call.runs()).toBe(2);
  });

  it('passes E11000 on after three runs, and other errors at once', async () => {
    const always = failing([duplicate(), duplicate(), duplicate(), duplicate()]);
    await expect(upsertRetrying(always.call)).rejects.toMatchObject({ code: 11000 });
    expect(always.runs()).toBe(3);
    const other = failing([deadlock()]);
    await expect(upsertRetrying(other.call)).rejects.toMatchObject({ code: 16908292 });
    expect(other.runs()).toBe(1);
  });
});
