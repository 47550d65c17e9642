import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/**
 * Longest path parameter read at all (UTF-16 units), answered `414` after the token check; every
 * name the API accepts (a 256-character group name, even in astral characters) is shorter.
 */
export const PATH_PARAM_LIMIT = 1024;

/**
 * The router's own limit, above any URL Node reads (16 KiB of request line and headers), so that
 * the router never refuses a parameter itself: it would answer before authentication, outside
 * the request log, in Fastify's error shape.
 */
export const ROUTER_PARAM_LIMIT = 16 * 1024;

export function checkPathParams(request: FastifyRequest): void {
  for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, string>)) {
    if (value.length > PATH_PARAM_LIMIT) {
      throw new AppError(414, 'uri_too_long', `params.${name}: over ${PATH_PARAM_LIMIT} characters`);
    }
  }
}
