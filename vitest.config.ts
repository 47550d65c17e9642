import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['daemon/**/*.test.ts', 'connectors/**/*.test.ts', 'store/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Makes the fake Entra's self-signed certificate and trusts it (NODE_EXTRA_CA_CERTS) in every worker.
    globalSetup: ['test/fakes/entra/global-setup.ts'],
  },
});
