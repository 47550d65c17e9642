import type { FastifyReply, HTTPMethods } from 'fastify';
import type { JitsyncServer } from './app.js';

/**
 * A method that a known path does not take answers `405 method_not_allowed` with `Allow` (RFC
 * 9110 §15.5.6), not `404`; `OPTIONS` answers `204` with `Allow`. Both come before the token
 * check and before any body is read: they say nothing about a resource.
 *
 * `collectRoutes` must run before the routes are declared, `refuseOtherMethods` after.
 */
export function collectRoutes(app: JitsyncServer): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    routes.set(route.url, methods);
  });
  return routes;
}

/** Sends the 405 of a path in its API's error shape (the `/v1` one, or RFC 7644's for SCIM paths). */
export type MethodRefusal = (reply: FastifyReply, method: string, url: string, allow: string) => FastifyReply;

const apiRefusal: MethodRefusal = (reply, method, url, allow) =>
  reply.status(405).send({ error: { code: 'method_not_allowed', message: `${method} is not allowed on ${url}; allowed: ${allow}` } });

export function refuseOtherMethods(
  app: JitsyncServer,
  routes: Map<string, Set<string>>,
  /** The refusal of the paths not in the `/v1` error shape. */
  refusalFor: (url: string) => MethodRefusal | undefined = () => undefined,
): void {
  for (const [url, declared] of [...routes]) {
    const refuse = refusalFor(url) ?? apiRefusal;
    const taken = new Set(declared);
    if (taken.has('GET')) taken.add('HEAD');
    const allow = [...taken, 'OPTIONS'].sort().join(', ');
    const others = app.supportedMethods.filter((method) => !taken.has(method)) as HTTPMethods[];
    if (others.length === 0) continue;
    app.route({
      method: others,
      url,
      schema: { hide: true },
      onRequest: async (request, reply) => {
        reply.header('allow', allow);
        if (request.method === 'OPTIONS') return reply.status(204).send();
        return refuse(reply, request.method, url, allow);
      },
      handler: async () => undefined,
    });
  }
}
