import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { JitsyncServer } from '../http/app.js';
import { MAX_LIMIT } from './drift-service.js';
import { DRIFT_KINDS, isDriftKind, type DriftFormat, type DriftKind, type DriftService } from './types.js';


/** Page size when the request names none (CSV exports everything unless limited). */
export const DEFAULT_LIMIT = 1_000;

const repeatable = z.union([z.string().max(2_000), z.array(z.string().max(2_000)).max(50)]);

export const driftQuery = z
  .object({
    format: z.enum(['json', 'csv', 'html']).optional(),
    connector: repeatable.optional(),
    organization: z.string().min(1).max(200).optional(),
    kind: repeatable.optional(),
    user: z.string().min(1).max(254).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  })
  .strict();

/** `GET /v1/drift`: the report as JSON, CSV or an HTML page (SPEC §6). */
export function driftRoute(
  app: JitsyncServer,
  drift: DriftService,
  shared: { errors: { 400: z.ZodType; 401: z.ZodType }; security: Array<Record<string, string[]>> },
): void {
  app.get(
    '/v1/drift',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Drift report: where the IdP cache and the provisioned state disagree (JSON, CSV or HTML)',
        description:
          '`format=json|csv|html` or the Accept header. Filters: `connector`, `organization`, `kind` ' +
          `(repeatable or comma list of ${DRIFT_KINDS.join(', ')}), \`user\` (id, email or subject); paging with \`limit\` and \`offset\`.`,
        security: shared.security,
        querystring: driftQuery,
        response: { 400: shared.errors[400], 401: shared.errors[401] },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const format = query.format ?? negotiate(request.headers.accept);
      const offset = query.offset ?? 0;
      const nonce = randomBytes(16).toString('base64');
      const filter = {
        connectors: list(query.connector),
        kinds: kinds(list(query.kind)),
        ...(query.organization !== undefined ? { organization: query.organization } : {}),
        ...(query.user !== undefined ? { user: query.user } : {}),
        offset,
        ...(query.limit !== undefined ? { limit: query.limit } : format === 'csv' ? {} : { limit: DEFAULT_LIMIT }),
      };
      const body = await drift.rendered(filter, format, { nonce });
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
}

/** Repeatable and comma-separated: `kind=a&kind=b,c`. */
function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

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
