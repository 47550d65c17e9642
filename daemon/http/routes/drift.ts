import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { MAX_LIMIT } from '../../drift/drift-service.js';
import { DRIFT_KINDS, isDriftKind, type DriftFormat, type DriftKind } from '../../drift/types.js';
import { badRequest } from '../../errors.js';
import { errors, security } from '../openapi.js';
import { queryInteger, queryList, queryString } from '../query.js';
import * as s from '../schemas.js';
import type { Routes } from './types.js';

/** Page size when the request names none (CSV exports everything unless limited). */
export const DEFAULT_LIMIT = 1_000;

/** The report's query string; `connectorIds` documents the connectors that exist. */
export function driftQuery(connectorIds: readonly string[] = []) {
  return z
    .object({
      format: z.enum(['json', 'csv', 'html']).optional(),
      connector: queryList({ maxItems: 50, maxLength: 64, values: connectorIds }).optional(),
      organization: queryString(1, 200).optional(),
      kind: queryList({ maxItems: 50, maxLength: 64, values: DRIFT_KINDS }).optional(),
      user: queryString(1, 254).optional(),
      limit: queryInteger(1, MAX_LIMIT).optional(),
      offset: queryInteger(0, Number.MAX_SAFE_INTEGER).optional(),
    })
    .strict();
}

/** `GET /v1/drift`: the report as JSON, CSV or an HTML page (docs/drift.md). */
export const driftRoutes: Routes<'drift' | 'connectorIds'> = (app, deps) => {
  app.get(
    '/v1/drift',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getDriftReport',
        summary: 'Drift report: where the IdP cache and the provisioned state disagree (JSON, CSV or HTML)',
        description:
          '`format=json|csv|html` or the Accept header. Filters: `connector`, `organization`, `kind` ' +
          '(repeatable, or a comma list), `user` (id, email or subject); paging with `limit` and `offset`. ' +
          'An unknown connector, organization or kind answers `400` (`unknown_connector`, `unknown_organization`, `invalid_kind`).',
        security: security.admin,
        querystring: driftQuery(deps.connectorIds),
        response: {
          200: {
            description: 'The report: JSON, a CSV file (RFC 4180, header row), or a self-contained HTML page',
            content: {
              'application/json': { schema: s.driftPage },
              'text/csv': { schema: z.string() },
              'text/html': { schema: z.string() },
            },
          },
          ...errors({}),
        },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const format = query.format ?? negotiate(request.headers.accept);
      const offset = query.offset ?? 0;
      const nonce = randomBytes(16).toString('base64');
      const filter = {
        connectors: query.connector ?? [], // lists arrive split: `kind=a&kind=b,c` → [a, b, c]
        kinds: kinds(query.kind ?? []),
        ...(query.organization !== undefined ? { organization: query.organization } : {}),
        ...(query.user !== undefined ? { user: query.user } : {}),
        offset,
        ...(query.limit !== undefined ? { limit: query.limit } : format === 'csv' ? {} : { limit: DEFAULT_LIMIT }),
      };
      const body = await deps.drift.rendered(filter, format, { nonce });
      reply.header('vary', 'Accept');
      reply.header('cache-control', 'no-store');
      switch (format) {
        case 'json':
          return reply.type('application/json; charset=utf-8').send(body);
        case 'csv':
          reply.header('content-disposition', 'attachment; filename="jitsync-drift.csv"');
          return reply.type('text/csv; charset=utf-8; header=present').send(body);
        case 'html': {
          reply.header(
            'content-security-policy',
            `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
          );
          reply.header('x-content-type-options', 'nosniff');
          reply.header('referrer-policy', 'no-referrer');
          return reply.type('text/html; charset=utf-8').send(body);
        }
      }
    },
  );
};

function kinds(values: string[]): DriftKind[] {
  const bad = values.filter((v) => !isDriftKind(v));
  if (bad.length > 0) {
    throw badRequest('invalid_kind', `unknown drift kind${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}; expected ${DRIFT_KINDS.join(', ')}`, {
      known: DRIFT_KINDS,
    });
  }
  return values.filter(isDriftKind);
}

/** The Accept header's preferred type among JSON, CSV and HTML (by q-value, then order); JSON otherwise. */
export function negotiate(accept: string | undefined): DriftFormat {
  if (!accept) return 'json';
  const ranked = accept
    .split(',')
    .map((part, index) => {
      const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { type, quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const { type } of ranked) {
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return 'json';
    if (type === 'text/csv') return 'csv';
    if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  }
  return 'json';
}
