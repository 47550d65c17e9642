import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { uriWithDatabase } from './server.js';

/**
 * A fresh database on the run's MongoDB-wire server: `jitsync_test_<label>_<random>`, so test
 * files and repeated runs never share one. Returns the store URL for it.
 */
export function freshDatabaseUrl(label: string): { url: string; database: string } {
  const safe = label.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 24);
  const database = `jitsync_test_${safe}_${randomBytes(4).toString('hex')}`;
  return { url: uriWithDatabase(inject('mongoUri'), database), database };
}
