import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../daemon/logger.js';
import { createDaemon } from '../daemon/main.js';
import { openStore } from '../store/open.js';
import { parseBenchConfig } from './config.js';
import { cpuSeconds, peakRssMiB, serveCommands } from './ipc.js';
import { buildDirectory, fileSubject, groupName, userEmail, userName } from './shape.js';

/**
 * Seeds the login benchmark's store the way production fills it, and counts what the store holds
 * (the correctness checks), in its own process:
 *
 * 1. the `file` connector's directory export of the benchmark org is written and pre-warmed;
 * 2. every user logs in once through the login service (no token groups: from the cache), which
 *    creates the account, its identity, memberships, sync state and audit entry.
 */

const SEED_CONCURRENCY = 16;

serveCommands({
  async seed(args) {
    const baseDir = String(args.baseDir);
    const directory = buildDirectory({ users: Number(args.users), groups: Number(args.groups) });
    const started = performance.now();
    writeFileSync(
      join(baseDir, 'directory.json'),
      JSON.stringify({
        groups: Array.from({ length: directory.shape.groups }, (_, g) => ({ id: `g${g}`, name: groupName(g) })),
        users: directory.userGroups.map((groups, u) => ({
          subject: fileSubject(u),
          email: userEmail(u),
          name: userName(u),
          groups: groups.map(groupName),
        })),
      }),
    );
    const config = parseBenchConfig(String(args.yaml), baseDir);
    const daemon = await createDaemon(config, createLogger('warn'), { prewarmJitterMs: 0 });
    try {
      const prewarmStarted = performance.now();
      const run = await daemon.prewarm.run('corp');
      if (run.state !== 'succeeded') throw new Error(`seeding pre-warm ${run.state}: ${run.error}`);
      const prewarmSeconds = (performance.now() - prewarmStarted) / 1000;

      const accountsStarted = performance.now();
      let next = 0;
      let denied = 0;
      const loginAll = async () => {
        while (next < directory.shape.users) {
          const u = next++;
          const result = await daemon.login.login({
            connector: 'corp',
            subject: fileSubject(u),
            email: userEmail(u),
            name: userName(u),
          });
          if (result.decision !== 'allow') denied++;
        }
      };
      await Promise.all(Array.from({ length: SEED_CONCURRENCY }, loginAll));
      if (denied > 0) throw new Error(`${denied} seeding logins were denied`);
      const accountsSeconds = (performance.now() - accountsStarted) / 1000;
      return {
        totalSeconds: (performance.now() - started) / 1000,
        prewarmSeconds,
        accountsSeconds,
        accountsPerSecond: Math.round(directory.shape.users / accountsSeconds),
        prewarm: run.figures,
        peakRssMiB: peakRssMiB(),
        cpuSeconds: cpuSeconds(),
      };
    } finally {
      await daemon.close();
    }
  },

  /** What the store holds: accounts, memberships (by source), cache entries, audit entries by action. */
  async count(args) {
    const config = parseBenchConfig(String(args.yaml), String(args.baseDir));
    const store = await openStore(config.store);
    try {
      const users = await store.countUsers();
      let accounts = 0;
      let memberships = 0;
      let identities = 0;
      let afterId: string | null = null;
      for (;;) {
        const page = await store.listAccounts({ afterId, limit: 2_000 });
        if (page.length === 0) break;
        for (const account of page) {
          accounts++;
          memberships += account.memberships.length;
          identities += account.user.identities.length;
        }
        afterId = page.at(-1)!.user.id;
      }
      const cached = await store.listCachedUsers('corp');
      const audit: Record<string, number> = {};
      for (const entry of await store.listAudit({})) audit[entry.action] = (audit[entry.action] ?? 0) + 1;
      return { users, accounts, identities, memberships, cachedUsers: cached.length, audit };
    } finally {
      await store.close();
    }
  },

  async stop() {
    return null;
  },
});
