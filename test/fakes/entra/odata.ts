import { randomUUID } from 'node:crypto';
import type { FakeResponse, LoggedRequest } from '../fake-server.js';
import type { DirectoryGroup, DirectoryObject, DirectoryUser } from './directory.js';

/** Graph's OData conventions as the fake applies them: errors, `$select`, `$top` paging. */

/** Thrown inside a route; the route turns it into Graph's error body. */
export class GraphFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): FakeResponse {
  const body = {
    error: {
      code,
      message,
      innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': randomUUID() },
    },
  };
  return headers ? { status, body, headers } : { status, body };
}

/** 400 for any query option the endpoint does not take, as Graph rejects unknown `$` options. */
export function allowQuery(request: LoggedRequest, allowed: readonly string[]): void {
  for (const key of request.query.keys()) {
    if (!allowed.includes(key)) {
      throw new GraphFault(400, 'Request_BadRequest', `Query option '${key}' is not supported on this resource.`);
    }
  }
}

/** Transitive/cast queries on membership are "advanced queries" in Graph. */
export function requireAdvancedQuery(request: LoggedRequest): void {
  const consistency = request.headers['consistencylevel'];
  if (consistency !== 'eventual' || request.query.get('$count') !== 'true') {
    throw new GraphFault(
      400,
      'Request_UnsupportedQuery',
      "The specified filter to the reference property query is currently not supported: this query needs the 'ConsistencyLevel: eventual' header and '$count=true'.",
    );
  }
}

const USER_PROPERTIES = ['id', 'displayName', 'userPrincipalName', 'mail', 'givenName', 'surname', 'accountEnabled'] as const;
const GROUP_PROPERTIES = ['id', 'displayName', 'description', 'securityEnabled', 'mailEnabled'] as const;
/** What Graph returns with no `$select` (it leaves out `accountEnabled`). */
const USER_DEFAULT = USER_PROPERTIES.filter((p) => p !== 'accountEnabled');

type Kind = 'user' | 'group' | 'directoryObject';

/** The `$select` list, checked against the type like Graph does; `undefined` = the default set. */
export function parseSelect(request: LoggedRequest, kind: Kind, extra: readonly string[] = []): string[] | undefined {
  const raw = request.query.get('$select');
  if (raw === null) return undefined;
  const known = new Set<string>([
    ...(kind !== 'group' ? USER_PROPERTIES : []),
    ...(kind !== 'user' ? GROUP_PROPERTIES : []),
    ...extra,
  ]);
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!known.has(name)) {
      throw new GraphFault(400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.${kind}'.`);
    }
  }
  return names;
}

export function serializeUser(user: DirectoryUser, select: string[] | undefined): Record<string, unknown> {
  return pick(user, USER_PROPERTIES, select ?? USER_DEFAULT);
}

export function serializeGroup(group: DirectoryGroup, select: string[] | undefined): Record<string, unknown> {
  return pick(group, GROUP_PROPERTIES, select ?? GROUP_PROPERTIES);
}

/** The `names` that are properties of the type, copied from `source`. */
function pick(source: object, properties: readonly string[], names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (properties.includes(name)) out[name] = Object.getOwnPropertyDescriptor(source, name)?.value;
  }
  return out;
}

/** A member of a directoryObject collection: always typed, `id` always present. */
export function serializeObject(object: DirectoryObject, select: string[] | undefined): Record<string, unknown> {
  const body = object.kind === 'user' ? serializeUser(object, select) : serializeGroup(object, select);
  return { '@odata.type': `#microsoft.graph.${object.kind}`, id: object.id, ...body };
}

export interface PageRequest {
  top: number;
  offset: number;
}

/** `$top` (default 100, 1..999) and the opaque `$skiptoken` of a nextLink. */
export function parsePaging(request: LoggedRequest): PageRequest {
  const rawTop = request.query.get('$top');
  const top = rawTop === null ? 100 : Number(rawTop);
  if (!Number.isInteger(top) || top < 1 || top > 999) {
    throw new GraphFault(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${rawTop}'. Must be between 1 and 999 inclusive.`);
  }
  const token = request.query.get('$skiptoken');
  if (token === null) return { top, offset: 0 };
  const offset = decodeToken(token, 'o');
  if (!Number.isInteger(offset) || offset < 0) {
    throw new GraphFault(400, 'Directory_InvalidSkipToken', 'Invalid skip token.');
  }
  return { top, offset };
}

/** One page of `items`, with an absolute `@odata.nextLink` that keeps the other query options. */
export function page(
  baseUrl: string,
  request: LoggedRequest,
  items: Record<string, unknown>[],
  paging: PageRequest,
  extra: Record<string, unknown> = {},
): FakeResponse {
  const end = paging.offset + paging.top;
  const body: Record<string, unknown> = {
    '@odata.context': `${baseUrl}/v1.0/$metadata#directoryObjects`,
    ...extra,
    value: items.slice(paging.offset, end),
  };
  if (end < items.length) {
    body['@odata.nextLink'] = linkWith(baseUrl, request, '$skiptoken', encodeToken({ o: end }));
  }
  return { status: 200, body };
}

/** The request's URL with `name` set to `value` and any earlier paging token dropped. */
export function linkWith(baseUrl: string, request: LoggedRequest, name: string, value: string): string {
  const params: string[] = [];
  for (const [key, v] of request.query) {
    if (key !== '$skiptoken' && key !== '$deltatoken') params.push(`${key}=${encodeURIComponent(v)}`);
  }
  params.push(`${name}=${value}`);
  return `${baseUrl}${request.path}?${params.join('&')}`;
}

export function encodeToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Reads a number field of an opaque token; anything else is `NaN` (a `400` at the caller). */
export function decodeToken(token: string, key: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return Number.NaN;
  }
  if (typeof parsed !== 'object' || parsed === null) return Number.NaN;
  const value: unknown = Object.getOwnPropertyDescriptor(parsed, key)?.value;
  return typeof value === 'number' ? value : Number.NaN;
}
