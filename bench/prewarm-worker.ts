import { createLogger } from '../daemon/logger.js';
import { createDaemon } from '../daemon/main.js';
import { parseBenchConfig } from './config.js';
import { cpuSeconds, peakRssMiB, serveCommands } from './ipc.js';

/**
 * One pre-warm run in a fresh process, as `jitsync prewarm` runs it (the daemon composed from the
 * YAML config, not listening). Peak RSS is taken right after the run, before the store is read
 * back for the correctness check.
 */

serveCommands({
  async run(args) {
    const config = parseBenchConfig(String(args.yaml), String(args.baseDir));
    const daemon = await createDaemon(config, createLogger('warn'), { prewarmJitterMs: 0 });
    try {
      const connector = String(args.connector);
      const rssBefore = peakRssMiB();
      const started = performance.now();
      const run = await daemon.prewarm.run(connector, { full: args.full === true });
      const wallSeconds = (performance.now() - started) / 1000;
      const rss = peakRssMiB();
      const cpu = cpuSeconds();

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
        rssBeforeRunMiB: rssBefore,
        cpuSeconds: cpu,
        cache: { users: present, absent: cached.length - present, memberships, groups },
      };
    } finally {
      await daemon.close();
    }
  },
  async stop() {
    return null;
  },
});
