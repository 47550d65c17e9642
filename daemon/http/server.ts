import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Store } from '../../store/types.js';
import type { AdminService } from '../admin/admin-service.js';
import { driftRoute } from '../drift/http-route.js';
import type { DriftService } from '../drift/types.js';
import { AppError, notFound } from '../errors.js';
import { loginInputSchema } from '../login/input.js';
import type { LoginService } from '../login/login-service.js';
import type { Metrics } from '../metrics.js';
import type { PrewarmService } from '../prewarm/prewarm-service.js';
import type { StoreHealth } from '../store-health.js';
import type { JitsyncServer } from './app.js';
import { createTokenCheck, type TokenKind } from './auth.js';
import { Drain } from './drain.js';
import { BODY_LIMIT, clientErrorHandler, errorAnswer } from './error-answers.js';
import { acceptJsonBodies } from './json-body.js';
import { collectRoutes, refuseOtherMethods } from './methods.js';
import { errors, errorsFor, registerOpenApi, security, servedDocument } from './openapi.js';
import { checkPathParams, ROUTER_PARAM_LIMIT } from './path-params.js';
import * as s from './schemas.js';

export { BODY_LIMIT } from './error-answers.js';

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
  /** The graceful stop: refuses new requests while the daemon stops. */
  drain: Drain;
}

export async function buildServer(deps: ServerDeps): Promise<JitsyncServer> {
  /** One log line and one metric sample per answer, framework errors included. */
  const observe = (method: string, route: string, status: number, ms: number, log: FastifyBaseLogger) => {
    deps.metrics.httpRequests.inc({ method, route, status });
    deps.metrics.httpDuration.observe({ method, route }, ms / 1000);
    log.info({ method, route, status, ms: Math.round(ms * 10) / 10 }, 'request');
  };

  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: ROUTER_PARAM_LIMIT },
    // Logged once per request in onResponse, without the query string (it can hold an email).
    logController: new LogController({ disableRequestLogging: true }),
    // The drain answers requests that arrive while stopping, in the API's error shape.
    return503OnClosing: false,
    // Errors the router raises before any route (a malformed percent-encoding in the path).
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const answer = errorAnswer(error);
      reply.raw.once('finish', () => observe(request.method, 'unmatched', answer.status, reply.elapsedTime, request.log));
      return reply.status(answer.status).send({ error: answer.error });
    },
    clientErrorHandler: clientErrorHandler((status) => observe('unknown', 'unparsed', status, 0, deps.logger)),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  acceptJsonBodies(app);
  await registerOpenApi(app);

  deps.drain.register(app);
  const checkToken = createTokenCheck(deps.tokens);
  app.addHook('onRequest', async (request, reply) => {
    const kind = request.routeOptions.config.auth;
    if (kind && !checkToken(kind, request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError(401, 'unauthorized', `a valid ${kind} token is required (Authorization: Bearer <token>)`);
    }
  });
  // After the token check: an over-long parameter says nothing to a caller without a token.
  app.addHook('onRequest', async (request) => checkPathParams(request));

  app.addHook('onResponse', async (request, reply) => {
    observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime, request.log);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    deps.health.noteError(error);
    const answer = errorAnswer(error);
    if (answer.error.code === 'store_busy') reply.header('retry-after', '1');
    if (answer.status >= 500 && answer.error.code !== 'shutting_down') request.log.error({ err: error }, 'request failed');
    return reply.status(answer.status).send({ error: answer.error });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  const routes = collectRoutes(app);
  const admin = { auth: 'admin' as const };
  const [firstConnector = 'demo'] = deps.connectorIds;
  /** A configured connector: the document lists them, since any other answers `400 unknown_connector`. */
  const connectorId = () =>
    z
      .string()
      .min(1)
      .max(64)
      .meta(deps.connectorIds.length > 0 ? { enum: [...deps.connectorIds] } : {});
  const userId = z.string().min(1).max(64);

  app.post(
    '/v1/logins',
    {
      config: { auth: 'hook' },
      schema: {
        operationId: 'login',
        summary: 'Login hook: create or find the account and reconcile its memberships',
        security: security.hook,
        body: loginInputSchema.extend({ connector: connectorId() }).meta({
          examples: [{ connector: firstConnector, subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace', groups: ['developers'] }],
        }),
        response: { 200: s.loginAllowed.describe('Login allowed: the account, its memberships and what changed'), 403: s.loginDenied.describe('Login refused: `reason` says why'), ...errors({ body: true, conflict: true }) },
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
        operationId: 'findUsers',
        summary: 'Find a user by email',
        security: security.admin,
        querystring: z.object({ email: s.emailAddress.meta({ examples: ['ada@example.com'] }) }),
        response: { 200: z.object({ users: z.array(s.userView) }).describe('The user with that email, or none'), ...errors({}) },
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
        operationId: 'getUser',
        summary: 'A user with identities, memberships and sync state',
        security: security.admin,
        params: z.object({ id: userId }),
        response: { 200: s.userView.describe('The user'), ...errors({ params: true }) },
      },
    },
    async (request) => deps.admin.getUser(request.params.id),
  );

  app.patch(
    '/v1/users/:id',
    {
      config: admin,
      schema: {
        operationId: 'setUserDisabled',
        summary: 'Disable or enable a user (a disabled user is refused at login)',
        security: security.admin,
        params: z.object({ id: userId }),
        body: z.object({ disabled: z.boolean() }).strict().meta({ examples: [{ disabled: true }] }),
        response: { 200: s.userView.describe('The user, changed'), ...errors({ params: true, body: true, conflict: true }) },
      },
    },
    async (request) => deps.admin.setDisabled(request.params.id, request.body.disabled),
  );

  app.get(
    '/v1/organizations',
    {
      config: admin,
      schema: {
        operationId: 'listOrganizations',
        summary: 'Every organization with its groups',
        security: security.admin,
        response: { 200: z.object({ organizations: z.array(s.organization) }).describe('Every organization'), ...errors({}) },
      },
    },
    async () => ({ organizations: await deps.admin.listOrganizations() }),
  );

  app.post(
    '/v1/organizations',
    {
      config: admin,
      schema: {
        operationId: 'createOrganization',
        summary: 'Create an organization (default group `Members` unless named)',
        security: security.admin,
        body: z
          .object({ key: s.organizationKey, defaultGroup: s.groupName.optional() })
          .strict()
          .meta({ examples: [{ key: 'Acme', defaultGroup: 'Members' }] }),
        response: { 201: s.organization.describe('The organization, created'), ...errors({ body: true, conflict: true }) },
      },
    },
    async (request, reply) => reply.status(201).send(await deps.admin.createOrganization(request.body)),
  );

  app.post(
    '/v1/organizations/:org/groups',
    {
      config: admin,
      schema: {
        operationId: 'createGroup',
        summary: 'Create a group in an organization',
        security: security.admin,
        params: z.object({ org: s.organizationKey }),
        body: z.object({ name: s.groupName }).strict().meta({ examples: [{ name: 'developers' }] }),
        response: { 201: s.organization.describe('The organization, with the new group'), ...errors({ params: true, body: true, conflict: true }) },
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
        operationId: 'addMembership',
        summary: 'Add a manual membership (group names with "/" are URL-encoded)',
        description: "`409 default_group_derived` for the organization's default group: membership in it follows the others.",
        security: security.admin,
        params: s.membershipParams,
        response: { 200: s.userView.describe('The user, with the membership changed'), ...errors({ params: true, body: true, conflict: true }) },
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
      schema: {
        operationId: 'removeMembership',
        summary: 'Remove a membership',
        description: "`409 default_group_derived` for the organization's default group: membership in it follows the others.",
        security: security.admin,
        params: s.membershipParams,
        response: { 200: s.userView.describe('The user, with the membership changed'), ...errors({ params: true, body: true, conflict: true }) },
      },
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
        operationId: 'createInvitation',
        summary: 'Invite an email to an organization (accepted at that user’s next login)',
        security: security.admin,
        body: z
          .object({ organization: s.organizationKey, email: s.emailAddress, group: s.groupName.optional() })
          .strict()
          .meta({ examples: [{ organization: 'OrgA', email: 'new.hire@example.com', group: 'developers' }] }),
        response: { 201: s.invitation.describe('The invitation, pending'), ...errors({ body: true, notFound: true, conflict: true }) },
      },
    },
    async (request, reply) => reply.status(201).send(await deps.admin.createInvitation(request.body)),
  );

  app.post(
    '/v1/prewarm',
    {
      config: admin,
      schema: {
        operationId: 'startPrewarm',
        summary: 'Start pre-warm runs: one connector, or every connector (the body is optional)',
        security: security.admin,
        body: z
          .object({
            connector: connectorId().optional(),
            full: z.boolean().optional(),
            confirmRemovals: z.boolean().optional(),
          })
          .strict()
          // No body (or `null`) is no options: every field is optional.
          .nullish()
          .meta({ examples: [{ connector: firstConnector, full: true }] }),
        response: {
          202: z
            .object({
              runs: z.array(z.object({ id: z.string(), connector: z.string() })),
              skipped: z.array(z.object({ connector: z.string(), reason: z.string() })),
            })
            .describe('Runs started; `skipped` names connectors whose run was already in progress'),
          ...errors({ body: true, conflict: true }),
        },
      },
    },
    async (request, reply) => {
      const { connector, ...options } = request.body ?? {};
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
        operationId: 'getPrewarmRun',
        summary: 'A pre-warm run: state, progress and figures',
        security: security.admin,
        params: z.object({ runId: z.string().min(1).max(64) }),
        response: { 200: s.prewarmRun.describe('The run'), ...errors({ params: true }) },
      },
    },
    async (request) => {
      const run = await deps.prewarm.get(request.params.runId);
      if (!run) throw notFound('pre-warm run', request.params.runId);
      return run;
    },
  );

  driftRoute(app, deps.drift, { errors: errors({}), security: security.admin, connectorIds: deps.connectorIds });

  // Probes and metrics need no token; while stopping, they answer `503 shutting_down` like the rest.
  const stopping = errorsFor([500, 503]);
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
        response: { 200: z.object({ status: z.literal('ok') }).describe('Alive'), ...stopping },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const readiness = { store: z.string() };
  const readyzSchema = {
    operationId: 'getReadiness',
    summary: 'Readiness: the store answers and takes writes; the store’s details follow `store`',
    response: {
      // `status` is typed as a string for the handler (its body is built by spreading the store's
      // details); the document still lists its one value.
      200: z.looseObject({ ...readiness, status: z.string().meta({ enum: ['ready'] }) }).describe('Ready'),
      500: stopping[500]!,
      503: z
        .union([z.looseObject({ ...readiness, status: z.string().meta({ enum: ['unavailable'] }), reason: z.string() }), s.errorBody])
        .describe('Not ready: the store fails (`reason`), or the daemon is stopping (`shutting_down`)'),
    },
  };
  app.get('/readyz', { schema: readyzSchema }, async (_request, reply) => {
    const health = await deps.health.check();
    // The server and its write path: an operator sees which path production runs.
    const store = { store: deps.store.describe(), ...deps.store.details() };
    if (health.ready) return { status: 'ready', ...store };
    return reply.status(503).send({ status: 'unavailable', ...store, reason: health.reason });
  });

  const metricsSchema = {
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    response: { 200: { description: 'The Prometheus text format', content: { 'text/plain': { schema: z.string() } } }, ...stopping },
  };
  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => {
    const organizations = (await deps.admin.listOrganizations()).map((org) => org.key);
    return servedDocument(app.swagger(), { organizations });
  });

  refuseOtherMethods(app, routes);
  return app;
}
