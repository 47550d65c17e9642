import { Option, type Command } from 'commander';
import type { JitsyncConfig } from '../config/schema.js';
import { AppError } from '../errors.js';
import type { Daemon } from '../main.js';
import { renderCsv } from './render-csv.js';
import { renderTable } from './render-table.js';
import { DRIFT_KINDS, isDriftKind, type DriftKind } from './types.js';

export interface DriftCommandDeps {
  configOption(): Option;
  readConfig(option: string | undefined): JitsyncConfig;
  openDaemon(config: JitsyncConfig): Promise<Daemon>;
  exit: { ok: number; failure: number; usage: number; denied: number };
}

/** Repeatable and comma-separated option values: `--kind a --kind b,c`. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

/** `jitsync drift`: the drift report in a terminal (exit 0 with no drift, 3 with drift). */
export function driftCommand(program: Command, deps: DriftCommandDeps): void {
  program
    .command('drift')
    .description('print where the IdP cache and the provisioned state disagree (exit 0: no drift, 3: drift)')
    .addOption(deps.configOption())
    .option('--connector <id>', 'only this connector (repeatable or comma list)', collect)
    .option('--kind <kind>', `only these kinds (repeatable or comma list): ${DRIFT_KINDS.join(', ')}`, collect)
    .option('--organization <key>', 'only items about this organization')
    .option('--user <user>', 'only items about this user (id, email or subject)')
    .option('--limit <n>', 'print at most n items (the summary still counts all)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .action(
      async (options: {
        config?: string;
        connector?: string[];
        kind?: string[];
        organization?: string;
        user?: string;
        limit?: string;
        format: 'table' | 'json' | 'csv';
      }) => {
        const kinds = options.kind ?? [];
        const bad = kinds.filter((k) => !isDriftKind(k));
        if (bad.length > 0) usage(`--kind: unknown ${bad.join(', ')}; expected ${DRIFT_KINDS.join(', ')}`, deps);
        const limit = options.limit === undefined ? undefined : Number(options.limit);
        if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) usage('--limit: expected a whole number ≥ 1', deps);

        const config = deps.readConfig(options.config);
        const daemon = await deps.openDaemon(config);
        try {
          const page = await daemon.drift.report({
            connectors: options.connector ?? [],
            kinds: kinds.filter((k): k is DriftKind => isDriftKind(k)),
            ...(options.organization !== undefined ? { organization: options.organization } : {}),
            ...(options.user !== undefined ? { user: options.user } : {}),
            ...(limit !== undefined ? { limit } : {}),
          });
          if (options.format === 'json') process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
          else if (options.format === 'csv') process.stdout.write(renderCsv(page.items));
          else {
            const columns = process.stdout.isTTY ? process.stdout.columns : 80;
            process.stdout.write(renderTable(page, Math.max(80, columns)));
          }
          process.exitCode = page.total === 0 ? deps.exit.ok : deps.exit.denied;
        } catch (error) {
          // An unknown connector or organization is a usage error, like a bad flag.
          if (!(error instanceof AppError && error.status === 400)) throw error;
          console.error(error.message);
          process.exitCode = deps.exit.usage;
        } finally {
          await daemon.close();
        }
      },
    );
}

function usage(message: string, deps: DriftCommandDeps): never {
  console.error(message);
  process.exit(deps.exit.usage);
}
