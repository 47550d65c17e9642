import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../errors.js';
import type { RequestMetrics } from '../metrics.js';
import type { JitsyncServer } from './app.js';
import { createTokenCheck } from './auth.js';
import { BODY_LIMIT, clientErrorHandler, errorAnswer } from './error-answers.js';
import { acceptJsonBodies } from './json-body.js';
import { registerScimProxy } from '../scim/proxy.js';
import { isScimPath, registerScim, scimMethodRefusal, type ScimEndpoint } from '../scim/routes.js';
import { collectRoutes, refuseOtherMethods } from './methods.js';
import { registerOpenApi } from './openapi.js';
import { checkPathParams, ROUTER_PARAM_LIMIT } from './path-params.js';
import { connectorRoutes } from './routes/connectors.js';
import { driftRoutes } from './routes/drift.js';
import { invitationRoutes } from './routes/invitations.js';
import { loginRoutes } from './routes/logins.js';
import { opsRoutes } from './routes/ops.js';
import { organizationRoutes } from './routes/organizations.js';
import { prewarmRoutes } from './routes/prewarm.js';
import type { ServerDeps } from './routes/types.js';
import { userRoutes } from './routes/users.js';

export { BODY_LIMIT } from './error-answers.js';
export type { ServerDeps } from './routes/types.js';

/**
 * What one listener serves: the API (with SCIM passed to the SCIM thread when `scimProxy` is
 * set), or SCIM alone (the SCIM thread's listener, with TLS when configured).
 */
export type ServerSurface = { serves: 'api' } | { serves: 'scim'; tls: { cert: Buffer; key: Buffer } | null };

/** What a SCIM-only listener is built from: the SCIM thread has none of the API's services. */
export interface ScimListenerDeps extends Pick<ServerDeps, 'logger' | 'drain'> {
  /** The SCIM service provider of each `scim` connector. */
  scim: readonly ScimEndpoint[];
  metrics: RequestMetrics;
  health: Pick<ServerDeps['health'], 'noteError'>;
}

/**
 * The HTTP server: Fastify with the API's hooks (drain, token check, path limits, request log and
 * metrics) and error answers; each feature's routes are in `routes/`, SCIM's in `../scim/`.
 */
export async function buildServer(deps: ServerDeps, surface?: { serves: 'api' }): Promise<JitsyncServer>;
export async function buildServer(deps: ScimListenerDeps, surface: Extract<ServerSurface, { serves: 'scim' }>): Promise<JitsyncServer>;
export async function buildServer(deps: ServerDeps | ScimListenerDeps, surface: ServerSurface = { serves: 'api' }): Promise<JitsyncServer> {
  /** One log line and one metric sample per answer, framework errors included. */
  const observe = (method: string, route: string, status: number, ms: number, log: FastifyBaseLogger) => {
    deps.metrics.recordRequest({ method, route, status, seconds: ms / 1000 });
    log.info({ method, route, status, ms: Math.round(ms * 10) / 10 }, 'request');
  };

  const app = Fastify({
    ...(surface.serves === 'scim' && surface.tls ? { https: surface.tls } : {}),
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
    // An https server has the http server's API: the cast only widens Fastify's typing.
  }).withTypeProvider<ZodTypeProvider>() as unknown as JitsyncServer;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  acceptJsonBodies(app);
  if (surface.serves !== 'scim') await registerOpenApi(app);

  deps.drain.register(app);
  const api = 'login' in deps ? deps : null;
  if (api) {
    const checkToken = createTokenCheck(api.tokens);
    app.addHook('onRequest', async (request, reply) => {
      const kind = request.routeOptions.config.auth;
      if (kind && !checkToken(kind, request.headers.authorization)) {
        reply.header('www-authenticate', 'Bearer');
        throw new AppError(401, 'unauthorized', `a valid ${kind} token is required (Authorization: Bearer <token>)`);
      }
    });
  }
  // After the token check: an over-long parameter says nothing to a caller without a token.
  app.addHook('onRequest', async (request) => checkPathParams(request));

  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.config.proxied) return;
    observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime, request.log);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    deps.health.noteError(error);
    const answer = errorAnswer(error);
    if (answer.headers) reply.headers(answer.headers);
    if (answer.status >= 500 && answer.error.code !== 'shutting_down') request.log.error({ err: error }, 'request failed');
    return reply.status(answer.status).send({ error: answer.error });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  const routes = collectRoutes(app);
  if (surface.serves === 'api') {
    if (!api) throw new Error('the API is built from the ServerDeps of the login thread');
    loginRoutes(app, api);
    userRoutes(app, api);
    organizationRoutes(app, api);
    invitationRoutes(app, api);
    prewarmRoutes(app, api);
    driftRoutes(app, api);
    connectorRoutes(app, api);
    opsRoutes(app, api);
    if (api.scimProxy) await registerScimProxy(app, api.scimProxy);
  }
  // Awaited: the SCIM routes must be declared before the methods they do not take are.
  if (surface.serves === 'scim' && 'scim' in deps) await registerScim(app, deps.scim);
  refuseOtherMethods(app, routes, (url) => (isScimPath(url) ? scimMethodRefusal : undefined));
  return app;
}
