#!/usr/bin/env -S node --v8-pool-size=1
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { connectorDefinitions } from '../connectors/registry.js';
import { loadConfig } from './config/load.js';
import { configPath, EXAMPLE_CONFIG, PACKAGE } from './config/locate.js';
import { ConfigError, formatProblem, type Problem } from './config/problems.js';
import type { JitsyncConfig } from './config/schema.js';
import { driftCommand } from './drift/cli-command.js';
import { AppError } from './errors.js';
import { loginInputSchema } from './login/input.js';
import { createLogger } from './logger.js';
import { createDaemon } from './main.js';
import { progressLine, summaryLines } from './prewarm/progress.js';
import { terminalSafe } from './terminal-text.js';

/** Exit codes, for scripts: 0 ok, 1 failure, 2 bad config or usage, 3 login denied or run guarded. */
const EXIT = { ok: 0, failure: 1, usage: 2, denied: 3 } as const;

const configOption = () =>
  new Option('-c, --config <file>', 'configuration file (default: $JITSYNC_CONFIG, else ./jitsync.yaml)');

/** `--config`, else `JITSYNC_CONFIG`, else `./jitsync.yaml`; a missing file says how to start one. */
function readConfig(option: string | undefined): JitsyncConfig {
  const path = configPath(option, process.env);
  if (!existsSync(path)) {
    throw new ConfigError(
      [{ path: '', message: `config file not found: ${path}. Start from the example: cp ${EXAMPLE_CONFIG} ${path}, or pass --config FILE (or set JITSYNC_CONFIG)` }],
    );
  }
  return loadConfig(path, { env: process.env, definitions: connectorDefinitions });
}

const program = new Command('jitsync')
  .description('JIT provisioning and directory sync for SSO applications')
  .version(PACKAGE.version, '-V, --version')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));

program
  .command('serve')
  .description('run the daemon: HTTP API, login hook and scheduled pre-warm')
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    const config = readConfig(options.config);
    const logger = createLogger(config.log.level);
    // The daemon runs with these (see ConfigFindings); a log line names each key once, at start.
    for (const { path, message } of config.findings.errors) logger.error({ key: path }, `config: ${message}`);
    for (const { path, message } of config.findings.warnings) logger.warn({ key: path }, `config: ${message}`);
    const daemon = await createDaemon(config, logger);
    const address = await daemon.listen();
    const scimAddress = daemon.scimAddress === null ? {} : { scimAddress: daemon.scimAddress };
    logger.info({ address, ...scimAddress, store: daemon.store.describe(), connectors: [...daemon.connectors.keys()] }, 'jitsync listening');

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(EXIT.failure);
      }
      stopping = true;
      const timeoutMs = config.server.shutdownTimeoutMs;
      logger.info({ signal, timeoutMs }, 'shutting down: finishing requests in flight');
      // Past server.shutdownTimeout, whatever still runs is abandoned (a container runtime would
      // SIGKILL soon after). The HTTP drain gets three quarters of it; the rest closes the store.
      setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown timed out: exiting');
        process.exit(EXIT.failure);
      }, timeoutMs).unref();
      daemon.stop(Date.now() + timeoutMs * 0.75).then(
        (drained) => {
          if (!drained) logger.warn('requests still open at the shutdown deadline were cut');
          process.exit(drained ? EXIT.ok : EXIT.failure);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(EXIT.failure);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program
  .command('login')
  .description('simulate a login hook call from the terminal and print the answer (exit 3 when denied)')
  .addOption(configOption())
  .requiredOption('--connector <id>', 'connector id')
  .requiredOption('--subject <subject>', "the user's stable id in the IdP")
  .requiredOption('--email <email>', "the user's email")
  .option('--name <name>', 'full name')
  .option('--given-name <name>', 'given name')
  .option('--family-name <name>', 'family name')
  .option('--username <username>', 'preferred username')
  .option('--group <name...>', 'groups from the SSO token (omit to use the cache or a live look-up)')
  .option('--groups-overage', 'the token said its group list was cut short')
  .action(async (options: Record<string, unknown>) => {
    const parsed = loginInputSchema.safeParse({
      connector: options.connector,
      subject: options.subject,
      email: options.email,
      name: options.name,
      givenName: options.givenName,
      familyName: options.familyName,
      username: options.username,
      groups: options.group,
      groupsOverage: options.groupsOverage,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) console.error(`--${issue.path.join('.')}: ${issue.message}`);
      process.exit(EXIT.usage);
    }
    const config = readConfig(options.config as string | undefined);
    // The answer says how the login went (`idp_unavailable` included): stdout stays one JSON document.
    const daemon = await createDaemon(config, createLogger('error'));
    try {
      const result = await daemon.login.login(parsed.data);
      console.log(JSON.stringify(result, null, 2));
      process.exitCode = result.decision === 'allow' ? EXIT.ok : EXIT.denied;
    } finally {
      await daemon.close();
    }
  });

program
  .command('prewarm')
  .description('pull groups and members from the IdP into the cache now (exit 3 when the removal guard stops a run)')
  .addOption(configOption())
  .option('--connector <id>', 'one connector (default: every connector)')
  .option('--full', 'take a complete snapshot even where an incremental feed is available')
  .option('--confirm-removals', 'apply a run that the removal guard would stop')
  .action(async (options: { config?: string; connector?: string; full?: boolean; confirmRemovals?: boolean }) => {
    const config = readConfig(options.config);
    const known = config.connectors.map((c) => c.id);
    if (options.connector !== undefined && !known.includes(options.connector)) {
      // Bad usage, as everywhere in the CLI (exit 2), and before anything is opened.
      console.error(`--connector: unknown connector "${options.connector}"; configured: ${known.join(', ') || 'none'}`);
      process.exit(EXIT.usage);
    }
    const tty = process.stderr.isTTY === true;
    // The table says how each run ended, and a failed run gets one line of its own below: the
    // daemon's warnings (a run's failure, with its stack) are for the log of `serve`, not here.
    const daemon = await createDaemon(config, createLogger('error'), {
      onPrewarmProgress: (run) => {
        if (tty) process.stderr.write(`\r\x1b[2K${progressLine(run)}`);
      },
    });
    try {
      const ids = options.connector ? [options.connector] : [...daemon.connectors.keys()];
      const states: string[] = [];
      for (const id of ids) {
        const run = await daemon.prewarm.run(id, { full: options.full, confirmRemovals: options.confirmRemovals });
        if (tty) process.stderr.write('\r\x1b[2K');
        if (run.state === 'failed') console.error(terminalSafe(`pre-warm of ${id} failed: ${run.error ?? 'unknown error'}`));
        console.log(summaryLines(run).join('\n') + '\n');
        states.push(run.state);
      }
      process.exitCode = states.includes('failed') ? EXIT.failure : states.includes('guarded') ? EXIT.denied : EXIT.ok;
    } finally {
      await daemon.close();
    }
  });

driftCommand(program, {
  configOption,
  readConfig,
  openDaemon: (config) => createDaemon(config, createLogger('warn')),
  exit: EXIT,
});

const configCommand = program.command('config').description('configuration tools');
configCommand
  .command('check')
  .description('validate a configuration file and report every problem at once')
  .addOption(configOption())
  .action((options: { config?: string }) => {
    const config = readConfig(options.config);
    const { errors, warnings } = config.findings;
    for (const problem of errors) console.error(formatProblem(problem));
    printWarnings(warnings);
    if (errors.length > 0) process.exit(EXIT.usage);
    const connectors = config.connectors.map((c) => `${c.id} (${c.type})`).join(', ') || 'none';
    const noted = warnings.length === 0 ? '' : ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})`;
    console.log(`${configPath(options.config, process.env)}: OK${noted}`);
    console.log(`  store: ${config.store.kind}, organizations: ${config.organizations.length}, connectors: ${connectors}`);
  });

function printWarnings(warnings: readonly Problem[]): void {
  for (const warning of warnings) console.error(`warning: ${formatProblem(warning)}`);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    printWarnings(error.warnings);
    process.exit(EXIT.usage);
  }
  if (error instanceof AppError) {
    console.error(`${error.code}: ${error.message}`);
    process.exit(EXIT.failure);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(EXIT.failure);
}
