import { Worker, type WorkerOptions } from 'node:worker_threads';

// Under the test runner the daemon runs from its TypeScript sources: the worker first registers
// tsx's loader (in its own thread), then imports its module. A script, since a worker's first
// module cannot be TypeScript.
const TYPESCRIPT_BOOT = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api')
  .then(({ register }) => { register(); return import(workerData.__module); })
  .catch((error) => { process.nextTick(() => { throw error; }); });
`;

/**
 * Starts a worker thread on the module `name`, a sibling of the module whose `import.meta.url`
 * is `base`: `name.js` once compiled, `name.ts` under the test runner.
 */
export function startModuleWorker(base: string, name: string, options: WorkerOptions & { workerData: object }): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), options);
  const module = new URL(`./${name}.ts`, base).href;
  return new Worker(TYPESCRIPT_BOOT, { ...options, eval: true, workerData: { ...options.workerData, __module: module } });
}
