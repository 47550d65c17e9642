import swagger from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { JitsyncServer } from './app.js';
import { BODY_LIMIT } from './error-answers.js';
import { PATH_PARAM_LIMIT } from './path-params.js';
import * as s from './schemas.js';

/**
 * The OpenAPI document at `/openapi.json`: the API's exact contract, so that a generator
 * (Schemathesis in CI) can hold the daemon to it. Route schemas give the shapes; this module
 * gives what they cannot: the two tokens' security schemes, the error answers each operation
 * documents, links between operations, and the values that exist only at run time.
 */

export const security = {
  hook: [{ hookToken: [] }],
  admin: [{ adminToken: [] }],
};

const errorBody = (description: string) => s.errorBody.describe(description);

/** Every error answer an operation may document, by status. */
const ERRORS = {
  400: errorBody('Invalid request: `message` and `details` name each field, or a business rule refused it (`code` says which)'),
  401: errorBody('Missing or wrong bearer token (`WWW-Authenticate: Bearer`)'),
  404: errorBody('No such resource'),
  409: errorBody('Conflict: the resource exists, a run is in progress, or a concurrent write won (retry)'),
  413: errorBody(`Request body over ${BODY_LIMIT} bytes`),
  414: errorBody(`A path parameter over ${PATH_PARAM_LIMIT} characters`),
  415: errorBody('Request body that is not application/json in UTF-8'),
  500: errorBody('Internal error (the message says nothing more; see the daemon log)'),
  503: errorBody(
    '`store_busy` (with `Retry-After`), `store_unavailable`, `idp_unavailable` (a connector could not answer), or `shutting_down` (the daemon is stopping; retry on another replica)',
  ),
};

type ErrorStatus = keyof typeof ERRORS;

/**
 * The error answers of an operation: the ones every `/v1` operation can give, plus those of its
 * kind: `body` (413, 415, and 409 for a write), `params` (404, 414).
 */
export function errors(kind: { body?: boolean; params?: boolean; notFound?: boolean; conflict?: boolean }) {
  const statuses: ErrorStatus[] = [400, 401, 500, 503];
  if (kind.body) statuses.push(413, 415);
  if (kind.params) statuses.push(414);
  if (kind.params || kind.notFound) statuses.push(404);
  if (kind.conflict) statuses.push(409);
  return errorsFor(statuses);
}

/** The error answers of these statuses. */
export function errorsFor(statuses: ErrorStatus[]): Record<number, typeof s.errorBody> {
  return Object.fromEntries(statuses.map((status) => [status, ERRORS[status]]));
}

export async function registerOpenApi(app: JitsyncServer): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'jitsync',
        version: '1',
        description:
          `JIT provisioning and directory sync. Request bodies are JSON in UTF-8, at most ${BODY_LIMIT} bytes. ` +
          'Every error answers `{ error: { code, message, details? } }`. A method a path does not take answers `405` with `Allow`.',
      },
      components: {
        securitySchemes: {
          hookToken: { type: 'http', scheme: 'bearer', description: '`server.hookToken`: the login hook, `POST /v1/logins`, only' },
          adminToken: { type: 'http', scheme: 'bearer', description: '`server.adminToken`: every other `/v1` route' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
}

/** What exists only at run time, filled into the document as it is served. */
export interface LiveValues {
  organizations: readonly string[];
}

type Json = Record<string, any>;

/**
 * The served document: the generated one, with the links between operations and the
 * organizations that exist now (the drift report refuses others with `400 unknown_organization`).
 */
export function servedDocument(generated: Json, live: LiveValues): Json {
  const doc = structuredClone(generated);
  const operations = new Map<string, Json>();
  for (const path of Object.values<Json>(doc.paths ?? {})) {
    for (const operation of Object.values<Json>(path)) if (operation?.operationId) operations.set(operation.operationId, operation);
  }
  for (const [from, status, links] of LINKS) {
    const response = operations.get(from)?.responses?.[status];
    if (response) response.links = links;
  }
  // Fastify's swagger marks every body required; this one is optional (no body = no options).
  const prewarm = operations.get('startPrewarm');
  if (prewarm?.requestBody) prewarm.requestBody.required = false;
  const organization = operations.get('getDriftReport')?.parameters?.find((p: Json) => p.in === 'query' && p.name === 'organization');
  if (organization && live.organizations.length > 0) organization.schema = { ...organization.schema, enum: [...live.organizations] };
  return doc;
}

/**
 * Links between operations, for stateful testing and for readers: where an id comes from. The
 * membership links name a group of the quick start's configuration (`OrgA/ENT_ORGA_ADMINS`);
 * where that group does not exist they answer 404.
 */
const LINKS: Array<[string, string, Json]> = [
  [
    'login',
    '200',
    {
      GetUser: { operationId: 'getUser', parameters: { id: '$response.body#/user/id' } },
      SetUserDisabled: { operationId: 'setUserDisabled', parameters: { id: '$response.body#/user/id' } },
      AddMembership: {
        operationId: 'addMembership',
        parameters: { org: 'OrgA', group: 'ENT_ORGA_ADMINS', userId: '$response.body#/user/id' },
      },
      RemoveMembership: {
        operationId: 'removeMembership',
        parameters: { org: 'OrgA', group: 'ENT_ORGA_ADMINS', userId: '$response.body#/user/id' },
      },
    },
  ],
  ['createOrganization', '201', { CreateGroup: { operationId: 'createGroup', parameters: { org: '$response.body#/key' } } }],
  ['startPrewarm', '202', { GetPrewarmRun: { operationId: 'getPrewarmRun', parameters: { runId: '$response.body#/runs/0/id' } } }],
];
