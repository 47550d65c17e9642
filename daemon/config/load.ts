import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { validateDetailed } from 'node-cron';
import { parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { connectorBaseSchema } from '../../connectors/base-config.js';
import type { AnyConnectorSchema, ConnectorSchemas } from '../../connectors/types.js';
import type { Organization } from '../../store/types.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { interpolate, isPlainObject, type Env } from './interpolate.js';
import { ConfigError, joinPath, problemsFromZod, zodMessage, type Problem } from './problems.js';
import {
  logSchema,
  organizationSchema,
  organizationsSchema,
  provisioningOverridesSchema,
  provisioningSchema,
  serverSchema,
  storeSchema,
  TOP_LEVEL_KEYS,
  connectorTokenClashes,
  type ConfigFindings,
  type ConnectorEntry,
  type JitsyncConfig,
} from './schema.js';
import { checkLocalFiles, checkRules, checkServerFiles } from './references.js';

export { ConfigError, type Problem } from './problems.js';

export interface LoadOptions {
  /** Where `${env:NAME}` looks; pass `process.env` in the daemon, a literal in tests. */
  env: Env;
  /** Every known connector type's definition; `connectors:` entries are checked against them. */
  definitions: ConnectorSchemas;
}

export interface ParseOptions extends LoadOptions {
  /** The config file's folder: relative paths (`sqlite:`, `${file:}`, connector paths) resolve here. */
  baseDir: string;
}

/**
 * Reads, interpolates and validates a config file. Throws `ConfigError` listing every problem.
 * Synchronous: it runs once at start-up, before anything else could use the event loop.
 */
export function loadConfig(path: string, options: LoadOptions): JitsyncConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    const message =
      code === 'ENOENT' ? `config file not found: ${file}` : `cannot read config file ${file} (${code})`;
    throw new ConfigError([{ path: '', message }], file);
  }
  try {
    return parseConfig(text, { ...options, baseDir: dirname(file) });
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems, file, error.warnings);
    throw error;
  }
}

/** Validates config text. `${file:PATH}` placeholders are read synchronously (start-up only). */
export function parseConfig(text: string, options: ParseOptions): JitsyncConfig {
  const document = parseYaml(text);
  const problems: Problem[] = [];

  const raw = document ?? {};
  if (!isPlainObject(raw)) throw new ConfigError([{ path: '', message: 'expected a mapping of keys at the top level' }]);
  for (const key of Object.keys(raw)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      problems.push({ path: key, message: `unknown key (expected one of ${TOP_LEVEL_KEYS.join(', ')})` });
    }
  }

  const filled = interpolate(raw, options);
  problems.push(...filled.problems);
  const input = isPlainObject(filled.value) ? filled.value : {};

  const server = parseSection(serverSchema, input, 'server', problems);
  if (server?.scimTls) {
    problems.push(...checkServerFiles(server.scimTls, options.baseDir));
    server.scimTls = { certFile: resolve(options.baseDir, server.scimTls.certFile), keyFile: resolve(options.baseDir, server.scimTls.keyFile) };
  }
  const store = parseSection(storeSchema(options.baseDir), input, 'store', problems);
  const provisioning = parseSection(provisioningSchema, input, 'provisioning', problems);
  const organizations = parseSection(organizationsSchema, input, 'organizations', problems);
  const log = parseSection(logSchema, input, 'log', problems);
  // Rules are checked against every organization entry that is valid on its own, so a broken
  // entry elsewhere in the list does not hide a rule naming a missing group.
  const seeded = organizations ?? validOrganizations(input.organizations);
  const findings: ConfigFindings = { errors: [], warnings: [] };
  const rules = checkRules(input.provisioning, seeded, 'provisioning');
  problems.push(...rules.problems);
  findings.warnings.push(...rules.warnings);
  const context: ConnectorContext = { definitions: options.definitions, organizations: seeded, baseDir: options.baseDir, findings };
  const connectors = parseConnectors(input.connectors, context, problems);
  if (server && connectors) problems.push(...connectorTokenClashes(server, connectors));

  // A placeholder that failed leaves '' behind; do not also complain about that empty value.
  const failedPaths = new Set(filled.problems.map((p) => p.path));
  const reported = problems.filter((p) => filled.problems.includes(p) || !failedPaths.has(p.path));
  if (reported.length > 0 || !server || !store || !provisioning || !organizations || !log || !connectors) {
    // Every problem at once: what would not stop the daemon is named alongside what does.
    throw new ConfigError([...reported, ...findings.errors], undefined, findings.warnings);
  }
  return { server, store, provisioning, organizations, connectors, log, baseDir: options.baseDir, findings };
}

function parseYaml(text: string): unknown {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => ({ path: '', message: describeYamlError(error, text) })));
  }
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError([{ path: '', message: `YAML: ${error instanceof Error ? error.message : String(error)}` }]);
  }
}

/** The parser's reason and position, without the source excerpt it appends (it may hold a secret). */
function describeYamlError(error: YAMLError, text: string): string {
  const reason = (error.message.split(' at line ')[0] ?? error.message).replace(/:\s*".*$/s, '');
  const position = error.linePos?.[0];
  if (!position) return `YAML syntax error: ${reason}`;
  const line = text.split(/\r?\n/)[position.line - 1] ?? '';
  const hint = line.includes('${') ? ' (inside { } or [ ], quote a value that holds ${…})' : '';
  return `YAML syntax error at line ${position.line}, column ${position.col}: ${reason}${hint}`;
}

function parseSection<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
  key: string,
  problems: Problem[],
): z.output<S> | undefined {
  // `key:` with everything under it commented out reads as null: the same as leaving it out.
  const result = schema.safeParse(input[key] ?? undefined, { error: zodMessage });
  if (result.success) return result.data;
  problems.push(...problemsFromZod(result.error, key));
  return undefined;
}

/** What every connector entry is checked against, and where its findings go. */
interface ConnectorContext {
  definitions: ConnectorSchemas;
  organizations: Organization[];
  baseDir: string;
  findings: ConfigFindings;
}

function parseConnectors(value: unknown, context: ConnectorContext, problems: Problem[]): ConnectorEntry[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push({ path: 'connectors', message: 'expected a list' });
    return undefined;
  }
  const entries: ConnectorEntry[] = [];
  const firstIndexById = new Map<string, number>();
  let failed = false;
  value.forEach((raw: unknown, index) => {
    const base = joinPath('connectors', index);
    const before = problems.length;
    const entry = parseConnector(raw, base, context, problems);
    if (isPlainObject(raw) && typeof raw.id === 'string') {
      const first = firstIndexById.get(raw.id);
      if (first === undefined) firstIndexById.set(raw.id, index);
      else problems.push({ path: `${base}.id`, message: `duplicate connector id ${raw.id} (also connectors[${first}])` });
    }
    if (entry && problems.length === before) entries.push(entry);
    else failed = true;
  });
  return failed ? undefined : entries;
}

function parseConnector(raw: unknown, base: string, context: ConnectorContext, problems: Problem[]): ConnectorEntry | undefined {
  const available = Object.keys(context.definitions).join(', ') || 'none';
  if (!isPlainObject(raw)) {
    problems.push({ path: base, message: 'expected a mapping' });
    return undefined;
  }
  const type = raw.type;
  if (typeof type !== 'string') {
    const message = type === undefined ? `required; available types: ${available}` : `expected one of ${available}`;
    problems.push({ path: `${base}.type`, message });
    return undefined;
  }
  const definition = definitionFor(context.definitions, type);
  if (!definition) {
    problems.push({ path: `${base}.type`, message: `unknown connector type ${JSON.stringify(type)}; available types: ${available}` });
    return undefined;
  }

  const parsed = definition.configSchema.safeParse(raw, { error: zodMessage });
  if (!parsed.success) problems.push(...problemsFromZod(parsed.error, base));
  // Not a problem of the entry itself: the file may appear later (see ConfigFindings).
  context.findings.errors.push(...checkLocalFiles(raw, base, context.baseDir));

  if (typeof raw.prewarm === 'string') {
    const cron = validateDetailed(raw.prewarm);
    if (!cron.valid) {
      const why = cron.errors.map((e) => e.message).join('; ');
      problems.push({ path: `${base}.prewarm`, message: `not a valid node-cron expression (${why})` });
    }
  }

  let overrides: Partial<ProvisioningSettings> = {};
  if (isPlainObject(raw.provisioning)) {
    const result = provisioningOverridesSchema.safeParse(raw.provisioning, { error: zodMessage });
    if (result.success) overrides = result.data;
    else problems.push(...problemsFromZod(result.error, `${base}.provisioning`));
    const rules = checkRules(raw.provisioning, context.organizations, `${base}.provisioning`);
    problems.push(...rules.problems);
    context.findings.warnings.push(...rules.warnings);
  }

  if (!parsed.success) return undefined;
  // The definition's output, read through the base keys every entry has (type-specific keys kept).
  const common = connectorBaseSchema.loose().safeParse(parsed.data);
  if (!common.success) {
    problems.push({ path: base, message: `the ${type} connector's schema dropped the common keys (a bug)` });
    return undefined;
  }
  return { ...common.data, type: parsed.data.type, provisioning: overrides };
}

function validOrganizations(value: unknown): Organization[] {
  if (!Array.isArray(value)) return [];
  const valid: Organization[] = [];
  for (const entry of value) {
    const result = organizationSchema.safeParse(entry);
    if (result.success && !valid.some((org) => org.key === result.data.key)) valid.push(result.data);
  }
  return valid;
}

function definitionFor(definitions: ConnectorSchemas, type: string): AnyConnectorSchema | undefined {
  for (const [key, definition] of Object.entries(definitions)) if (key === type) return definition;
  return undefined;
}

function errorCode(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}
