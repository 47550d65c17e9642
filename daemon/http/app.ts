import type { FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { TokenKind } from './auth.js';

/** The Fastify instance every routes module registers on (its own file, so routes need not import the server). */
export type JitsyncServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which bearer token the route needs; routes outside `/v1` need none. */
    auth?: TokenKind;
    /** Passed whole to the SCIM thread, which counts it in the request metrics itself. */
    proxied?: boolean;
  }
}
