import { z } from 'zod';
import { errors, security } from '../openapi.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/** `/v1/organizations`: organizations, their groups, and manual memberships. */
export const organizationRoutes: Routes<'admin'> = (app, deps) => {
  app.get(
    '/v1/organizations',
    {
      config: { auth: 'admin' },
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
      config: { auth: 'admin' },
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
      config: { auth: 'admin' },
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

  // Adding and removing a manual membership differ only in what they change.
  const membershipChanges = [
    {
      method: 'PUT',
      operationId: 'addMembership',
      summary: 'Add a manual membership (group names with "/" are URL-encoded)',
      change: deps.admin.addMembership,
    },
    { method: 'DELETE', operationId: 'removeMembership', summary: 'Remove a membership', change: deps.admin.removeMembership },
  ] as const;
  for (const { method, operationId, summary, change } of membershipChanges) {
    app.route({
      method,
      url: '/v1/organizations/:org/groups/:group/members/:userId',
      config: { auth: 'admin' },
      schema: {
        operationId,
        summary,
        description: "`409 default_group_derived` for the organization's default group: membership in it follows the others.",
        security: security.admin,
        params: s.membershipParams,
        response: { 200: s.userView.describe('The user, with the membership changed'), ...errors({ params: true, body: true, conflict: true }) },
      },
      handler: async (request) => {
        const { org, group, userId } = request.params;
        return change(org, group, userId);
      },
    });
  }
};
