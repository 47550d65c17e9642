import type { TestProject } from 'vitest/node';
import { startMongoServer } from './server.js';

/**
 * Vitest global setup: one MongoDB-wire server for the whole run, handed to the test files as
 * `inject('mongoUri')`. Each test file uses its own database on it. Throws (failing the run)
 * when no server can be started: the MongoDB suite is never skipped silently.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startMongoServer();
  console.log(`MongoDB-wire server for tests: ${server.description}`);
  project.provide('mongoUri', server.uri);
  project.provide('mongoServerKind', server.kind);
  project.provide('mongoWriteMode', server.writeMode);
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** `mongodb://host:port/` of the run's MongoDB-wire server; add a database name per test file. */
    mongoUri: string;
    mongoServerKind: 'mongod' | 'ferretdb' | 'documentdb' | 'external';
    /** The write path the MongoDB store takes on that server: `atomic` or `guarded` (FerretDB 1.x). */
    mongoWriteMode: 'atomic' | 'guarded';
  }
}
