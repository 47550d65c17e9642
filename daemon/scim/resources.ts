import type { ScimResource, ScimResourceType } from '../../store/scim-types.js';
import { badRequest } from './errors.js';
import { CORE_GROUP, CORE_USER, isObject, lookup, parsePatchPath } from './filter.js';

/**
 * Resources as they cross the wire: what an IdP sends is kept as sent (attributes jitsync does
 * not use included) after a few normalisations, and rendered back with our `id` and `meta`.
 */

export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export function coreSchema(type: ScimResourceType): string {
  return type === 'User' ? CORE_USER : CORE_GROUP;
}

/** Attribute values Entra may send as strings ("True", "False"): stored as booleans. */
const BOOLEANS = new Set(['active', 'primary']);

/**
 * The attributes to store from a POST or PUT body, or after a PATCH: without `id` and `meta`
 * (ours), booleans as booleans, and the required name present. Throws 400.
 */
export function normalizeAttributes(type: ScimResourceType, body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw badRequest('invalidSyntax', `a ${type} must be a JSON object`);
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    // `id` and `meta` are ours; a password is never kept (jitsync signs no one in).
    if (lower === 'id' || lower === 'meta' || lower === 'password') continue;
    if (value === null) continue;
    attributes[key] = coerceBooleans(key, value);
  }
  const schemas = lookup(attributes, 'schemas');
  if (!schemas) attributes.schemas = [coreSchema(type)];
  else if (!Array.isArray(schemas.value) || !schemas.value.every((s) => typeof s === 'string')) {
    throw badRequest('invalidValue', 'schemas must be an array of schema URNs');
  }
  const name = type === 'User' ? 'userName' : 'displayName';
  const found = lookup(attributes, name);
  if (!found || typeof found.value !== 'string' || found.value.trim() === '') {
    throw badRequest('invalidValue', `${name} is required (a non-empty string)`);
  }
  const active = lookup(attributes, 'active');
  if (active && typeof active.value !== 'boolean') throw badRequest('invalidValue', 'active must be a boolean');
  if (type === 'Group') checkMembers(attributes);
  return attributes;
}

function coerceBooleans(key: string, value: unknown): unknown {
  if (BOOLEANS.has(key.toLowerCase()) && typeof value === 'string' && /^(true|false)$/i.test(value)) {
    return value.toLowerCase() === 'true';
  }
  if (Array.isArray(value)) {
    return value.map((element) =>
      isObject(element) ? Object.fromEntries(Object.entries(element).map(([k, v]) => [k, coerceBooleans(k, v)])) : element,
    );
  }
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, coerceBooleans(k, v)]));
  return value;
}

function checkMembers(attributes: Record<string, unknown>): void {
  const members = lookup(attributes, 'members');
  if (!members) return;
  if (!Array.isArray(members.value) || !members.value.every((m) => isObject(m) && typeof m.value === 'string' && m.value !== '')) {
    throw badRequest('invalidValue', 'members must be an array of objects with a string value (the member id)');
  }
}

/** Whether the user is active: absent means active (RFC 7643 leaves it to the provider). */
export function isActive(attributes: Record<string, unknown>): boolean {
  return lookup(attributes, 'active')?.value !== false;
}

export function stringAttribute(attributes: Record<string, unknown>, name: string): string | null {
  const value = lookup(attributes, name)?.value;
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The user's email: the primary one, else the work one, else the first; or a userName that is one. */
export function emailOf(attributes: Record<string, unknown>): string | null {
  const emails = lookup(attributes, 'emails')?.value;
  if (Array.isArray(emails)) {
    const values = emails.filter(isObject);
    const pick =
      values.find((e) => lookup(e, 'primary')?.value === true) ??
      values.find((e) => String(lookup(e, 'type')?.value ?? '').toLowerCase() === 'work') ??
      values[0];
    const value = pick && lookup(pick, 'value')?.value;
    if (typeof value === 'string' && value.includes('@')) return value.toLowerCase();
  }
  const userName = stringAttribute(attributes, 'userName');
  return userName && /^[^@\s]+@[^@\s]+$/.test(userName) ? userName.toLowerCase() : null;
}

export function displayNameOf(attributes: Record<string, unknown>): string | null {
  const display = stringAttribute(attributes, 'displayName');
  if (display) return display;
  const name = lookup(attributes, 'name')?.value;
  if (!isObject(name)) return null;
  const formatted = stringAttribute(name, 'formatted');
  if (formatted) return formatted;
  const parts = [stringAttribute(name, 'givenName'), stringAttribute(name, 'familyName')].filter((p) => p !== null);
  return parts.length > 0 ? parts.join(' ') : null;
}

/** The resource as answered: our `id` and `meta` over the attributes as stored. */
export function render(resource: ScimResource, baseUrl: string): Record<string, unknown> {
  const { schemas, ...rest } = resource.attributes;
  const plural = resource.resourceType === 'User' ? 'Users' : 'Groups';
  return {
    schemas: schemas ?? [coreSchema(resource.resourceType)],
    id: resource.id,
    ...rest,
    meta: {
      resourceType: resource.resourceType,
      created: resource.created,
      lastModified: resource.lastModified,
      version: etagOf(resource),
      location: `${baseUrl}/${plural}/${resource.id}`,
    },
  };
}

export function etagOf(resource: Pick<ScimResource, 'version'>): string {
  return `W/"${resource.version}"`;
}

/** Attributes a projection never drops (RFC 7643 `returned: always`). */
const ALWAYS = new Set(['id', 'schemas']);

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) over a rendered resource. Paths may
 * name sub-attributes (`name.givenName`) and carry a schema URN.
 */
export function project(rendered: Record<string, unknown>, attributes: string[] | null, excluded: string[] | null): Record<string, unknown> {
  if (attributes && attributes.length > 0) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(rendered)) if (ALWAYS.has(key)) out[key] = rendered[key];
    for (const text of attributes) copyPath(rendered, out, text);
    return out;
  }
  if (excluded && excluded.length > 0) {
    const out = structuredClone(rendered);
    for (const text of excluded) dropPath(out, text);
    return out;
  }
  return rendered;
}

function resolve(text: string): { schema: string | null; attribute: string; sub: string | null } | null {
  try {
    const path = parsePatchPath(text.trim());
    return { schema: path.schema, attribute: path.attribute, sub: path.subAttribute };
  } catch {
    return null;
  }
}

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, text: string): void {
  const path = resolve(text);
  if (!path) return;
  const source = path.schema === null ? from : (lookup(from, path.schema)?.value as Record<string, unknown> | undefined);
  if (!isObject(source)) return;
  let target = to;
  if (path.schema !== null) {
    const key = lookup(from, path.schema)!.key;
    target = isObject(to[key]) ? (to[key] as Record<string, unknown>) : (to[key] = {});
  }
  const found = lookup(source, path.attribute);
  if (!found) return;
  if (path.sub === null) {
    target[found.key] = found.value;
    return;
  }
  const sub = path.sub;
  if (Array.isArray(found.value)) {
    const existing = Array.isArray(target[found.key]) ? (target[found.key] as unknown[]) : null;
    target[found.key] = found.value.map((element, i) => {
      const kept = existing && isObject(existing[i]) ? existing[i] : {};
      const inner = isObject(element) ? lookup(element, sub) : null;
      return inner ? { ...kept, [inner.key]: inner.value } : kept;
    });
  } else if (isObject(found.value)) {
    const inner = lookup(found.value, sub);
    if (inner) target[found.key] = { ...(isObject(target[found.key]) ? (target[found.key] as object) : {}), [inner.key]: inner.value };
  }
}

function dropPath(resource: Record<string, unknown>, text: string): void {
  const path = resolve(text);
  if (!path || (path.schema === null && ALWAYS.has(path.attribute.toLowerCase()) && path.sub === null)) return;
  const container = path.schema === null ? resource : lookup(resource, path.schema)?.value;
  if (!isObject(container)) return;
  const found = lookup(container, path.attribute);
  if (!found) return;
  if (path.sub === null) {
    delete container[found.key];
    return;
  }
  const sub = path.sub;
  const elements = Array.isArray(found.value) ? found.value : [found.value];
  for (const element of elements) {
    if (!isObject(element)) continue;
    const inner = lookup(element, sub);
    if (inner) delete element[inner.key];
  }
}
