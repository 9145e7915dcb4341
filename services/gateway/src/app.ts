import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import { trace } from '@opentelemetry/api';
import { checkReadiness, histogram, latencyBuckets, registry, type AccessTokenVerifier, type Logger, type ReadinessCheck } from '@cryptocare/platform';
import type { Backends } from './clients';
import { errorBody, HttpError, installErrorHandler } from './http-errors';
import { authRoutes } from './routes/auth';
import { meRoutes } from './routes/me';
import { directoryRoutes } from './routes/directory';
import { appointmentRoutes } from './routes/appointments';
import { webhookRoutes } from './routes/webhooks';
import { ErrorBody } from './routes/schemas';
import type { AppointmentStream } from './sse/appointment-stream';

const httpDuration = histogram('http_server_request_duration_seconds', 'HTTP requests by route and status', ['method', 'route', 'status_code'], latencyBuckets);

export interface GatewayDeps {
  backends: Backends;
  verifier: AccessTokenVerifier;
  stream: AppointmentStream;
  logger: Logger;
  /** Shared rate-limit counters across replicas; in-memory without it. */
  redis?: Redis;
  readiness: Record<string, ReadinessCheck>;
  /** Event-loop delay (ms) beyond which requests are shed with 503 + Retry-After. */
  maxEventLoopDelayMs: number;
  rateLimitPerMinute: number;
  /** The built web client (web/dist), served at `/` when it exists. */
  webRoot?: string;
  /** Per client address on register and login (credential stuffing, account farming). */
  authRateLimitPerMinute: number;
}

/** The public HTTP surface: REST + OpenAPI, auth, rate limits, webhook ingress, SSE, ops. */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    trustProxy: true,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  installErrorHandler(app);
  app.addSchema(ErrorBody);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // The HTTP server span (OpenTelemetry) learns the route and the request id it serves.
    const span = trace.getActiveSpan();
    const route = request.routeOptions.url;
    if (span && route) span.updateName(`${request.method} ${route}`).setAttribute('http.route', route);
    span?.setAttribute('http.request.id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.labels(request.method, route, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
  });

  await app.register(underPressure, {
    maxEventLoopDelay: deps.maxEventLoopDelayMs,
    retryAfter: 5,
    exposeStatusRoute: false,
    pressureHandler: (_request, reply) => {
      reply.header('retry-after', '5').status(503).send(errorBody('OVERLOADED', 'the service is busy, retry shortly'));
    },
  });
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute,
    timeWindow: '1 minute',
    ...(deps.redis ? { redis: deps.redis, nameSpace: 'gateway-rl-', skipOnError: true } : {}),
    keyGenerator: (request) => request.ip,
    // What this returns is thrown, and answered by the error handler.
    errorResponseBuilder: (_request, context) => new HttpError(429, 'RATE_LIMITED', `too many requests, retry in ${Math.ceil(context.ttl / 1000)} s`),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'CryptoCare API', version: '1.0.0', description: 'Book a health professional, pay in Bitcoin, get the meeting link.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true }, config: { rateLimit: false } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) => {
    const report = await checkReadiness(deps.readiness);
    return reply.status(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  if (deps.webRoot && existsSync(path.join(deps.webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: deps.webRoot, wildcard: false, index: ['index.html'], maxAge: '1h', decorateReply: false });
  }
  authRoutes(app, deps.backends, deps.authRateLimitPerMinute);
  meRoutes(app, deps.backends, deps.verifier);
  directoryRoutes(app, deps.backends, deps.verifier);
  appointmentRoutes(app, deps.backends, deps.verifier, deps.stream);
  await app.register(async (scope) => webhookRoutes(scope, deps.backends));
  return app;
}
