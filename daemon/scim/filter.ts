import { badRequest } from './errors.js';

/**
 * SCIM filters and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2): parsed into a small tree and
 * evaluated on a resource as plain JSON. Attribute names compare case-insensitively; string
 * values too, except the case-exact attributes (`id`, `externalId`, `meta.version`).
 */

/** The core schemas: their attributes sit at the top of a resource, so a path may drop the URN. */
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_SCHEMAS = [CORE_USER, CORE_GROUP];
const KNOWN_EXTENSIONS = [ENTERPRISE_USER];

export interface AttributePath {
  /** The extension schema URN whose object holds the attribute; null for a core attribute. */
  schema: string | null;
  attribute: string;
  /** `members[value eq "…"]`: which values of a multi-valued attribute (PATCH paths only). */
  filter: Filter | null;
  subAttribute: string | null;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
export type Literal = string | number | boolean | null;

export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  | { kind: 'compare'; path: AttributePath; op: CompareOp; value: Literal }
  | { kind: 'present'; path: AttributePath }
  | { kind: 'valuePath'; path: AttributePath; filter: Filter };

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);
const CASE_EXACT = new Set(['id', 'externalid', 'meta.version']);

class Reader {
  position = 0;
  constructor(readonly text: string) {}

  skipSpaces(): void {
    while (this.text[this.position] === ' ') this.position++;
  }
  atEnd(): boolean {
    this.skipSpaces();
    return this.position >= this.text.length;
  }
  peek(): string {
    this.skipSpaces();
    return this.text[this.position] ?? '';
  }
  expect(char: string): void {
    if (this.peek() !== char) this.fail(`expected "${char}"`);
    this.position++;
  }
  /** A run of attribute-path characters (letters, digits, `:`, `.`, `_`, `-`, `$`). */
  word(): string {
    this.skipSpaces();
    const start = this.position;
    while (/[A-Za-z0-9:._$-]/.test(this.text[this.position] ?? '')) this.position++;
    return this.text.slice(start, this.position);
  }
  /** The next word without consuming it, lower-cased. */
  lookWord(): string {
    const at = this.position;
    const word = this.word();
    this.position = at;
    return word.toLowerCase();
  }
  fail(why: string): never {
    throw badRequest('invalidFilter', `invalid filter ${JSON.stringify(this.text)} at ${this.position}: ${why}`);
  }
}

/** Parses a `filter` query parameter. Throws a 400 `invalidFilter` ScimError. */
export function parseFilter(text: string): Filter {
  const reader = new Reader(text);
  const filter = parseOr(reader);
  if (!reader.atEnd()) reader.fail('unexpected text');
  return filter;
}

function parseOr(reader: Reader): Filter {
  let left = parseAnd(reader);
  while (reader.lookWord() === 'or') {
    reader.word();
    left = { kind: 'or', left, right: parseAnd(reader) };
  }
  return left;
}

function parseAnd(reader: Reader): Filter {
  let left = parseUnary(reader);
  while (reader.lookWord() === 'and') {
    reader.word();
    left = { kind: 'and', left, right: parseUnary(reader) };
  }
  return left;
}

function parseUnary(reader: Reader): Filter {
  if (reader.peek() === '(') {
    reader.expect('(');
    const inner = parseOr(reader);
    reader.expect(')');
    return inner;
  }
  if (reader.lookWord() === 'not') {
    const at = reader.position;
    reader.word();
    if (reader.peek() === '(') {
      reader.expect('(');
      const inner = parseOr(reader);
      reader.expect(')');
      return { kind: 'not', filter: inner };
    }
    reader.position = at;
  }
  const name = reader.word();
  if (name === '') reader.fail('expected an attribute name');
  const path = splitPath(name, () => reader.fail(`invalid attribute path ${JSON.stringify(name)}`));
  if (reader.peek() === '[') {
    reader.expect('[');
    const inner = parseOr(reader);
    reader.expect(']');
    return { kind: 'valuePath', path, filter: inner };
  }
  const op = reader.word().toLowerCase();
  if (op === 'pr') return { kind: 'present', path };
  if (!COMPARE_OPS.has(op)) reader.fail(`unknown operator ${JSON.stringify(op)}`);
  return { kind: 'compare', path, op: op as CompareOp, value: parseLiteral(reader) };
}

function parseLiteral(reader: Reader): Literal {
  if (reader.peek() === '"') {
    const start = reader.position;
    let end = start + 1;
    while (end < reader.text.length && reader.text[end] !== '"') end += reader.text[end] === '\\' ? 2 : 1;
    if (end >= reader.text.length) reader.fail('unterminated string');
    reader.position = end + 1;
    try {
      return JSON.parse(reader.text.slice(start, end + 1)) as string;
    } catch {
      return reader.fail('invalid string');
    }
  }
  const word = reader.word();
  const lower = word.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(word)) return Number(word);
  return reader.fail('expected a string, number, true, false or null');
}

/** `urn:…:User:name.givenName`, `emails`, `name.familyName` → the path without a filter. */
function splitPath(text: string, fail: () => never): AttributePath {
  let schema: string | null = null;
  let rest = text;
  const lower = text.toLowerCase();
  const known = [...CORE_SCHEMAS, ...KNOWN_EXTENSIONS].find((urn) => lower.startsWith(`${urn.toLowerCase()}:`));
  if (known) {
    schema = CORE_SCHEMAS.includes(known) ? null : known;
    rest = text.slice(known.length + 1);
  } else if (KNOWN_EXTENSIONS.some((urn) => urn.toLowerCase() === lower)) {
    // The whole extension object, as one complex attribute.
    return { schema: null, attribute: KNOWN_EXTENSIONS.find((urn) => urn.toLowerCase() === lower)!, filter: null, subAttribute: null };
  } else if (lower.startsWith('urn:')) {
    const cut = text.lastIndexOf(':');
    schema = text.slice(0, cut);
    rest = text.slice(cut + 1);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((part) => !/^[A-Za-z$][A-Za-z0-9_$-]*$/.test(part))) fail();
  return { schema, attribute: parts[0]!, filter: null, subAttribute: parts[1] ?? null };
}

/**
 * A PATCH operation's `path` (RFC 7644 §3.5.2): `attr`, `attr.sub`, `attr[filter]`,
 * `attr[filter].sub`, each optionally behind a schema URN. Throws 400 `invalidPath`.
 */
export function parsePatchPath(text: string): AttributePath {
  const invalid = (): never => {
    throw badRequest('invalidPath', `invalid path ${JSON.stringify(text)}`);
  };
  const open = text.indexOf('[');
  if (open === -1) return splitPath(text.trim(), invalid);
  const close = text.lastIndexOf(']');
  if (close < open) invalid();
  const path = splitPath(text.slice(0, open).trim(), invalid);
  if (path.subAttribute !== null) invalid();
  let filter: Filter;
  try {
    filter = parseFilter(text.slice(open + 1, close));
  } catch {
    return invalid();
  }
  const after = text.slice(close + 1).trim();
  if (after !== '' && !/^\.[A-Za-z$][A-Za-z0-9_$-]*$/.test(after)) invalid();
  return { ...path, filter, subAttribute: after === '' ? null : after.slice(1) };
}

/** The value of `key` in `object`, compared case-insensitively; the actual key too. */
export function lookup(object: Record<string, unknown>, key: string): { key: string; value: unknown } | null {
  if (Object.hasOwn(object, key)) return { key, value: object[key] };
  const lower = key.toLowerCase();
  for (const k of Object.keys(object)) if (k.toLowerCase() === lower) return { key: k, value: object[k] };
  return null;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object an attribute of `path` lives in: the resource, or its extension's object. */
export function containerOf(resource: Record<string, unknown>, schema: string | null): Record<string, unknown> | null {
  if (schema === null) return resource;
  const found = lookup(resource, schema);
  return found && isObject(found.value) ? found.value : null;
}

/** Every value a path names on a resource, multi-valued attributes flattened. */
function valuesAt(resource: Record<string, unknown>, path: AttributePath): unknown[] {
  const container = containerOf(resource, path.schema);
  const found = container && lookup(container, path.attribute);
  if (!found || found.value === undefined || found.value === null) return [];
  const top = Array.isArray(found.value) ? found.value : [found.value];
  if (path.subAttribute === null) {
    // `emails eq "x"` compares the primary `value` of each complex value.
    return top.map((v) => (isObject(v) && 'value' in v ? v.value : v));
  }
  const sub = path.subAttribute;
  return top.flatMap((v) => {
    const inner = isObject(v) ? lookup(v, sub) : null;
    if (!inner || inner.value === undefined || inner.value === null) return [];
    return Array.isArray(inner.value) ? inner.value : [inner.value];
  });
}

function caseExact(path: AttributePath): boolean {
  const name = path.subAttribute ? `${path.attribute}.${path.subAttribute}` : path.attribute;
  return CASE_EXACT.has(name.toLowerCase());
}

function compare(actual: unknown, op: CompareOp, expected: Literal, exact: boolean): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = exact ? actual : actual.toLowerCase();
    const e = exact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq': return a === e;
      case 'ne': return a !== e;
      case 'co': return a.includes(e);
      case 'sw': return a.startsWith(e);
      case 'ew': return a.endsWith(e);
      case 'gt': return a > e;
      case 'lt': return a < e;
      case 'ge': return a >= e;
      case 'le': return a <= e;
    }
  }
  if (typeof actual === 'number' && typeof expected === 'number') {
    switch (op) {
      case 'eq': return actual === expected;
      case 'ne': return actual !== expected;
      case 'gt': return actual > expected;
      case 'lt': return actual < expected;
      case 'ge': return actual >= expected;
      case 'le': return actual <= expected;
      default: return false;
    }
  }
  // Booleans (Entra may have stored "True") and null: equality only.
  const normal = (v: unknown) => (typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v);
  if (op === 'eq') return normal(actual) === expected;
  if (op === 'ne') return normal(actual) !== expected;
  return false;
}

/** Whether a resource (plain JSON, `id` and `meta` included) matches the filter. */
export function matches(filter: Filter, resource: Record<string, unknown>): boolean {
  switch (filter.kind) {
    case 'and': return matches(filter.left, resource) && matches(filter.right, resource);
    case 'or': return matches(filter.left, resource) || matches(filter.right, resource);
    case 'not': return !matches(filter.filter, resource);
    case 'present': return valuesAt(resource, filter.path).some((v) => v !== '' && !(isObject(v) && Object.keys(v).length === 0));
    case 'compare': {
      const values = valuesAt(resource, filter.path);
      const exact = caseExact(filter.path);
      if (filter.op === 'ne') return values.every((v) => compare(v, 'ne', filter.value, exact));
      if (filter.op === 'eq' && filter.value === null) return values.length === 0;
      return values.some((v) => compare(v, filter.op, filter.value, exact));
    }
    case 'valuePath': {
      const container = containerOf(resource, filter.path.schema);
      const found = container && lookup(container, filter.path.attribute);
      if (!found) return false;
      const elements = Array.isArray(found.value) ? found.value : [found.value];
      return elements.some((element) => isObject(element) && matches(filter.filter, element));
    }
  }
}

/**
 * `userName eq "x"` (or externalId, displayName, id): the single attribute and value a filter
 * asks for, so that a list can be answered from an index instead of scanning. Null otherwise.
 */
export function equalityOf(filter: Filter): { attribute: string; value: string } | null {
  if (filter.kind !== 'compare' || filter.op !== 'eq' || typeof filter.value !== 'string') return null;
  if (filter.path.schema !== null || filter.path.subAttribute !== null) return null;
  return { attribute: filter.path.attribute.toLowerCase(), value: filter.value };
}
