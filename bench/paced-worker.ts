import { serveCommands } from './ipc.js';
import { pacedLoad } from './paced.js';

/**
 * The paced generator in a process of its own: the orchestrating process holds the benchmark
 * org (1.3 M memberships) and autocannon's results, and a major GC there would hold back the
 * requests due meanwhile, which the open-loop measure then counts against the daemon.
 */

serveCommands({
  async run(args) {
    const bodies = args.bodies as string[];
    const headers = args.headers as Record<string, string>;
    const path = String(args.path);
    return pacedLoad({
      url: String(args.url),
      rate: Number(args.rate),
      durationSeconds: Number(args.durationSeconds),
      request: (i) => ({ method: 'POST', path, headers, body: bodies[i % bodies.length]! }),
    });
  },
  async stop() {
    return null;
  },
});
