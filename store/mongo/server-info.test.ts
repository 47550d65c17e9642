import { describe, expect, it } from 'vitest';
import { describeServer } from './server-info.js';

// The `buildInfo` answers below are the servers' own (trimmed to the fields that matter).
describe('describeServer', () => {
  it('reads MongoDB as MongoDB: atomic writes, upserts', () => {
    const mongodb = { version: '7.0.14', gitVersion: 'ce59cfc6a3c5e5c067dca0d30697edd68d4f5188', versionArray: [7, 0, 14, 0], ok: 1 };
    expect(describeServer(mongodb)).toEqual({ server: 'MongoDB 7.0.14', writeMode: 'atomic', bulk: 'upserts' });
  });

  it('reads FerretDB 1.x (ferretdbVersion) as guarded, also when the build does not know its version', () => {
    const released = { version: '7.0.42', ferretdbVersion: 'v1.24.2', ok: 1 };
    expect(describeServer(released)).toEqual({
      server: 'FerretDB 1.24.2 (MongoDB 7.0.42 wire)',
      writeMode: 'guarded',
      bulk: 'insert-first',
    });
    // The embedded FerretDB 1.24 the tests build answers exactly this.
    const embedded = { version: '7.0.42', ferretdbVersion: 'unknown', ferretdbFeatures: { aggregationStages: ['$group'] }, ok: 1 };
    expect(describeServer(embedded)).toMatchObject({ server: 'FerretDB 1.x (MongoDB 7.0.42 wire)', writeMode: 'guarded' });
  });

  it('reads FerretDB 2.x (ferretdb.version) as FerretDB on DocumentDB with atomic writes, not as MongoDB 7.0.77', () => {
    const ferretdb2 = {
      version: '7.0.77',
      versionArray: [7, 0, 77, 0],
      buildEnvironment: { 'go.version': 'go1.26.8' },
      ferretdb: { version: 'v2.5.0', package: 'embedded' },
      ok: 1,
    };
    expect(describeServer(ferretdb2)).toEqual({
      server: 'FerretDB 2.5.0 (DocumentDB, MongoDB 7.0.77 wire)',
      writeMode: 'atomic',
      bulk: 'upserts',
    });
  });

  it('names a server that gives no version as unknown instead of failing', () => {
    expect(describeServer({ ok: 1 }).server).toBe('MongoDB unknown');
    expect(describeServer({ version: '7.0.77', ferretdb: { version: 42 } }).server).toBe('FerretDB 2.x (DocumentDB, MongoDB 7.0.77 wire)');
  });
});
