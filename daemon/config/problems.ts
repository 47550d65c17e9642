import type { z } from 'zod';

/** One thing wrong with the config: the dotted key (`connectors[1].orgUrl`) and why. */
export interface Problem {
  /** Empty when the problem is about the file as a whole (missing, not YAML). */
  path: string;
  message: string;
}

/**
 * Every problem found in a config file, reported at once. The message is one line per problem,
 * `key: why`. Messages never quote configured values, so a secret cannot leak through them.
 */
export class ConfigError extends Error {
  constructor(
    readonly problems: Problem[],
    /** The config file, when the config came from one. */
    readonly file?: string,
    /** Found alongside the problems; not what refused the config (see `ConfigFindings`). */
    readonly warnings: Problem[] = [],
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(problem: Problem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

export type PathSegment = string | number;

/** `['connectors', 1, 'orgUrl']` → `connectors[1].orgUrl`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

export function joinPath(base: string, ...rest: PathSegment[]): string {
  const tail = formatPath(rest);
  if (base === '') return tail;
  if (tail === '') return base;
  return tail.startsWith('[') ? `${base}${tail}` : `${base}.${tail}`;
}

/**
 * Short, lower-case messages for zod's issues, used as the per-parse error map. Schema-level
 * messages (`.min(16, '...')`) win over these. None of them echo the input.
 */
export function zodMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${expectedName(issue.expected)}, got ${describeType(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${String(issue.values[0])}`
        : `expected one of ${issue.values.map(String).join('|')}`;
    case 'too_small':
      if (issue.origin === 'string') return `must be at least ${String(issue.minimum)} characters`;
      if (issue.origin === 'array') return `must have at least ${String(issue.minimum)} entries`;
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `must have at most ${String(issue.maximum)} entries`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'regex' ? `does not match ${String(issue.pattern)}` : `expected a valid ${issue.format}`;
    default:
      return undefined;
  }
}

function expectedName(expected: string): string {
  if (expected === 'object') return 'a mapping';
  if (expected === 'array') return 'a list';
  return expected;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** Turns a failed parse into problems under `base`; unknown keys become one problem each. */
export function problemsFromZod(error: z.ZodError, base = ''): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: joinPath(base, ...path, key), message: 'unknown key' });
    } else {
      problems.push({ path: joinPath(base, ...path), message: issue.message });
    }
  }
  return problems;
}
