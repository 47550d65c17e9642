import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { joinPath, type Problem } from './problems.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolateContext {
  env: Env;
  /** Folder `${file:PATH}` resolves against: the config file's. */
  baseDir: string;
}

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Fills `${env:NAME}`, `${env:NAME:-default}` and `${file:PATH}` into every string value of an
 * already parsed document (keys are left alone). Done after YAML parsing so a problem names the
 * key, and a secret holding YAML syntax stays one string. `$${` writes a literal `${`.
 * Problems name the variable or file, never the value.
 */
export function interpolate(value: unknown, context: InterpolateContext): { value: unknown; problems: Problem[] } {
  const problems: Problem[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') return interpolateString(node, path, context, problems);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, joinPath(path, index)));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[key] = walk(child, joinPath(path, key));
      return out;
    }
    return node;
  };
  return { value: walk(value, ''), problems };
}

function interpolateString(text: string, path: string, context: InterpolateContext, problems: Problem[]): string {
  if (!text.includes('${')) return text;
  return text.replace(PLACEHOLDER, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      problems.push({ path, message: 'unclosed "${": write ${env:NAME} or ${file:PATH}, or $${ for a literal' });
      return '';
    }
    const resolved = resolvePlaceholder(body, context);
    if ('problem' in resolved) {
      problems.push({ path, message: resolved.problem });
      return '';
    }
    return resolved.value;
  });
}

function resolvePlaceholder(body: string, context: InterpolateContext): { value: string } | { problem: string } {
  if (body.startsWith('env:')) {
    const spec = body.slice('env:'.length);
    const split = spec.indexOf(':-');
    const name = split === -1 ? spec : spec.slice(0, split);
    if (!ENV_NAME.test(name)) return { problem: `"${name}" is not an environment variable name` };
    const value = context.env[name];
    if (split !== -1) {
      // Shell semantics: the default also replaces an empty value.
      return { value: value === undefined || value === '' ? spec.slice(split + 2) : value };
    }
    if (value === undefined) return { problem: `environment variable ${name} is not set` };
    return { value };
  }
  if (body.startsWith('file:')) {
    const file = resolve(context.baseDir, body.slice('file:'.length));
    try {
      return { value: readFileSync(file, 'utf8').replace(/[\r\n]+$/, '') };
    } catch (error) {
      return { problem: `cannot read file ${file} (${errorCode(error)})` };
    }
  }
  // The body is not echoed: it may be a literal secret that happens to contain "${".
  return { problem: 'unknown placeholder: use ${env:NAME}, ${env:NAME:-default} or ${file:PATH} (or $${ for a literal "${")' };
}

function errorCode(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
