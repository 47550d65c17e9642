import { z } from 'zod';
import { errorsFor, servedDocument } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/**
 * The probes, the metrics and the OpenAPI document: no token. While stopping, they answer
 * `503 shutting_down` like the rest.
 */
export const opsRoutes: Routes<'health' | 'store' | 'connectorStatus' | 'metrics' | 'admin'> = (app, deps) => {
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

  // An IdP that fails leaves the daemon ready (logins answer from the cache or deny): its
  // status is shown, not judged.
  const readiness = { store: z.string(), connectors: z.array(s.connectorStatus) };
  const readyzSchema = {
    operationId: 'getReadiness',
    summary: 'Readiness: the store answers and takes writes; the store’s details follow `store`, then each connector’s last success and error',
    response: {
      // `status` is typed as a string for the handler (its body is built by spreading the store's
      // details); the document still lists its one value.
      200: z.looseObject({ ...readiness, status: z.string().meta({ enum: ['ready'] }) }).describe('Ready'),
      500: stopping[500]!,
      503: z
        .union([
          z.looseObject({ ...readiness, status: z.string().meta({ enum: ['unavailable'] }), reason: z.string(), message: z.string() }),
          s.errorBody,
        ])
        .describe('Not ready: the store fails (`reason` is its error code, `message` says what failed), or the daemon is stopping (`shutting_down`)'),
    },
  };
  app.get('/readyz', { schema: readyzSchema }, async (_request, reply) => {
    const health = await deps.health.check();
    // The server and its write path: an operator sees which path production runs.
    const details = { store: deps.store.describe(), ...deps.store.details(), connectors: deps.connectorStatus.list() };
    if (health.ready) return { status: 'ready', ...details };
    return reply.status(503).send({ status: 'unavailable', ...details, reason: health.reason, message: health.message });
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
};
