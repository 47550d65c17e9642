import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createLogger } from '../daemon/logger.js';
import { createDaemon, type Daemon } from '../daemon/main.js';
import { parseBenchConfig } from './config.js';
import { cpuSeconds, peakRssMiB, serveCommands } from './ipc.js';

/** The daemon under load, alone in its process, started as `jitsync serve` starts it. */

let daemon: Daemon | undefined;
let session: Session | undefined;

serveCommands({
  async start(args) {
    const config = parseBenchConfig(String(args.yaml), String(args.baseDir));
    daemon = await createDaemon(config, createLogger('warn'), { prewarmJitterMs: 0 });
    const url = await daemon.listen();
    return { url, scimUrl: daemon.scimAddress, store: daemon.store.describe() };
  },
  async stats() {
    return { peakRssMiB: peakRssMiB(), cpuSeconds: cpuSeconds() };
  },
  /** CPU profile of one load run only (`--profile`): start before it, stop after it. */
  async profileStart() {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    return null;
  },
  async profileStop(args) {
    if (!session) throw new Error('no profile running');
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(String(args.path), JSON.stringify(profile));
    session.disconnect();
    session = undefined;
    return null;
  },
  async stop() {
    await daemon?.close();
    return { peakRssMiB: peakRssMiB(), cpuSeconds: cpuSeconds() };
  },
});
