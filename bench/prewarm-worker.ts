import { createLogger } from '../daemon/logger.js';
import { createDaemon, type Daemon } from '../daemon/main.js';
import { parseBenchConfig } from './config.js';
import { cpuSeconds, peakRssMiB, serveCommands } from './ipc.js';

/**
 * Pre-warm runs in one daemon process, as the daemon's cron runs them (composed from the YAML
 * config, not listening): the full run, then the incremental one in the same process, so the
 * incremental run's drift summary folds into the model the full run's summary built. Peak RSS is
 * taken right after each run, before the store is read back for the correctness check.
 */

let daemon: Daemon | undefined;

serveCommands({
  async open(args) {
    const config = parseBenchConfig(String(args.yaml), String(args.baseDir));
    daemon = await createDaemon(config, createLogger('warn'), { prewarmJitterMs: 0 });
    return null;
  },
  async run(args) {
    if (!daemon) throw new Error('not open');
    const connector = String(args.connector);
    const cpuBefore = cpuSeconds();
    const started = performance.now();
    const run = await daemon.prewarm.run(connector, { full: args.full === true });
    const wallSeconds = (performance.now() - started) / 1000;
    const rss = peakRssMiB();
    const cpu = cpuSeconds() - cpuBefore;

    const cached = await daemon.store.listCachedUsers(connector);
    let memberships = 0;
    let present = 0;
    for (const user of cached) {
      if (user.absentSince) continue;
      present++;
      memberships += user.groups.length;
    }
    const groups = (await daemon.store.listCachedGroups(connector)).length;
    return {
      run,
      wallSeconds,
      peakRssMiB: rss,
      cpuSeconds: cpu,
      cache: { users: present, absent: cached.length - present, memberships, groups },
    };
  },
  async stop() {
    await daemon?.close();
    return null;
  },
});
