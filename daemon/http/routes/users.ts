import { z } from 'zod';
import { errors, security } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/** `/v1/users`: find, read, disable or enable a user. */
export const userRoutes: Routes<'admin'> = (app, deps) => {
  app.get(
    '/v1/users',
    {
      config: { auth: 'admin' },
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
      config: { auth: 'admin' },
      schema: {
        operationId: 'getUser',
        summary: 'A user with identities, memberships and sync state',
        security: security.admin,
        params: z.object({ id: s.userId }),
        response: { 200: s.userView.describe('The user'), ...errors({ params: true }) },
      },
    },
    async (request) => deps.admin.getUser(request.params.id),
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'setUserDisabled',
        summary: 'Disable or enable a user (a disabled user is refused at login)',
        security: security.admin,
        params: z.object({ id: s.userId }),
        body: z.object({ disabled: z.boolean() }).strict().meta({ examples: [{ disabled: true }] }),
        response: { 200: s.userView.describe('The user, changed'), ...errors({ params: true, body: true, conflict: true }) },
      },
    },
    async (request) => deps.admin.setDisabled(request.params.id, request.body.disabled),
  );
};
