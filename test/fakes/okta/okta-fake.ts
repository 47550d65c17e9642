import { randomBytes, timingSafeEqual } from 'node:crypto';
import { FakeServer, type FakeResponse, type LoggedRequest } from '../fake-server.js';
import { OktaDirectory, type LogEvent, type OktaGroup, type OktaUser } from './directory.js';
import { FilterError, parseFilter, type Attribute } from './filter.js';
import { pageOf, PagingError, type PageLimits } from './paging.js';

/**
 * A strict fake of the Okta Management API routes jitsync uses, served over http on 127.0.0.1.
 * It answers only what the docs describe (IDP-NOTES.md, Okta section): `Authorization: SSWS`,
 * Okta error bodies, `Link` paging with absolute URLs and an opaque `after`, the
 * `X-Rate-Limit-*` headers and a `Date` header from the org's clock on every answer.
 * `server.requests` is the request log tests count API calls with.
 */

/** Page sizes from the docs: groups up to 10,000 (200 recommended), members default 1,000. */
export const GROUPS_LIMITS: PageLimits = { default: 10_000, max: 10_000 };
export const GROUP_MEMBERS_LIMITS: PageLimits = { default: 1_000, max: 10_000 };
export const USERS_LIMITS: PageLimits = { default: 200, max: 200 };
export const USER_GROUPS_LIMITS: PageLimits = { default: 10_000, max: 10_000 };
/** System Log: default 100, at most 1,000 events per page. */
export const LOGS_LIMITS: PageLimits = { default: 100, max: 1_000 };

export interface FakeOktaOptions {
  /** The API token the org accepts (`Authorization: SSWS <token>`). */
  token?: string;
  directory?: OktaDirectory;
  /** `X-Rate-Limit-Limit` per minute. Informational: 429s come from `rateLimitStorm`. */
  rateLimitPerMinute?: number;
}

type Match = (request: LoggedRequest) => boolean;

export class FakeOkta {
  readonly server: FakeServer;
  readonly directory: OktaDirectory;
  readonly token: string;
  private readonly rateLimit: number;
  private window = { minute: -1, used: 0 };

  constructor(options: FakeOktaOptions = {}) {
    this.token = options.token ?? 'test-okta-token';
    this.directory = options.directory ?? new OktaDirectory();
    this.rateLimit = options.rateLimitPerMinute ?? 600;
    this.server = new FakeServer({ route: (request) => this.route(request) });
  }

  start(): Promise<string> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  get baseUrl(): string {
    return this.server.baseUrl;
  }

  /** Requests received (faulted ones included), optionally only those matching. */
  apiCalls(match?: Match): number {
    return this.server.count(match);
  }

  /**
   * The next `times` matching requests get Okta's 429 (`E0000047`) with `X-Rate-Limit-Reset`
   * one second ahead of the org's clock, as a burst past the limit would.
   */
  rateLimitStorm(times: number, match?: Match): void {
    this.server.inject({
      times,
      ...(match ? { match } : {}),
      response: () => {
        const now = this.directory.now();
        const headers = this.headers(now, { remaining: 0, reset: Math.floor(now.getTime() / 1000) + 1 });
        return { status: 429, headers, body: oktaError('E0000047', 'API call exceeded rate limit due to too many requests.') };
      },
    });
  }

  /** The next `times` matching requests fail with a 5xx and Okta's `E0000009` body. */
  serverErrors(times: number, options: { status?: number; match?: Match } = {}): void {
    this.server.inject({
      times,
      ...(options.match ? { match: options.match } : {}),
      response: () => ({
        status: options.status ?? 500,
        headers: this.headers(this.directory.now()),
        body: oktaError('E0000009', 'Internal Server Error'),
      }),
    });
  }

  clearFaults(): void {
    this.server.clearFaults();
  }

  /** The next `times` matching requests are answered normally, but only after `delayMs`. */
  slowAnswers(times: number, delayMs: number, match?: Match): void {
    this.server.inject({ times, delayMs, ...(match ? { match } : {}) });
  }

  private route(request: LoggedRequest): FakeResponse {
    const now = this.directory.now();
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}): FakeResponse => ({
      status,
      headers: { ...this.headers(now), ...extra },
      body,
    });

    if (!this.authorised(request.headers.authorization)) {
      return answer(401, oktaError('E0000011', 'Invalid token provided'));
    }
    const segments = splitPath(request.path);
    if (!segments || segments[0] !== 'api' || segments[1] !== 'v1') return notFound(answer, request.path);
    const [collection, id, sub, ...rest] = segments.slice(2);
    if (rest.length > 0) return notFound(answer, request.path);

    const known =
      (collection === 'groups' && (sub === undefined || (id !== undefined && sub === 'users'))) ||
      (collection === 'users' && (sub === undefined || (id !== undefined && sub === 'groups'))) ||
      (collection === 'logs' && id === undefined);
    if (!known) return notFound(answer, request.path);
    if (request.method !== 'GET') {
      return answer(405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'));
    }

    try {
      if (collection === 'logs') return this.listLogs(request, answer, now);
      if (collection === 'groups') {
        if (id === undefined) return this.listGroups(request, answer);
        const group = this.directory.group(id);
        if (!group) return answer(404, oktaError('E0000007', `Not found: Resource not found: ${id} (UserGroup)`));
        if (sub === undefined) return answer(200, groupJson(group));
        return this.listGroupUsers(group, request, answer);
      }
      if (id === undefined) return this.listUsers(request, answer);
      const user = this.directory.user(id);
      if (!user) return answer(404, oktaError('E0000007', `Not found: Resource not found: ${id} (User)`));
      if (sub === undefined) return answer(200, userJson(user));
      const paged = pageOf(this.directory.groupsOf(user.id), request, USER_GROUPS_LIMITS, this.baseUrl, byId);
      return answer(200, paged.items.map(groupJson), { link: paged.link });
    } catch (error) {
      if (error instanceof PagingError) {
        return answer(400, oktaError('E0000001', 'Api validation failed: ' + error.message, [error.message]));
      }
      if (error instanceof FilterError) {
        return answer(400, oktaError('E0000031', 'Invalid search criteria.', [error.message]));
      }
      throw error;
    }
  }

  private listGroups(request: LoggedRequest, answer: Answer): FakeResponse {
    const unsupported = ['q', 'search', 'expand', 'sortBy', 'sortOrder'].find((p) => request.query.has(p));
    if (unsupported) return notSupported(answer, unsupported);
    let groups = this.directory.groups();
    const filter = request.query.get('filter');
    if (filter !== null) {
      const matches = parseFilter(filter, GROUP_FILTER_ATTRIBUTES);
      groups = groups.filter(matches);
    }
    const paged = pageOf(groups, request, GROUPS_LIMITS, this.baseUrl, byId);
    return answer(200, paged.items.map(groupJson), { link: paged.link });
  }

  /**
   * `GET /api/v1/logs`, bounded queries only (`until` given, or now): events with `since` ≤
   * `published` < `until`, oldest first, filtered on `eventType`. Okta keeps 90 days: an older
   * `since` is a 400.
   */
  private listLogs(request: LoggedRequest, answer: Answer, now: Date): FakeResponse {
    const unsupported = ['q'].find((p) => request.query.has(p));
    if (unsupported) return notSupported(answer, unsupported);
    if ((request.query.get('sortOrder') ?? 'ASCENDING') !== 'ASCENDING') return notSupported(answer, 'sortOrder');
    const instant = (name: string, fallback: Date): number => {
      const value = request.query.get(name);
      const time = value === null ? fallback.getTime() : Date.parse(value);
      if (Number.isNaN(time)) throw new PagingError(`${name}: "${value}" is not an ISO 8601 instant`);
      return time;
    };
    const until = instant('until', now);
    // Documented default: seven days before `until`.
    const since = instant('since', new Date(until - 7 * 86_400_000));
    if (since < now.getTime() - 90 * 86_400_000) throw new PagingError('since: older than the 90 days the System Log keeps');
    let events = this.directory.events.filter((e) => Date.parse(e.published) >= since && Date.parse(e.published) < until);
    const filter = request.query.get('filter');
    if (filter !== null) events = events.filter(parseFilter(filter, LOG_FILTER_ATTRIBUTES));
    const paged = pageOf(events, request, LOGS_LIMITS, this.baseUrl, (e) => String(e.seq).padStart(12, '0'));
    return answer(200, paged.items.map(({ seq: _seq, ...event }) => event), { link: paged.link });
  }

  private listGroupUsers(group: OktaGroup, request: LoggedRequest, answer: Answer): FakeResponse {
    const ids = this.directory.memberIds(group.id) ?? [];
    const paged = pageOf(ids, request, GROUP_MEMBERS_LIMITS, this.baseUrl, (userId) => userId);
    return answer(200, paged.items.map((userId) => userJson(this.directory.user(userId)!)), { link: paged.link });
  }

  private listUsers(request: LoggedRequest, answer: Answer): FakeResponse {
    const unsupported = ['q', 'filter', 'sortBy', 'sortOrder', 'fields', 'expand'].find((p) => request.query.has(p));
    if (unsupported) return notSupported(answer, unsupported);
    let users = this.directory.users();
    const search = request.query.get('search');
    // Documented: without `search` (or `filter`) the list leaves DEPROVISIONED users out.
    if (search === null) users = users.filter((u) => u.status !== 'DEPROVISIONED');
    else users = users.filter(parseFilter(search, USER_SEARCH_ATTRIBUTES));
    const paged = pageOf(users, request, USERS_LIMITS, this.baseUrl, byId);
    return answer(200, paged.items.map(userJson), { link: paged.link });
  }

  private authorised(header: string | undefined): boolean {
    const expected = Buffer.from(`SSWS ${this.token}`);
    const actual = Buffer.from(header ?? '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  /** `Date` from the org's clock and the `X-Rate-Limit-*` trio; counts the call in its minute. */
  private headers(now: Date, override?: { remaining: number; reset: number }): Record<string, string> {
    const minute = Math.floor(now.getTime() / 60_000);
    if (minute !== this.window.minute) this.window = { minute, used: 0 };
    this.window.used++;
    return {
      date: now.toUTCString(),
      'x-rate-limit-limit': String(this.rateLimit),
      'x-rate-limit-remaining': String(override?.remaining ?? Math.max(0, this.rateLimit - this.window.used)),
      'x-rate-limit-reset': String(override?.reset ?? (minute + 1) * 60),
    };
  }
}

const byId = (item: { id: string }) => item.id;

type Answer = (status: number, body: unknown, extra?: Record<string, string>) => FakeResponse;

const GROUP_FILTER_ATTRIBUTES: Record<string, Attribute<OktaGroup>> = {
  id: { kind: 'string', operators: ['eq'], get: (g) => g.id },
  type: { kind: 'string', operators: ['eq'], get: (g) => g.type },
  lastUpdated: { kind: 'date', operators: ['eq', 'gt', 'ge', 'lt', 'le'], get: (g) => g.lastUpdated },
  lastMembershipUpdated: {
    kind: 'date',
    operators: ['eq', 'gt', 'ge', 'lt', 'le'],
    get: (g) => g.lastMembershipUpdated,
  },
};

const LOG_FILTER_ATTRIBUTES: Record<string, Attribute<LogEvent>> = {
  eventType: { kind: 'string', operators: ['eq'], get: (e) => e.eventType },
};

/** Only the user searches jitsync sends: by email or login, exact (case-insensitive). */
const USER_SEARCH_ATTRIBUTES: Record<string, Attribute<OktaUser>> = {
  'profile.email': { kind: 'string', operators: ['eq'], caseInsensitive: true, get: (u) => u.profile.email },
  'profile.login': { kind: 'string', operators: ['eq'], caseInsensitive: true, get: (u) => u.profile.login },
};

export function oktaError(errorCode: string, errorSummary: string, causes: string[] = []) {
  return {
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId: 'oae' + randomBytes(12).toString('base64url'),
    errorCauses: causes.map((summary) => ({ errorSummary: summary })),
  };
}

function notFound(answer: Answer, path: string): FakeResponse {
  return answer(404, oktaError('E0000007', `Not found: Resource not found: ${path} (Endpoint)`));
}

/** A documented parameter this fake leaves out: loud, so a client relying on it is noticed. */
function notSupported(answer: Answer, parameter: string): FakeResponse {
  return answer(400, oktaError('E0000001', `Api validation failed: ${parameter}`, [`the fake does not implement "${parameter}"`]));
}

function splitPath(path: string): string[] | undefined {
  if (!path.startsWith('/') || path.endsWith('/')) return undefined;
  try {
    return path.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function groupJson(group: OktaGroup) {
  return { ...group, objectClass: ['okta:user_group'], profile: { ...group.profile } };
}

function userJson(user: OktaUser) {
  return { ...user, profile: { ...user.profile } };
}
