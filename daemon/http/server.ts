import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Store } from '../../store/types.js';
import type { AdminService } from '../admin/admin-service.js';
import { driftRoute } from '../drift/http-route.js';
import type { DriftService } from '../drift/types.js';
import { AppError, notFound, storeErrorAnswer } from '../errors.js';
import { loginInputSchema } from '../login/input.js';
import type { LoginService } from '../login/login-service.js';
import type { Metrics } from '../metrics.js';
import type { PrewarmService } from '../prewarm/prewarm-service.js';
import type { StoreHealth } from '../store-health.js';
import { createTokenCheck, type TokenKind } from './auth.js';
import type { JitsyncServer } from './app.js';
import * as s from './schemas.js';

export interface ServerDeps {
  login: LoginService;
  admin: AdminService;
  prewarm: PrewarmService;
  drift: DriftService;
  /** Ids of the configured connectors, for "pre-warm every connector". */
  connectorIds: readonly string[];
  store: Store;
  health: StoreHealth;
  metrics: Metrics;
  logger: Logger;
  tokens: Record<TokenKind, string>;
}

/** Largest accepted request body (SPEC §5): larger ones get `413`. */
export const BODY_LIMIT = 64 * 1024;


export async function buildServer(deps: ServerDeps): Promise<JitsyncServer> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    // Logged once per request in onResponse, without the query string (it can hold an email).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      info: { title: 'jitsync', version: '1', description: 'JIT provisioning and directory sync' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
  });

  const checkToken = createTokenCheck(deps.tokens);
  app.addHook('onRequest', async (request, reply) => {
    const kind = request.routeOptions.config.auth;
    if (kind && !checkToken(kind, request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError(401, 'unauthorized', `a valid ${kind} token is required (Authorization: Bearer <token>)`);
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    deps.metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    deps.metrics.httpDuration.observe({ method: request.method, route }, seconds);
    request.log.info(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    deps.health.noteError(error);
    const body = errorResponse(error);
    if (body.error.code === 'store_busy') reply.header('retry-after', '1');
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(body.status).send({ error: body.error });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  const errors = { 400: s.errorBody, 401: s.errorBody, 404: s.errorBody, 409: s.errorBody, 413: s.errorBody, 503: s.errorBody };
  const admin = { auth: 'admin' as const };
  const security = [{ bearer: [] }];

  app.post(
    '/v1/logins',
    {
      config: { auth: 'hook' },
      schema: {
        summary: 'Login hook: create or find the account and reconcile its memberships',
        security,
        body: loginInputSchema,
        response: { 200: s.loginAllowed, 403: s.loginDenied, ...errors },
      },
    },
    async (request, reply) => {
      const result = await deps.login.login(request.body);
      deps.metrics.logins.inc({
        connector: request.body.connector,
        decision: result.decision === 'allow' ? 'allow' : result.reason,
        groups_source: result.decision === 'allow' ? result.groups.source : 'none',
      });
      if (result.decision === 'deny') return reply.status(403).send(result);
      return result;
    },
  );

  app.get(
    '/v1/users',
    {
      config: admin,
      schema: {
        summary: 'Find a user by email',
        security,
        querystring: z.object({ email: z.email() }),
        response: { 200: z.object({ users: z.array(s.userView) }), ...errors },
      },
    },
    async (request) => {
      const user = await deps.admin.findUserByEmail(request.query.email);
      return { users: user ? [user] : [] };
    },
  );

  app.get(
    '/v1/users/:id',
    {
      config: admin,
      schema: {
        summary: 'A user with identities, memberships and sync state',
        security,
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: s.userView, ...errors },
      },
    },
    async (request) => deps.admin.getUser(request.params.id),
  );

  app.patch(
    '/v1/users/:id',
    {
      config: admin,
      schema: {
        summary: 'Disable or enable a user (a disabled user is refused at login)',
        security,
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z.object({ disabled: z.boolean() }).strict(),
        response: { 200: s.userView, ...errors },
      },
    },
    async (request) => deps.admin.setDisabled(request.params.id, request.body.disabled),
  );

  app.get(
    '/v1/organizations',
    {
      config: admin,
      schema: { security, response: { 200: z.object({ organizations: z.array(s.organization) }), ...errors } },
    },
    async () => ({ organizations: await deps.admin.listOrganizations() }),
  );

  app.post(
    '/v1/organizations',
    {
      config: admin,
      schema: {
        security,
        body: z.object({ key: s.organizationKey, defaultGroup: s.groupName.optional() }).strict(),
        response: { 201: s.organization, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await deps.admin.createOrganization(request.body)),
  );

  app.post(
    '/v1/organizations/:org/groups',
    {
      config: admin,
      schema: {
        security,
        params: z.object({ org: s.organizationKey }),
        body: z.object({ name: s.groupName }).strict(),
        response: { 201: s.organization, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await deps.admin.addGroup(request.params.org, request.body.name)),
  );

  app.put(
    '/v1/organizations/:org/groups/:group/members/:userId',
    {
      config: admin,
      schema: {
        summary: 'Add a manual membership (group names with "/" are URL-encoded)',
        security,
        params: s.membershipParams,
        response: { 200: s.userView, ...errors },
      },
    },
    async (request) => {
      const { org, group, userId } = request.params;
      return deps.admin.addMembership(org, group, userId);
    },
  );

  app.delete(
    '/v1/organizations/:org/groups/:group/members/:userId',
    {
      config: admin,
      schema: { summary: 'Remove a membership', security, params: s.membershipParams, response: { 200: s.userView, ...errors } },
    },
    async (request) => {
      const { org, group, userId } = request.params;
      return deps.admin.removeMembership(org, group, userId);
    },
  );

  app.post(
    '/v1/invitations',
    {
      config: admin,
      schema: {
        security,
        body: z.object({ organization: s.organizationKey, email: z.email().max(254), group: s.groupName.optional() }).strict(),
        response: { 201: s.invitation, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await deps.admin.createInvitation(request.body)),
  );

  app.post(
    '/v1/prewarm',
    {
      config: admin,
      schema: {
        summary: 'Start pre-warm runs: one connector, or every connector',
        security,
        body: z
          .object({
            connector: z.string().min(1).max(64).optional(),
            full: z.boolean().optional(),
            confirmRemovals: z.boolean().optional(),
          })
          .strict()
          .default({}),
        response: {
          202: z.object({
            runs: z.array(z.object({ id: z.string(), connector: z.string() })),
            skipped: z.array(z.object({ connector: z.string(), reason: z.string() })),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { connector, ...options } = request.body;
      if (connector !== undefined) {
        const { run } = await deps.prewarm.start(connector, options);
        return reply.status(202).send({ runs: [{ id: run.id, connector }], skipped: [] });
      }
      const runs: Array<{ id: string; connector: string }> = [];
      const skipped: Array<{ connector: string; reason: string }> = [];
      for (const id of deps.connectorIds) {
        try {
          const { run } = await deps.prewarm.start(id, options);
          runs.push({ id: run.id, connector: id });
        } catch (error) {
          if (!(error instanceof AppError) || error.status !== 409) throw error;
          skipped.push({ connector: id, reason: error.message });
        }
      }
      return reply.status(202).send({ runs, skipped });
    },
  );

  app.get(
    '/v1/prewarm/:runId',
    {
      config: admin,
      schema: {
        summary: 'A pre-warm run: state, progress and figures',
        security,
        params: z.object({ runId: z.string().min(1).max(64) }),
        response: { 200: s.prewarmRun, ...errors },
      },
    },
    async (request) => {
      const run = await deps.prewarm.get(request.params.runId);
      if (!run) throw notFound('pre-warm run', request.params.runId);
      return run;
    },
  );

  driftRoute(app, deps.drift, { errors, security });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const health = await deps.health.check();
    if (health.ready) return { status: 'ready', store: deps.store.describe() };
    return reply.status(503).send({ status: 'unavailable', store: deps.store.describe(), reason: health.reason });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}

/** Maps any error to the API's error body (SPEC §5); unknown errors say nothing about internals. */
function errorResponse(thrown: FastifyError): {
  status: number;
  error: { code: string; message: string; details?: unknown };
} {
  const error = storeErrorAnswer(thrown) ?? thrown;
  if (error instanceof AppError) {
    return {
      status: error.status,
      error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) },
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((issue) => ({
      path: `${error.validationContext ?? 'body'}${issue.instancePath.replaceAll('/', '.')}`,
      message: issue.message,
    }));
    return {
      status: 400,
      error: { code: 'invalid_request', message: details.map((d) => `${d.path}: ${d.message}`).join('; '), details },
    };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, error: { code: 'payload_too_large', message: `request body over ${BODY_LIMIT} bytes` } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, error: { code: 'unsupported_media_type', message: 'send application/json' } };
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, error: { code: 'invalid_request', message: error.message } };
  }
  return { status: 500, error: { code: 'internal', message: 'internal error' } };
}
