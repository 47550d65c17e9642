import { z } from 'zod';
import { AppError, notFound } from '../../errors.js';
import { errors, security } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/** `/v1/prewarm`: start pre-warm runs and follow them (docs/prewarm.md). */
export const prewarmRoutes: Routes<'prewarm' | 'connectorIds'> = (app, deps) => {
  const [firstConnector = 'demo'] = deps.connectorIds;
  app.post(
    '/v1/prewarm',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'startPrewarm',
        summary: 'Start pre-warm runs: one connector, or every connector (the body is optional)',
        security: security.admin,
        body: z
          .object({
            connector: s.connectorId(deps.connectorIds).optional(),
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
      config: { auth: 'admin' },
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
};
