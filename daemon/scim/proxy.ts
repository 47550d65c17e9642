import type { FastifyError, FastifyInstance } from 'fastify';
import { errorAnswer } from '../http/error-answers.js';
import type { JitsyncServer } from '../http/app.js';
import { SCIM_BODY_LIMIT } from './discovery.js';
import { ERROR_SCHEMA } from './errors.js';
import { SCIM_MEDIA_TYPE } from './routes.js';

/**
 * SCIM on the main listener: each request under `/scim/` is passed whole to the SCIM thread,
 * which answers it as its own listener would (token, rate limit, parsing, rendering), so that
 * none of that runs on the thread that answers logins. This thread only reads the body (within
 * SCIM's limit) and writes the answer back.
 */

export interface ProxiedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | null;
}

export interface ProxiedAnswer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Uint8Array;
}

export type ScimProxy = (request: ProxiedRequest) => Promise<ProxiedAnswer>;

/** Headers of the SCIM thread's answer that belong to its own connection, not to this one. */
const HOP_BY_HOP = new Set(['connection', 'content-length', 'keep-alive', 'transfer-encoding']);

export async function registerScimProxy(app: JitsyncServer, proxy: ScimProxy): Promise<void> {
  await app.register(async (instance) => {
    const scope = instance as unknown as FastifyInstance;
    // Any body, as bytes: the SCIM thread parses it and answers its errors.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SCIM_BODY_LIMIT }, (_request, body, done) => done(null, body));
    // What fails here (a body over the limit, the SCIM thread gone) is answered in RFC 7644's shape.
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const answer = errorAnswer(error);
      if (answer.status >= 500) request.log.error({ err: error }, 'SCIM request failed');
      const detail = answer.status === 413 ? `the request body is over ${SCIM_BODY_LIMIT} bytes` : answer.error.message;
      return reply
        .status(answer.status)
        .type(SCIM_MEDIA_TYPE)
        .send(JSON.stringify({ schemas: [ERROR_SCHEMA], status: String(answer.status), detail }));
    });
    scope.all('/scim/*', { bodyLimit: SCIM_BODY_LIMIT, schema: { hide: true }, config: { proxied: true } }, async (request, reply) => {
      const body = request.body as Buffer | undefined;
      const answer = await proxy({ method: request.method, url: request.url, headers: request.headers, body: body ? new Uint8Array(body) : null });
      reply.status(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
      return reply.send(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
    });
  });
}
