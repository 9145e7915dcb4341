import FindMyWay from 'find-my-way';
import type { FastifyInstance } from 'fastify';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Remembers every route's path and methods in a router of its own (the one fastify uses), so a
 * request for a known path with an undeclared method can be answered 405 with `Allow` instead of
 * 404. Call before any route is registered.
 */
export function trackAllowedMethods(app: FastifyInstance): (url: string) => string[] {
  const router = FindMyWay();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // A path registered twice for one method (e.g. by two plugins' scopes) is already known.
      if (!router.hasRoute(method as 'GET', route.url)) router.on(method as 'GET', route.url, () => undefined);
    }
  });
  return (url) => {
    const path = url.split('?')[0] ?? '/';
    return METHODS.filter((method) => router.find(method, path) !== null);
  };
}
