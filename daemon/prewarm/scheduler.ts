import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { PrewarmService } from './prewarm-service.js';

export interface PrewarmSchedule {
  connector: string;
  cron: string;
}

/**
 * Runs each connector's pre-warm on its cron schedule. A run still going when the next tick comes
 * is not overlapped; a run held by another replica (its lease) is skipped quietly. A random delay
 * (30 s at most by default) keeps replicas from asking the IdP at the same second.
 */
export function startPrewarmScheduler(
  schedules: readonly PrewarmSchedule[],
  prewarm: PrewarmService,
  logger: Logger,
  jitterMs = 30_000,
): { stop(): Promise<void> } {
  const tasks: ScheduledTask[] = schedules.map(({ connector, cron }) =>
    schedule(
      cron,
      async () => {
        try {
          await prewarm.run(connector);
        } catch (error) {
          if (error instanceof AppError && error.code === 'prewarm_running') {
            logger.debug({ connector }, 'scheduled pre-warm skipped: another run holds the lease');
            return;
          }
          logger.error({ connector, err: error }, 'scheduled pre-warm failed to start');
        }
      },
      { name: `prewarm:${connector}`, noOverlap: true, maxRandomDelay: jitterMs, unref: true },
    ),
  );
  return {
    async stop() {
      await Promise.all(tasks.map((task) => task.destroy()));
    },
  };
}
