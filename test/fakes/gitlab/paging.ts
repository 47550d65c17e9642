import type { LoggedRequest } from '../fake-server.js';

/** GitLab drops `x-total`, `x-total-pages` and `rel="last"` past this many rows. */
export const TOTALS_LIMIT = 10_000;
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

export interface PageParams {
  page: number;
  perPage: number;
}

export class ParamError extends Error {}

/** `page` and `per_page` as GitLab reads them: integers; `per_page` capped at 100. */
export function readPageParams(query: URLSearchParams): PageParams {
  const page = readInteger(query, 'page') ?? 1;
  const perPage = readInteger(query, 'per_page') ?? DEFAULT_PER_PAGE;
  return {
    page: Math.max(1, page),
    perPage: perPage < 1 ? DEFAULT_PER_PAGE : Math.min(MAX_PER_PAGE, perPage),
  };
}

function readInteger(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new ParamError(`${key} is invalid`);
  return Number(raw);
}

/**
 * One page of `rows` with GitLab's offset-pagination headers. `Link` URLs are absolute, built
 * from the request's Host header and path, keeping every other query parameter.
 */
export function paginate<T>(
  request: LoggedRequest,
  rows: T[],
): { body: T[]; headers: Record<string, string> } {
  const { page, perPage } = readPageParams(request.query);
  const total = rows.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const body = rows.slice((page - 1) * perPage, page * perPage);
  const hasNext = page * perPage < total;
  const hasPrev = page > 1;
  const showTotals = total <= TOTALS_LIMIT;

  const link = (target: number, rel: string) => {
    const query = new URLSearchParams(request.query);
    query.set('page', String(target));
    query.set('per_page', String(perPage));
    return `<http://${request.headers.host ?? '127.0.0.1'}${request.path}?${query.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (hasPrev) links.push(link(page - 1, 'prev'));
  if (hasNext) links.push(link(page + 1, 'next'));
  links.push(link(1, 'first'));
  if (showTotals) links.push(link(totalPages, 'last'));

  const headers: Record<string, string> = {
    link: links.join(', '),
    'x-next-page': hasNext ? String(page + 1) : '',
    'x-page': String(page),
    'x-per-page': String(perPage),
    'x-prev-page': hasPrev ? String(page - 1) : '',
  };
  if (showTotals) {
    headers['x-total'] = String(total);
    headers['x-total-pages'] = String(totalPages);
  }
  return { body, headers };
}
