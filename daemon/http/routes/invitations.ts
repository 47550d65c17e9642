import { z } from 'zod';
import { errors, security } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/** `POST /v1/invitations`: invite an email to an organization. */
export const invitationRoutes: Routes<'admin'> = (app, deps) => {
  app.post(
    '/v1/invitations',
    {
      config: { auth: 'admin' },
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
};
