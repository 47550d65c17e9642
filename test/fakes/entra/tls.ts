import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway self-signed certificate for `IP:127.0.0.1`, so the fake Entra can serve https:
 * the Graph client only sends its token to https URLs and `@azure/identity` refuses an http
 * authority. Node trusts it through `NODE_EXTRA_CA_CERTS`, which Node reads only at process
 * start; `global-setup.ts` therefore makes it before vitest forks its test workers.
 */

const execFileAsync = promisify(execFile);

/** Environment variables through which the global setup hands the files to the test workers. */
export const TLS_ENV = { cert: 'JITSYNC_TEST_TLS_CERT', key: 'JITSYNC_TEST_TLS_KEY' } as const;

export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

/** Writes `cert.pem` and `key.pem` (EC P-256, valid two days) into `dir` with the openssl CLI. */
export async function createSelfSignedCert(dir: string, signal?: AbortSignal): Promise<TlsFiles> {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  await execFileAsync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ],
    { timeout: 30_000, signal },
  );
  return { certPath, keyPath };
}

/**
 * The key and certificate the global setup made, for `FakeServer`'s `tls` option. Fails with the
 * fix when the setup did not run (the process would not trust the certificate anyway).
 */
export function loadTestTls(): { key: string; cert: string } {
  const certPath = process.env[TLS_ENV.cert];
  const keyPath = process.env[TLS_ENV.key];
  const trusted = process.env.NODE_EXTRA_CA_CERTS;
  if (!certPath || !keyPath || !trusted) {
    throw new Error(
      `no test TLS certificate: add 'test/fakes/entra/global-setup.ts' to test.globalSetup in vitest.config.ts ` +
        `(it creates the certificate and sets NODE_EXTRA_CA_CERTS before the test workers start)`,
    );
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}
