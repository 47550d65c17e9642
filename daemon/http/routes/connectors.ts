import { z } from 'zod';
import { errors, security } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

const connectorView = s.connectorStatus.extend({
  cache: z
    .object({
      users: z.number().int().nonnegative(),
      memberships: z.number().int().nonnegative(),
      lastCompleteRunAt: z.string().nullable(),
    })
    .describe("The directory cache: users and memberships held, and when the last complete pre-warm run started"),
});

/** `GET /v1/connectors`: whether each IdP answers (docs/api.md). */
export const connectorRoutes: Routes<'connectorStatus' | 'prewarm'> = (app, deps) => {
  app.get(
    '/v1/connectors',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listConnectors',
        summary: "Each connector's last success and last error (live look-ups and pre-warm runs), and its cache",
        description:
          'A connector that fails is logged too, at most once a minute per connector and kind of error. ' +
          'The status is this process’s own: it starts empty when the daemon starts.',
        security: security.admin,
        response: {
          200: z
            .object({ connectors: z.array(connectorView) })
            .describe('Every configured connector')
            .meta({
              examples: [
                {
                  connectors: [
                    {
                      id: 'okta',
                      type: 'okta',
                      lastSuccessAt: '2026-12-02T06:00:00.000Z',
                      lastError: { kind: 'timeout', message: 'okta: Okta did not answer in time', at: '2026-12-02T06:05:00.000Z', source: 'login' },
                      cache: { users: 1200, memberships: 5400, lastCompleteRunAt: '2026-12-02T02:00:00.000Z' },
                    },
                  ],
                },
              ],
            }),
          ...errors({}),
        },
      },
    },
    async () => {
      const connectors = await Promise.all(
        // The counts read the whole cache: made on the background thread, off the login path.
        deps.connectorStatus.list().map(async (status) => ({ ...status, cache: await deps.prewarm.cacheFigures(status.id) })),
      );
      return { connectors };
    },
  );
};
