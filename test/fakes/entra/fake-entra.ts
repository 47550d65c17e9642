import { randomBytes, randomUUID } from 'node:crypto';
import { FakeServer, type FakeResponse, type LoggedRequest } from '../fake-server.js';
import { GroupDelta, type DeltaOptions } from './delta.js';
import { Directory } from './directory.js';
import {
  allowQuery,
  GraphFault,
  graphError,
  page,
  parsePaging,
  parseSelect,
  requireAdvancedQuery,
  serializeGroup,
  serializeObject,
  serializeUser,
} from './odata.js';
import { loadTestTls } from './tls.js';

/**
 * A strict fake Microsoft Entra ID tenant over https: the identity platform's OpenID metadata
 * and client-credentials token endpoint, and the Microsoft Graph v1.0 routes jitsync reads.
 * One server serves both (the login routes start with the tenant, Graph's with `/v1.0`).
 * Anything else answers 404; unknown query options, bad `$select`/`$top` and missing advanced
 * query headers answer 400, as Graph does.
 */

export interface FakeEntraOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  delta?: Partial<DeltaOptions>;
  /** Defaults to the certificate made by `global-setup.ts`. */
  tls?: { key: string; cert: string };
}

export class FakeEntra {
  readonly directory = new Directory();
  readonly server: FakeServer;
  readonly tenantId: string;
  readonly clientId: string;
  clientSecret: string;
  private readonly delta: GroupDelta;
  private readonly tokens = new Set<string>();

  constructor(options: FakeEntraOptions = {}) {
    this.tenantId = options.tenantId ?? randomUUID();
    this.clientId = options.clientId ?? randomUUID();
    this.clientSecret = options.clientSecret ?? randomBytes(18).toString('base64url');
    this.delta = new GroupDelta(this.directory, { pageSize: 100, membersPerObject: 20, ...options.delta });
    this.server = new FakeServer({ tls: options.tls ?? loadTestTls(), route: (req, body) => this.route(req, body) });
  }

  get baseUrl(): string {
    return this.server.baseUrl;
  }

  /** The scope a client-credentials request must ask for: `{graphUrl}/.default`. */
  get scope(): string {
    return `${this.baseUrl}/.default`;
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  /** Every delta token handed out so far now answers `410 Gone`. */
  expireDeltaTokens(): void {
    this.delta.expireTokens();
  }

  /** Issued access tokens stop working (Graph answers 401 until a new one is fetched). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** Requests to Graph (not the token endpoint), optionally only those under `pathPrefix`. */
  graphCalls(pathPrefix = '/v1.0/'): LoggedRequest[] {
    return this.server.requests.filter((r) => r.path.startsWith(pathPrefix));
  }

  private async route(request: LoggedRequest, body: string): Promise<FakeResponse> {
    try {
      if (request.path.startsWith('/v1.0/')) return this.graph(request, body);
      return this.login(request, body);
    } catch (error) {
      if (error instanceof GraphFault) return graphError(error.status, error.code, error.message, error.headers);
      throw error;
    }
  }

  // --- identity platform -------------------------------------------------------------------

  private login(request: LoggedRequest, body: string): FakeResponse {
    const segments = request.path.split('/').slice(1);
    const [tenant = '', ...rest] = segments;
    const route = rest.join('/');
    if (route === 'v2.0/.well-known/openid-configuration' && request.method === 'GET') {
      if (tenant !== this.tenantId) return aadError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      const authority = `${this.baseUrl}/${tenant}`;
      return {
        status: 200,
        body: {
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          jwks_uri: `${authority}/discovery/v2.0/keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          issuer: `${authority}/v2.0`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
          tenant_region_scope: null,
          cloud_instance_name: 'microsoftonline.com',
        },
      };
    }
    if (route === 'oauth2/v2.0/token' && request.method === 'POST') {
      if (tenant !== this.tenantId) return aadError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      return this.token(request, body);
    }
    return { status: 404, body: { error: 'not_found', error_description: `no route ${request.method} ${request.path}` } };
  }

  private token(request: LoggedRequest, body: string): FakeResponse {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return aadError(400, 'invalid_request', 900144, "The request body must contain the parameter 'grant_type'.");
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.get('client_id') !== this.clientId) {
      return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${form.get('client_id')}' was not found in the directory.`);
    }
    if (form.get('client_secret') !== this.clientSecret) {
      return aadError(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    if (form.get('scope') !== this.scope) {
      return aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${form.get('scope')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
    }
    const accessToken = randomBytes(24).toString('base64url');
    this.tokens.add(accessToken);
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken } };
  }

  // --- Microsoft Graph -----------------------------------------------------------------------

  private graph(request: LoggedRequest, body: string): FakeResponse {
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    if (!token) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (!this.tokens.has(token)) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');

    const segments = request.path.split('/').slice(2).map(decodeURIComponent);
    const get = request.method === 'GET';
    const [collection, id, relation, cast] = segments;

    if (collection === 'groups' && get) {
      if (segments.length === 1) return this.listGroups(request);
      if (segments.length === 2 && id === 'delta') return this.delta.handle(request, this.baseUrl);
      if (segments.length === 3 && relation === 'transitiveMembers') return this.memberList(request, id!, 'transitive');
      if (segments.length === 3 && relation === 'members') return this.memberList(request, id!, 'direct');
      if (segments.length === 4 && relation === 'transitiveMemberOf' && cast === 'microsoft.graph.group') {
        const group = this.directory.findGroup(id!);
        if (!group) throw notFound(id!);
        return this.groupCollection(request, this.directory.transitiveMemberOf(group.id));
      }
    }
    if (collection === 'users' && get && segments.length === 1) return this.listUsers(request);
    if (collection === 'users' && get && id) {
      const user = this.directory.findUser(id);
      if (segments.length === 2) {
        allowQuery(request, ['$select']);
        const select = parseSelect(request, 'user');
        if (!user) throw notFound(id);
        return {
          status: 200,
          body: { '@odata.context': `${this.baseUrl}/v1.0/$metadata#users/$entity`, id: user.id, ...serializeUser(user, select) },
        };
      }
      if (segments.length === 4 && cast === 'microsoft.graph.group' && (relation === 'memberOf' || relation === 'transitiveMemberOf')) {
        if (!user) throw notFound(id);
        const groups = relation === 'memberOf' ? this.directory.memberOf(user.id) : this.directory.transitiveMemberOf(user.id);
        return this.groupCollection(request, groups);
      }
    }
    if (collection === 'directoryObjects' && id === 'getByIds' && segments.length === 2 && request.method === 'POST') {
      return this.getByIds(request, body);
    }
    return graphError(404, 'Request_ResourceNotFound', `Resource not found for the segment '${segments.join('/')}'.`);
  }

  private listGroups(request: LoggedRequest): FakeResponse {
    allowQuery(request, ['$select', '$top', '$skiptoken']);
    const select = parseSelect(request, 'group');
    const paging = parsePaging(request);
    const items = this.directory.listGroups().map((g) => ({ id: g.id, ...serializeGroup(g, select) }));
    return page(this.baseUrl, request, items, paging);
  }

  /** `GET /users`: every user, `$top` default 100 and at most 999, in a stable order. */
  private listUsers(request: LoggedRequest): FakeResponse {
    allowQuery(request, ['$select', '$top', '$skiptoken']);
    const select = parseSelect(request, 'user');
    const paging = parsePaging(request);
    const items = this.directory.listUsers().map((u) => ({ id: u.id, ...serializeUser(u, select) }));
    return page(this.baseUrl, request, items, paging, { '@odata.context': `${this.baseUrl}/v1.0/$metadata#users` });
  }

  /** `GET /groups/{id}/members` (direct members) or `/transitiveMembers` (nesting flattened). */
  private memberList(request: LoggedRequest, groupId: string, which: 'direct' | 'transitive'): FakeResponse {
    allowQuery(request, ['$select', '$top', '$skiptoken']);
    const select = parseSelect(request, 'directoryObject');
    const paging = parsePaging(request);
    if (!this.directory.findGroup(groupId)) throw notFound(groupId);
    const objects = which === 'direct' ? this.directory.directMembers(groupId) : this.directory.transitiveMembers(groupId);
    const items = objects.map((o) => serializeObject(o, select));
    return page(this.baseUrl, request, items, paging);
  }

  /** An OData cast to `microsoft.graph.group` over a membership relation (advanced query). */
  private groupCollection(request: LoggedRequest, groups: ReturnType<Directory['listGroups']>): FakeResponse {
    allowQuery(request, ['$select', '$top', '$skiptoken', '$count']);
    requireAdvancedQuery(request);
    const select = parseSelect(request, 'group');
    const paging = parsePaging(request);
    const items = groups.map((g) => serializeObject({ kind: 'group', ...g }, select));
    return page(this.baseUrl, request, items, paging, { '@odata.count': items.length });
  }

  private getByIds(request: LoggedRequest, body: string): FakeResponse {
    allowQuery(request, []);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new GraphFault(400, 'BadRequest', 'Unable to read JSON request payload.');
    }
    const ids = typeof parsed === 'object' && parsed !== null ? Object.getOwnPropertyDescriptor(parsed, 'ids')?.value : undefined;
    const types = typeof parsed === 'object' && parsed !== null ? Object.getOwnPropertyDescriptor(parsed, 'types')?.value : undefined;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || !ids.every((v) => typeof v === 'string')) {
      throw new GraphFault(400, 'Request_BadRequest', "'ids' must hold 1 to 1000 strings.");
    }
    const wanted = Array.isArray(types) ? types.map(String) : ['user', 'group'];
    const value = ids.flatMap((oid: string) => {
      const object = this.directory.findObject(oid);
      return object && wanted.includes(object.kind) ? [serializeObject(object, undefined)] : [];
    });
    return { status: 200, body: { '@odata.context': `${this.baseUrl}/v1.0/$metadata#directoryObjects`, value } };
  }
}

function notFound(id: string): GraphFault {
  return new GraphFault(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

/** The identity platform's error body (AADSTS codes). */
function aadError(status: number, error: string, code: number, description: string): FakeResponse {
  const traceId = randomUUID();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
      trace_id: traceId,
      correlation_id: randomUUID(),
    },
  };
}
