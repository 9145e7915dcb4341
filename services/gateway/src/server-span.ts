import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import serverSpans from '@autotelic/fastify-opentelemetry';
import { context } from '@opentelemetry/api';

/** Probes are polled all day long: not worth a trace. */
const quietPaths = /^\/(metrics|healthz|readyz|livez)(\?|$)/;

/** The request's path without its query (query values may be personal: searches, tokens). */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * Each request's server span (OpenTelemetry), made from fastify's hooks rather than by the node:http
 * instrumentation, which is not loaded (libs/platform/src/telemetry.ts). That instrumentation wraps
 * the whole server and records some fifteen attributes a request, the client's address and the query
 * string among them; counted with `make bench-gc-per-read`, the gateway allocated a quarter less per
 * cached read with this span (bench/results/profile-2026-12-03-tracing.md).
 *
 * The span continues the caller's trace (W3C traceparent), is named `METHOD /route`, and carries
 * semantic-convention attributes: the method, the path without query, the route, the status, the
 * request id (so a trace can be found from a log line or an answer's X-Request-ID) and, on a
 * failure, the error's code only (messages may quote input). Route handlers and every hook after
 * this plugin's run inside it (`wrapRoutes`), so the gRPC, Redis and fetch spans they make are its
 * children and their log lines carry its trace id.
 *
 * Requests refused before routing (load shedding in the server factory, a malformed URL) get no
 * span; they get their metric and, the latter, their error body.
 */
export async function registerServerSpans(app: FastifyInstance): Promise<void> {
  await app.register(serverSpans, {
    wrapRoutes: true,
    ignoreRoutes: (url) => quietPaths.test(url),
    formatSpanAttributes: {
      request: (request: FastifyRequest) => ({
        'http.request.method': request.method,
        'url.path': pathOf(request.url),
        'url.scheme': request.protocol,
        ...(request.routeOptions.url ? { 'http.route': request.routeOptions.url } : {}),
        'http.request.id': request.id,
      }),
      reply: (reply: FastifyReply) => ({ 'http.response.status_code': reply.statusCode }),
      error: (error: Error & { code?: string }) => ({ 'error.type': error.code ?? error.name }),
    },
  });
}

/**
 * Runs `fn` in the request's trace when it has a span (so log lines written in onResponse, after
 * the handler's context is gone, carry its trace id); just runs it otherwise.
 */
export function inRequestTrace<T>(request: FastifyRequest, fn: () => T): T {
  return typeof request.openTelemetry === 'function' ? context.with(request.openTelemetry().context, fn) : fn();
}
