import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['daemon/**/*.test.ts', 'connectors/**/*.test.ts', 'store/**/*.test.ts', 'test/**/*.test.ts'],
    // Sized for a busy 2-core machine (CI): a test that starts the daemon (whose background thread
    // compiles its sources under the test runner) or runs the built CLI takes several times longer
    // there than on an idle machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A real MongoDB-wire server (mongod, or FerretDB built from the Go module proxy) for the
    // MongoDB store tests; and the fake Entra's self-signed certificate, trusted
    // (NODE_EXTRA_CA_CERTS) in every worker.
    globalSetup: ['test/mongo/global-setup.ts', 'test/fakes/entra/global-setup.ts'],
  },
});
