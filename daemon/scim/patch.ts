import { badRequest, ScimError } from './errors.js';
import { containerOf, isObject, lookup, matches, parsePatchPath, type AttributePath, type Filter } from './filter.js';

/**
 * The PATCH engine (RFC 7644 §3.5.2): applies `add`, `replace` and `remove` operations to a
 * resource's attributes, as a pure function. Accepts the clients' dialects: Entra's capitalised
 * `op`, its member removal by `path: "members"` with a `value` array, and value paths such as
 * `emails[type eq "work"].value` that name a value not there yet (created, as Entra expects).
 */

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: AttributePath | null;
  value: unknown;
}

/** Attributes the service provider assigns: a PATCH that targets them is refused. */
const READ_ONLY = new Set(['id', 'meta']);

/** Multi-valued attributes of the declared schemas: an `add` appends to them. */
const MULTI_VALUED = new Set([
  'emails', 'phonenumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509certificates', 'members', 'schemas',
]);

/** Reads a PatchOp request body into operations. Throws 400 `invalidSyntax` / `invalidPath`. */
export function readPatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'the body must be a PatchOp object');
  const operations = lookup(body, 'Operations')?.value;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw badRequest('invalidSyntax', 'Operations must be a non-empty array');
  }
  return operations.map((raw, index) => {
    if (!isObject(raw)) throw badRequest('invalidSyntax', `Operations[${index}] must be an object`);
    const op = lookup(raw, 'op')?.value;
    const kind = typeof op === 'string' ? op.toLowerCase() : '';
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove') {
      throw badRequest('invalidSyntax', `Operations[${index}].op must be add, replace or remove`);
    }
    const pathText = lookup(raw, 'path')?.value;
    if (pathText !== undefined && pathText !== null && typeof pathText !== 'string') {
      throw badRequest('invalidPath', `Operations[${index}].path must be a string`);
    }
    const path = typeof pathText === 'string' && pathText.trim() !== '' ? parsePatchPath(pathText) : null;
    const value = lookup(raw, 'value')?.value;
    if (kind !== 'remove' && value === undefined) throw badRequest('invalidValue', `Operations[${index}] needs a value`);
    if (kind === 'remove' && path === null) throw badRequest('noTarget', `Operations[${index}]: remove needs a path`);
    return { op: kind, path, value };
  });
}

/** The attributes after every operation, in order; the input is not changed. */
export function applyPatch(attributes: Record<string, unknown>, operations: readonly PatchOperation[]): Record<string, unknown> {
  const resource = structuredClone(attributes);
  for (const operation of operations) applyOne(resource, operation);
  return resource;
}

function applyOne(resource: Record<string, unknown>, operation: PatchOperation): void {
  const { op, path, value } = operation;
  if (path === null) {
    // No path: the value is an object of attributes (extension objects by their URN).
    if (!isObject(value)) throw badRequest('invalidValue', `${op} without a path needs an object value`);
    for (const [key, inner] of Object.entries(value)) {
      const attributePath = parsePatchPath(key);
      applyOne(resource, { op, path: attributePath, value: inner });
    }
    return;
  }
  if (READ_ONLY.has(path.attribute.toLowerCase()) && path.schema === null) {
    if (op === 'remove') throw new ScimError(400, `${path.attribute} cannot be removed`, 'mutability');
    // Clients echo `id` or `meta` back in a no-path replace: ignoring them changes nothing.
    return;
  }
  const container = ensureContainer(resource, path.schema, op !== 'remove');
  if (container === null) return;
  if (path.filter !== null) return applyFiltered(container, path, path.filter, op, value);
  if (path.subAttribute !== null) return applySub(container, path, op, value);
  const found = lookup(container, path.attribute);
  const key = found?.key ?? path.attribute;
  if (op === 'remove') {
    if (!found) return;
    // Entra removes members with `path: "members"` and the members to remove as `value`.
    if (value !== undefined && value !== null && Array.isArray(found.value)) {
      const gone = new Set((Array.isArray(value) ? value : [value]).map((v) => JSON.stringify(identityOf(v))));
      container[key] = found.value.filter((element) => !gone.has(JSON.stringify(identityOf(element))));
      return;
    }
    delete container[key];
    return;
  }
  const multi = MULTI_VALUED.has(path.attribute.toLowerCase()) || Array.isArray(found?.value) || Array.isArray(value);
  if (multi) {
    const incoming = Array.isArray(value) ? value : [value];
    if (op === 'replace' || !Array.isArray(found?.value)) {
      container[key] = dedupe(incoming);
    } else {
      container[key] = dedupe([...found.value, ...incoming]);
    }
    normalizePrimary(container[key] as unknown[]);
    return;
  }
  if (isObject(value) && isObject(found?.value)) {
    // A complex attribute: the sub-attributes given replace theirs, the others stay (§3.5.2.3).
    container[key] = { ...found.value, ...value };
    return;
  }
  container[key] = value;
}

function applySub(container: Record<string, unknown>, path: AttributePath, op: PatchOperation['op'], value: unknown): void {
  const found = lookup(container, path.attribute);
  const sub = path.subAttribute!;
  if (op === 'remove') {
    if (found && isObject(found.value)) {
      const inner = lookup(found.value, sub);
      if (inner) delete found.value[inner.key];
    }
    return;
  }
  if (found && Array.isArray(found.value)) {
    throw badRequest('invalidPath', `${path.attribute} is multi-valued: name its values with a filter, e.g. ${path.attribute}[type eq "work"].${sub}`);
  }
  const object = found && isObject(found.value) ? found.value : {};
  const inner = lookup(object, sub);
  object[inner?.key ?? sub] = value;
  container[found?.key ?? path.attribute] = object;
}

function applyFiltered(container: Record<string, unknown>, path: AttributePath, filter: Filter, op: PatchOperation['op'], value: unknown): void {
  const found = lookup(container, path.attribute);
  const elements = found && Array.isArray(found.value) ? found.value : [];
  const key = found?.key ?? path.attribute;
  const selected = elements.filter((element) => isObject(element) && matches(filter, element));
  if (op === 'remove') {
    if (path.subAttribute === null) {
      container[key] = elements.filter((element) => !selected.includes(element));
    } else {
      for (const element of selected as Array<Record<string, unknown>>) {
        const inner = lookup(element, path.subAttribute);
        if (inner) delete element[inner.key];
      }
    }
    return;
  }
  if (selected.length === 0) {
    // `emails[type eq "work"].value` naming no value yet: Entra's way of adding one.
    const seed = seedOf(filter);
    if (seed === null) throw badRequest('noTarget', `no value of ${path.attribute} matches the path's filter`);
    const element: Record<string, unknown> = { ...seed };
    if (path.subAttribute !== null) element[path.subAttribute] = value;
    else if (isObject(value)) Object.assign(element, value);
    else throw badRequest('invalidValue', `a value of ${path.attribute} must be an object`);
    container[key] = [...elements, element];
    return;
  }
  for (const element of selected as Array<Record<string, unknown>>) {
    if (path.subAttribute !== null) {
      const inner = lookup(element, path.subAttribute);
      element[inner?.key ?? path.subAttribute] = value;
    } else if (isObject(value)) {
      if (op === 'replace') for (const k of Object.keys(element)) delete element[k];
      Object.assign(element, value);
    } else {
      throw badRequest('invalidValue', `a value of ${path.attribute} must be an object`);
    }
  }
  container[key] = elements;
}

/** The element a filter made of `eq` comparisons (joined by `and`) describes, or null. */
function seedOf(filter: Filter): Record<string, unknown> | null {
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.subAttribute === null && filter.path.schema === null) {
    return { [filter.path.attribute]: filter.value };
  }
  if (filter.kind === 'and') {
    const left = seedOf(filter.left);
    const right = seedOf(filter.right);
    return left && right ? { ...left, ...right } : null;
  }
  return null;
}

function ensureContainer(resource: Record<string, unknown>, schema: string | null, create: boolean): Record<string, unknown> | null {
  const container = containerOf(resource, schema);
  if (container !== null || schema === null) return container;
  if (!create) return null;
  const made: Record<string, unknown> = {};
  resource[schema] = made;
  return made;
}

/** What identifies a value of a multi-valued attribute: its `value` when complex, else itself. */
function identityOf(element: unknown): unknown {
  return isObject(element) && 'value' in element ? element.value : element;
}

function dedupe(values: unknown[]): unknown[] {
  const kept: unknown[] = [];
  // Positions in `kept` by identity: a 1,000-member PATCH compares each member with its few
  // namesakes, not with every member kept so far.
  const byIdentity = new Map<string, number[]>();
  for (const value of values) {
    const id = JSON.stringify(identityOf(value));
    const positions = byIdentity.get(id) ?? [];
    const same = positions.find((i) => !isObject(kept[i]) || !isObject(value) || sameType(kept[i] as Record<string, unknown>, value));
    if (same === undefined) {
      positions.push(kept.push(value) - 1);
      byIdentity.set(id, positions);
    } else {
      kept[same] = isObject(kept[same]) && isObject(value) ? { ...kept[same], ...value } : value;
    }
  }
  return kept;
}

function sameType(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return lookup(a, 'type')?.value === lookup(b, 'type')?.value;
}

/** At most one value may be `primary` (RFC 7643 §2.4): the last one set wins. */
function normalizePrimary(values: unknown[]): void {
  const primaries = values.filter((v) => isObject(v) && lookup(v, 'primary')?.value === true);
  for (const v of primaries.slice(0, -1) as Array<Record<string, unknown>>) v[lookup(v, 'primary')!.key] = false;
}
