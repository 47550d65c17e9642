import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSelfSignedCert, TLS_ENV } from './tls.js';

/**
 * vitest global setup: runs in the main vitest process before any test worker is forked. Node
 * reads `NODE_EXTRA_CA_CERTS` only when a process starts, and the workers (pool `forks`) inherit
 * this process's environment, so setting it here makes every worker trust the fake's certificate:
 * both the Graph client (global fetch) and `@azure/identity` (node:https) then accept it.
 * A CA bundle already named by `NODE_EXTRA_CA_CERTS` is kept: ours is appended to a copy.
 */
export default async function setup(): Promise<() => void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jitsync-tls-'));
  const { certPath, keyPath } = await createSelfSignedCert(dir);
  const previous = process.env.NODE_EXTRA_CA_CERTS;
  const bundlePath = path.join(dir, 'extra-ca.pem');
  const inherited = previous ? await readFile(previous, 'utf8').catch(() => '') : '';
  await writeFile(bundlePath, `${inherited}\n${await readFile(certPath, 'utf8')}`);
  process.env.NODE_EXTRA_CA_CERTS = bundlePath;
  process.env[TLS_ENV.cert] = certPath;
  process.env[TLS_ENV.key] = keyPath;
  // Workers still exiting after teardown read the bundle as they go (Node warns if it is gone),
  // so the files are removed when the vitest process itself exits, after its workers.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return () => {
    if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = previous;
  };
}
