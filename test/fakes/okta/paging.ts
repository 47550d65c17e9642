import type { LoggedRequest } from '../fake-server.js';

/**
 * Okta's cursor paging: `limit` (default and maximum per endpoint), an opaque `after` cursor,
 * and a `Link` header with an absolute `rel="self"` URL and, only when more items follow, a
 * `rel="next"` URL that repeats the query with the new cursor.
 */

export interface PageLimits {
  default: number;
  max: number;
}

export class PagingError extends Error {
  override name = 'PagingError';
}

export interface Page<T> {
  items: T[];
  link: string;
}

/** `items` must be sorted ascending by `key`; the cursor names the last key handed out. */
export function pageOf<T>(
  items: readonly T[],
  request: LoggedRequest,
  limits: PageLimits,
  baseUrl: string,
  key: (item: T) => string,
): Page<T> {
  const limit = parseLimit(request.query.get('limit'), limits);
  const after = request.query.get('after');
  const start = after === null ? 0 : firstAfter(items, decodeCursor(after), key);
  const slice = items.slice(start, start + limit);

  const self = `${baseUrl}${request.path}${queryString(request.query)}`;
  const links = [`<${self}>; rel="self"`];
  const last = slice.at(-1);
  if (last !== undefined && start + slice.length < items.length) {
    const next = new URLSearchParams(request.query);
    next.set('after', encodeCursor(key(last)));
    links.push(`<${baseUrl}${request.path}${queryString(next)}>; rel="next"`);
  }
  return { items: slice, link: links.join(', ') };
}

function parseLimit(value: string | null, limits: PageLimits): number {
  if (value === null) return limits.default;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new PagingError(`limit must be a positive integer, got "${value}"`);
  return Math.min(Number(value), limits.max);
}

function encodeCursor(key: string): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!text.startsWith('k:')) throw new PagingError(`after: "${cursor}" is not a cursor this org issued`);
  return text.slice(2);
}

function firstAfter<T>(items: readonly T[], lastKey: string, key: (item: T) => string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid]!) <= lastKey) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function queryString(query: URLSearchParams): string {
  const text = query.toString();
  return text ? `?${text}` : '';
}
