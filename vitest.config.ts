import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['daemon/**/*.test.ts', 'connectors/**/*.test.ts', 'store/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // A real MongoDB-wire server (mongod, or FerretDB built from the Go module proxy) for the
    // MongoDB store tests; and the fake Entra's self-signed certificate, trusted
    // (NODE_EXTRA_CA_CERTS) in every worker.
    globalSetup: ['test/mongo/global-setup.ts', 'test/fakes/entra/global-setup.ts'],
  },
});
