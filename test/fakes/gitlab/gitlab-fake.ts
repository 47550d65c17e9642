import { performance } from 'node:perf_hooks';
import { FakeServer, type Fault, type FakeResponse, type LoggedRequest } from '../fake-server.js';
import { GitlabDirectory, type FakeGroup, type FakeUser } from './directory.js';
import { paginate, ParamError } from './paging.js';

/**
 * A fake GitLab REST API v4 that follows the documented API strictly, on the shared
 * `FakeServer` shell: groups and subgroups, direct and inherited members, users and their
 * memberships, offset pagination with GitLab's headers, token auth, `RateLimit-*` headers.
 * Anything GitLab does not have answers 404. Groups behave as `internal`: any signed-in user
 * may read them, and a request without a token is refused.
 */

export interface AnsweredRequest {
  request: LoggedRequest;
  /** `performance.now()` when the answer was produced (route or fault). */
  at: number;
  status: number;
}

export interface GitlabFakeOptions {
  /** `RateLimit-Limit` advertised per minute. */
  rateLimitPerMinute?: number;
}

export interface GitlabFake {
  readonly server: FakeServer;
  readonly directory: GitlabDirectory;
  /** Every answer with its time, in order: for asserting waits between a 429 and its retry. */
  readonly answers: AnsweredRequest[];
  start(): Promise<string>;
  stop(): Promise<void>;
  /** A fault for `server.inject`: 429 with `Retry-After` (seconds) and `RateLimit-*` headers. */
  tooManyRequests(options: { retryAfterSeconds: number; times?: number; match?: Fault['match'] }): Fault;
  /** A fault answering `status` (e.g. 500, 502, 503) with GitLab's error body. */
  failing(status: number, options?: { times?: number; match?: Fault['match'] }): Fault;
  /** A fault that delays the real answer by `delayMs`. */
  slow(delayMs: number, options?: { times?: number; match?: Fault['match'] }): Fault;
}

const API = '/api/v4';

export function createGitlabFake(options: GitlabFakeOptions = {}): GitlabFake {
  const directory = new GitlabDirectory();
  const answers: AnsweredRequest[] = [];
  const limit = options.rateLimitPerMinute ?? 2000;
  let windowStart = Math.floor(Date.now() / 60_000);
  let used = 0;

  const rateLimitHeaders = (): Record<string, string> => {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== windowStart) {
      windowStart = minute;
      used = 0;
    }
    used += 1;
    const reset = (windowStart + 1) * 60;
    return {
      'ratelimit-name': 'throttle_authenticated_api',
      'ratelimit-limit': String(limit),
      'ratelimit-observed': String(used),
      'ratelimit-remaining': String(Math.max(0, limit - used)),
      'ratelimit-reset': String(reset),
      'ratelimit-resettime': new Date(reset * 1000).toUTCString(),
    };
  };

  const record = (request: LoggedRequest, response: FakeResponse): FakeResponse => {
    answers.push({ request, at: performance.now(), status: response.status });
    return { ...response, headers: { ...rateLimitHeaders(), ...response.headers } };
  };

  const server = new FakeServer({
    route: (request) => record(request, answer(directory, request)),
  });

  return {
    server,
    directory,
    answers,
    start: () => server.start(),
    stop: () => server.stop(),
    tooManyRequests: ({ retryAfterSeconds, times = 1, match }) => ({
      times,
      match,
      response: (request) => {
        const headers = rateLimitHeaders();
        answers.push({ request, at: performance.now(), status: 429 });
        return {
          status: 429,
          headers: {
            ...headers,
            'ratelimit-remaining': '0',
            'retry-after': String(retryAfterSeconds),
            'content-type': 'text/plain',
          },
          // Rack::Attack's throttled answer is plain text.
          body: 'Retry later\n',
        };
      },
    }),
    failing: (status, { times = 1, match } = {}) => ({
      times,
      match,
      response: (request) => record(request, { status, body: { message: `${status} ${statusText(status)}` } }),
    }),
    slow: (delayMs, { times = 1, match } = {}) => ({ times, match, delayMs }),
  };
}

function statusText(status: number): string {
  return (
    { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[
      status
    ] ?? 'Error'
  );
}

const notFound = (what: string): FakeResponse => ({ status: 404, body: { message: `404 ${what} Not Found` } });
const noRoute: FakeResponse = { status: 404, body: { error: '404 Not Found' } };
const badParam = (message: string): FakeResponse => ({ status: 400, body: { error: message } });

function answer(directory: GitlabDirectory, request: LoggedRequest): FakeResponse {
  if (!request.path.startsWith(`${API}/`)) return noRoute;
  const viewer = authenticate(directory, request);
  if (!viewer) return { status: 401, body: { message: '401 Unauthorized' } };
  const segments = request.path.slice(API.length + 1).split('/');
  if (request.method !== 'GET') {
    return isKnownRoute(segments) ? { status: 405, body: { error: '405 Not Allowed' } } : noRoute;
  }
  try {
    return route(directory, viewer, request, segments);
  } catch (error) {
    if (error instanceof ParamError) return badParam(error.message);
    throw error;
  }
}

function isKnownRoute(segments: string[]): boolean {
  return segments[0] === 'groups' || segments[0] === 'users';
}

/** `PRIVATE-TOKEN: <token>` or `Authorization: Bearer <token>`. */
function authenticate(directory: GitlabDirectory, request: LoggedRequest): FakeUser | undefined {
  const privateToken = request.headers['private-token'];
  const authorization = request.headers.authorization;
  let token: string | undefined;
  if (typeof privateToken === 'string') token = privateToken;
  else if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) token = authorization.slice(7);
  if (!token) return undefined;
  const user = directory.tokenUser(token);
  return user?.state === 'active' ? user : undefined;
}

function route(
  directory: GitlabDirectory,
  viewer: FakeUser,
  request: LoggedRequest,
  segments: string[],
): FakeResponse {
  const [resource, id, sub, subsub, extra] = segments;
  const q = request.query;

  if (resource === 'groups') {
    if (id === undefined || id === '') return listGroups(directory, viewer, request);
    const group = findGroup(directory, id);
    if (group === null) return noRoute;
    if (sub === undefined) return group ? { status: 200, body: groupDetail(directory, request, group) } : notFound('Group');
    if (!group) return notFound('Group');
    if (sub === 'descendant_groups' && subsub === undefined) {
      return page(request, filterGroups(directory.descendants(group), directory, q).map((g) => groupJson(directory, request, g)));
    }
    if (sub === 'subgroups' && subsub === undefined) {
      return page(request, filterGroups(directory.children(group), directory, q).map((g) => groupJson(directory, request, g)));
    }
    if (sub === 'members') {
      const inherited = subsub === 'all';
      const userId = inherited ? extra : subsub;
      if (inherited && segments.length > 5) return noRoute;
      if (!inherited && segments.length > 4) return noRoute;
      const members = inherited ? directory.allMembers(group) : directory.directMembers(group);
      if (userId !== undefined) {
        if (!/^\d+$/.test(userId)) return noRoute;
        const level = members.get(Number(userId));
        const user = directory.user(Number(userId));
        return level !== undefined && user ? { status: 200, body: memberJson(request, viewer, user, level) } : notFound('Member');
      }
      const query = q.get('query')?.toLowerCase();
      const rows = [...members]
        .sort(([a], [b]) => a - b)
        .flatMap(([uid, level]) => {
          const user = directory.user(uid);
          if (!user) return [];
          if (query && !user.username.toLowerCase().includes(query) && !user.name.toLowerCase().includes(query)) return [];
          return [memberJson(request, viewer, user, level)];
        });
      return page(request, rows);
    }
    return noRoute;
  }

  if (resource === 'users') {
    if (id === undefined || id === '') return listUsers(directory, viewer, request);
    if (!/^\d+$/.test(id)) return noRoute;
    const user = directory.user(Number(id));
    if (sub === undefined) return user ? { status: 200, body: userJson(request, viewer, user) } : notFound('User');
    if (sub === 'memberships' && subsub === undefined) {
      if (!viewer.admin) return { status: 403, body: { message: '403 Forbidden' } };
      if (!user) return notFound('User');
      const type = q.get('type');
      if (type !== null && type !== 'Project' && type !== 'Namespace') {
        return badParam('type does not have a valid value');
      }
      // The fake has no projects: every membership is a Namespace one.
      const rows = [...directory.membershipsOf(user.id)]
        .sort(([a], [b]) => a - b)
        .flatMap(([groupId, level]) => {
          const group = directory.group(groupId);
          return group
            ? [{ source_id: group.id, source_name: group.name, source_type: 'Namespace', access_level: level }]
            : [];
        });
      return page(request, type === 'Project' ? [] : rows);
    }
    return noRoute;
  }

  return noRoute;
}

/** `undefined` = no such group; `null` = not a valid id segment (no route matches). */
function findGroup(directory: GitlabDirectory, encoded: string): FakeGroup | undefined | null {
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  if (/^\d+$/.test(id)) return directory.group(Number(id));
  return directory.findGroupByPath(id);
}

function page(request: LoggedRequest, rows: unknown[]): FakeResponse {
  const { body, headers } = paginate(request, rows);
  return { status: 200, headers, body };
}

function readBoolean(query: URLSearchParams, key: string): boolean | undefined {
  const raw = query.get(key);
  if (raw === null) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ParamError(`${key} is invalid`);
}

/** `search`, `order_by` (name, path, id) and `sort` (asc, desc), as the group list routes take. */
function filterGroups(groups: FakeGroup[], directory: GitlabDirectory, q: URLSearchParams): FakeGroup[] {
  const orderBy = q.get('order_by') ?? 'name';
  if (!['name', 'path', 'id', 'similarity'].includes(orderBy)) throw new ParamError('order_by does not have a valid value');
  const sort = q.get('sort') ?? 'asc';
  if (sort !== 'asc' && sort !== 'desc') throw new ParamError('sort does not have a valid value');
  const search = q.get('search')?.toLowerCase();
  const rows = search
    ? groups.filter((g) => g.name.toLowerCase().includes(search) || directory.fullPath(g).toLowerCase().includes(search))
    : [...groups];
  const key = (g: FakeGroup): string | number => (orderBy === 'id' ? g.id : orderBy === 'path' ? g.path : g.name);
  rows.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    const cmp = ka < kb ? -1 : ka > kb ? 1 : a.id - b.id;
    return sort === 'asc' ? cmp : -cmp;
  });
  return rows;
}

function listGroups(directory: GitlabDirectory, viewer: FakeUser, request: LoggedRequest): FakeResponse {
  const q = request.query;
  // Administrators see every group by default; others only their own unless all_available.
  const allAvailable = readBoolean(q, 'all_available') ?? viewer.admin;
  const topLevelOnly = readBoolean(q, 'top_level_only') ?? false;
  const minAccess = q.get('min_access_level');
  if (minAccess !== null && !/^\d+$/.test(minAccess)) throw new ParamError('min_access_level is invalid');
  let groups = directory.allGroups();
  if (topLevelOnly) groups = groups.filter((g) => g.parentId === null);
  if (!allAvailable || minAccess !== null) {
    groups = groups.filter((g) => {
      const level = directory.allMembers(g).get(viewer.id);
      return level !== undefined && level >= Number(minAccess ?? 0);
    });
  }
  return page(request, filterGroups(groups, directory, q).map((g) => groupJson(directory, request, g)));
}

function listUsers(directory: GitlabDirectory, viewer: FakeUser, request: LoggedRequest): FakeResponse {
  const q = request.query;
  const username = q.get('username')?.toLowerCase();
  const search = q.get('search')?.toLowerCase();
  let users = directory.allUsers();
  if (username !== undefined) users = users.filter((u) => u.username.toLowerCase() === username);
  if (search !== undefined) {
    users = users.filter(
      (u) =>
        u.username.toLowerCase().includes(search) ||
        u.name.toLowerCase().includes(search) ||
        // Only administrators may find users by their (private) email.
        (viewer.admin && u.email.toLowerCase() === search),
    );
  }
  // `active=true` keeps only users who can sign in (not blocked or deactivated).
  if (readBoolean(q, 'active')) users = users.filter((u) => u.state === 'active');
  users = sortUsers(users, q);
  return page(request, users.map((u) => userJson(request, viewer, u)));
}

/** `order_by` (default `id`) and `sort` (default `desc`), as `GET /users` takes them. */
function sortUsers(users: FakeUser[], q: URLSearchParams): FakeUser[] {
  const orderBy = q.get('order_by') ?? 'id';
  if (!['id', 'name', 'username', 'created_at', 'updated_at'].includes(orderBy)) {
    throw new ParamError('order_by does not have a valid value');
  }
  const sort = q.get('sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') throw new ParamError('sort does not have a valid value');
  // Every fake user has the same timestamps: those orders fall back to the id, as ties do.
  const key = (u: FakeUser): string | number => (orderBy === 'name' ? u.name : orderBy === 'username' ? u.username : u.id);
  return [...users].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    const cmp = ka < kb ? -1 : ka > kb ? 1 : a.id - b.id;
    return sort === 'asc' ? cmp : -cmp;
  });
}

const origin = (request: LoggedRequest) => `http://${request.headers.host ?? '127.0.0.1'}`;

function groupJson(directory: GitlabDirectory, request: LoggedRequest, group: FakeGroup) {
  const fullPath = directory.fullPath(group);
  return {
    id: group.id,
    web_url: `${origin(request)}/groups/${fullPath}`,
    name: group.name,
    path: group.path,
    description: '',
    visibility: 'internal',
    full_name: directory.fullName(group),
    full_path: fullPath,
    parent_id: group.parentId,
    avatar_url: null,
    created_at: '2024-01-01T00:00:00.000Z',
  };
}

function groupDetail(directory: GitlabDirectory, request: LoggedRequest, group: FakeGroup) {
  const withProjects = readBoolean(request.query, 'with_projects') ?? true;
  return withProjects
    ? { ...groupJson(directory, request, group), projects: [], shared_projects: [] }
    : groupJson(directory, request, group);
}

function userJson(request: LoggedRequest, viewer: FakeUser, user: FakeUser) {
  const base = {
    id: user.id,
    username: user.username,
    name: user.name,
    state: user.state,
    avatar_url: null,
    web_url: `${origin(request)}/${user.username}`,
    created_at: '2024-01-01T00:00:00.000Z',
    public_email: '',
  };
  return viewer.admin ? { ...base, email: user.email, is_admin: user.admin } : base;
}

function memberJson(request: LoggedRequest, viewer: FakeUser, user: FakeUser, accessLevel: number) {
  const base = {
    id: user.id,
    username: user.username,
    name: user.name,
    state: user.state,
    avatar_url: null,
    web_url: `${origin(request)}/${user.username}`,
    access_level: accessLevel,
    created_at: '2024-01-01T00:00:00.000Z',
    expires_at: null,
    membership_state: 'active',
  };
  return viewer.admin ? { ...base, email: user.email } : base;
}
