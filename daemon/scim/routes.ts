import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ScimResourceType } from '../../store/scim-types.js';
import { errorAnswer } from '../http/error-answers.js';
import type { JitsyncServer } from '../http/app.js';
import { MAX_RESULTS, resourceTypes, schemas, SCIM_BODY_LIMIT, serviceProviderConfig } from './discovery.js';
import { badRequest, ERROR_SCHEMA, notFound, ScimError } from './errors.js';
import { isObject, lookup, parseFilter } from './filter.js';
import { readPatchRequest } from './patch.js';
import type { RateLimit } from './rate-limit.js';
import { etagOf, LIST_RESPONSE, project, render } from './resources.js';
import type { ScimService } from './scim-service.js';

/**
 * The SCIM 2.0 service provider (RFC 7644) of each `scim` connector, at `/scim/v2/{connectorId}`:
 * its own bearer token, rate limit and body limit, `application/scim+json` answers and RFC 7644
 * errors (not the `/v1` error shape). Kept out of `/openapi.json`: SCIM describes itself
 * (`/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`).
 */

export const SCIM_MEDIA_TYPE = 'application/scim+json; charset=utf-8';
export const scimPrefix = (connectorId: string): string => `/scim/v2/${connectorId}`;

/** Whether a route belongs to SCIM (RFC 7644 answers) rather than to the API. */
export const isScimPath = (url: string): boolean => url.startsWith('/scim/');

/**
 * A method an endpoint does not take: 405 with `Allow` in RFC 7644 §3.12's shape. The server
 * declares these (`refuseOtherMethods`), before the token check, as it does for the API.
 */
export const scimMethodRefusal = (reply: FastifyReply, method: string, _url: string, allow: string): FastifyReply =>
  send(reply, 405, { schemas: [ERROR_SCHEMA], status: '405', detail: `${method} is not allowed here; allowed: ${allow}` });

export interface ScimEndpoint {
  service: ScimService;
  token: string;
  rateLimit: RateLimit;
}

export async function registerScim(app: JitsyncServer, endpoints: readonly ScimEndpoint[]): Promise<void> {
  for (const endpoint of endpoints) {
    await app.register(async (scope) => scimRoutes(scope as unknown as FastifyInstance, endpoint), {
      prefix: scimPrefix(endpoint.service.settings.id),
    });
  }
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.status(status).type(SCIM_MEDIA_TYPE).send(JSON.stringify(body));
}

function scimRoutes(app: FastifyInstance, endpoint: ScimEndpoint): void {
  const { service, rateLimit } = endpoint;
  const prefix = scimPrefix(service.settings.id);
  const expected = Buffer.from(endpoint.token);
  const baseUrl = (request: FastifyRequest) => `${request.protocol}://${request.host}${prefix}`;

  // The API's JSON parser is replaced here: SCIM bodies are larger, and their errors are SCIM's.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'buffer', bodyLimit: SCIM_BODY_LIMIT }, (_request, raw, done) => {
    const buffer = raw as Buffer;
    if (buffer.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buffer)));
    } catch {
      done(badRequest('invalidSyntax', 'the body is not JSON in UTF-8'), undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    // The scheme is case-insensitive (RFC 9110 §11.1); the token is compared in constant time.
    const given = Buffer.from(/^bearer +(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      reply.header('www-authenticate', 'Bearer');
      throw new ScimError(401, "a valid token is required (Authorization: Bearer <the scim connector's token>)");
    }
    const wait = rateLimit.take(service.settings.id);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new ScimError(429, `too many requests: retry in ${wait} s`);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ScimError) return send(reply, error.status, error.body());
    const answer = errorAnswer(error);
    if (answer.headers) reply.headers(answer.headers);
    if (answer.status >= 500) request.log.error({ err: error }, 'SCIM request failed');
    const detail = answer.status === 413 ? `the request body is over ${SCIM_BODY_LIMIT} bytes` : answer.error.message;
    const scimType = answer.status === 400 ? { scimType: 'invalidSyntax' } : {};
    return send(reply, answer.status, { schemas: [ERROR_SCHEMA], status: String(answer.status), ...scimType, detail });
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, { schemas: [ERROR_SCHEMA], status: '404', detail: `no SCIM endpoint ${request.method} ${request.url.split('?')[0]}` }),
  );

  const options = { bodyLimit: SCIM_BODY_LIMIT, schema: { hide: true } };

  /** A list or search answer over one or both resource types (RFC 7644 §3.4.2, §3.4.3). */
  async function listAnswer(request: FastifyRequest, reply: FastifyReply, types: ScimResourceType[], params: ListParams) {
    const filter = params.filter === null ? null : parseFilter(params.filter);
    const startIndex = Math.max(1, params.startIndex ?? 1);
    const count = Math.min(MAX_RESULTS, Math.max(0, params.count ?? MAX_RESULTS));
    const found: Record<string, unknown>[] = [];
    let total = 0;
    for (const type of types) {
      const result = await service.list(type, { filter, startIndex: 1, count: Number.MAX_SAFE_INTEGER }, baseUrl(request));
      total += result.total;
      found.push(...result.resources);
    }
    const page = found.slice(startIndex - 1, startIndex - 1 + count);
    return send(reply, 200, {
      schemas: [LIST_RESPONSE],
      totalResults: total,
      startIndex,
      itemsPerPage: page.length,
      // Okta expects `Resources` even when empty.
      Resources: page.map((r) => project(r, params.attributes, params.excluded)),
    });
  }
  app.post('/.search', options, async (request, reply) => listAnswer(request, reply, ['User', 'Group'], searchParams(request.body)));

  app.get('/ServiceProviderConfig', options, async (request, reply) => send(reply, 200, serviceProviderConfig(baseUrl(request))));
  app.get('/ResourceTypes', options, async (request, reply) => send(reply, 200, listResponse(resourceTypes(baseUrl(request)))));
  app.get<{ Params: { name: string } }>('/ResourceTypes/:name', options, async (request, reply) => {
    const found = resourceTypes(baseUrl(request)).find((r) => r.id === request.params.name);
    if (!found) throw notFound('ResourceType', request.params.name);
    return send(reply, 200, found);
  });
  app.get('/Schemas', options, async (request, reply) => send(reply, 200, listResponse(schemas(baseUrl(request)))));
  app.get<{ Params: { id: string } }>('/Schemas/:id', options, async (request, reply) => {
    const found = schemas(baseUrl(request)).find((s) => s.id === request.params.id);
    if (!found) throw notFound('Schema', request.params.id);
    return send(reply, 200, found);
  });

  for (const [path, type] of [['/Users', 'User'], ['/Groups', 'Group']] as Array<[string, ScimResourceType]>) {
    type Query = { Querystring: Record<string, string | string[] | undefined> };
    type WithId = Query & { Params: { id: string } };
    const answer = (request: FastifyRequest<Query>, reply: FastifyReply, status: number, resource: Parameters<typeof render>[0]) => {
      const { attributes, excluded } = projection(request.query);
      reply.header('etag', etagOf(resource));
      if (status === 201) reply.header('location', `${baseUrl(request)}${path}/${resource.id}`);
      return send(reply, status, project(render(resource, baseUrl(request)), attributes, excluded));
    };

    app.post<Query>(path, options, async (request, reply) => answer(request, reply, 201, await service.create(type, request.body, baseUrl(request))));
    app.get<Query>(path, options, async (request, reply) => {
      const query = request.query;
      return listAnswer(request, reply, [type], {
        filter: single(query, 'filter'),
        startIndex: integer(query, 'startIndex'),
        count: integer(query, 'count'),
        ...projection(query),
      });
    });
    app.post(`${path}/.search`, options, async (request, reply) => listAnswer(request, reply, [type], searchParams(request.body)));
    app.get<WithId>(`${path}/:id`, options, async (request, reply) => answer(request, reply, 200, await service.get(type, request.params.id)));
    app.put<WithId>(`${path}/:id`, options, async (request, reply) =>
      answer(request, reply, 200, await service.replace(type, request.params.id, request.body, ifMatch(request))),
    );
    app.patch<WithId>(`${path}/:id`, options, async (request, reply) =>
      answer(request, reply, 200, await service.patch(type, request.params.id, readPatchRequest(request.body), ifMatch(request))),
    );
    app.delete<WithId>(`${path}/:id`, options, async (request, reply) => {
      await service.remove(type, request.params.id, ifMatch(request));
      return reply.status(204).send();
    });
  }
}

interface ListParams {
  filter: string | null;
  startIndex: number | null;
  count: number | null;
  attributes: string[] | null;
  excluded: string[] | null;
}

const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

/** A `.search` body (RFC 7644 §3.4.3). */
function searchParams(body: unknown): ListParams {
  if (!isObject(body)) throw badRequest('invalidSyntax', `the body must be a SearchRequest (${SEARCH_REQUEST})`);
  const text = (name: string): string | null => {
    const value = lookup(body, name)?.value;
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw badRequest('invalidValue', `${name} must be a string`);
    return value;
  };
  const number = (name: string): number | null => {
    const value = lookup(body, name)?.value;
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw badRequest('invalidValue', `${name} must be an integer`);
    return value;
  };
  const list = (name: string): string[] | null => {
    const value = lookup(body, name)?.value;
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badRequest('invalidValue', `${name} must be an array of strings`);
    return value;
  };
  return { filter: text('filter'), startIndex: number('startIndex'), count: number('count'), attributes: list('attributes'), excluded: list('excludedAttributes') };
}

function listResponse(resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
}

function ifMatch(request: FastifyRequest): string | null {
  const value = request.headers['if-match'];
  return typeof value === 'string' ? value : null;
}

function single(query: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = query[name];
  if (value === undefined) return null;
  if (Array.isArray(value)) throw badRequest('invalidValue', `${name} is given more than once`);
  return value;
}

function integer(query: Record<string, string | string[] | undefined>, name: string): number | null {
  const text = single(query, name);
  if (text === null || text === '') return null;
  if (!/^-?\d{1,9}$/.test(text)) throw badRequest('invalidValue', `${name} must be an integer`);
  return Number(text);
}

function projection(query: Record<string, string | string[] | undefined>): { attributes: string[] | null; excluded: string[] | null } {
  const list = (name: string) => {
    const text = single(query ?? {}, name);
    return text === null ? null : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  };
  return { attributes: list('attributes'), excluded: list('excludedAttributes') };
}
