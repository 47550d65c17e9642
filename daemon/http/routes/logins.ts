import { loginInputSchema } from '../../login/input.js';
import { fastSerializerCompiler } from '../fast-serializer.js';
import { errors, security } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/** `POST /v1/logins`: the login hook (docs/behaviour.md). */
export const loginRoutes: Routes<'login' | 'metrics' | 'connectorIds'> = (app, deps) => {
  const [firstConnector = 'demo'] = deps.connectorIds;
  app.post(
    '/v1/logins',
    {
      config: { auth: 'hook' },
      // The hot path: answers written from their JSON Schema (fast-serializer.ts).
      serializerCompiler: fastSerializerCompiler,
      schema: {
        operationId: 'login',
        summary: 'Login hook: create or find the account and reconcile its memberships',
        security: security.hook,
        body: loginInputSchema.extend({ connector: s.connectorId(deps.connectorIds) }).meta({
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
};
