import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import http from 'node:http';
import helmet from 'helmet';
import compress from '@fastify/compress';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { batchedRateLimitStore } from './rate-limit-store';
import cookie from '@fastify/cookie';
import type Redis from 'ioredis';
import { histogram, latencyBuckets, safeUrl, type Logger } from '@cryptocare/platform';
import type { Backends } from './clients';
import type { Authenticator } from './auth';
import { errorBody, HttpError, installErrorHandler } from './http-errors';
import { refuseNulBytes, schemaValidators } from './input-rules';
import { registerPublicReadCache } from './public-read-cache';
import { trackAllowedMethods } from './method-not-allowed';
import { authRoutes } from './routes/auth';
import { meRoutes } from './routes/me';
import { directoryRoutes } from './routes/directory';
import { dateOverrideRoutes } from './routes/date-overrides';
import { appointmentRoutes } from './routes/appointments';
import { videoRoutes } from './routes/video';
import { appointmentEventRoutes } from './routes/appointment-events';
import { webhookRoutes } from './routes/webhooks';
import { wellKnownRoutes } from './routes/well-known';
import { auditRoutes } from './routes/audit';
import { refundRoutes } from './routes/refunds';
import { ledgerRoutes } from './routes/ledger';
import { consentRoutes } from './routes/consents';
import { ErrorBody, sharedSchemas } from './routes/schemas';
import { createLoadShedding } from './overload';
import { lazyRequestLogger } from './request-logger';
import { inRequestTrace, registerServerSpans } from './server-span';
import type { AppointmentStream } from './sse/appointment-stream';
import { registerWebClient, type WebClient } from './web-client';

const httpDuration = histogram('http_server_request_duration_seconds', 'HTTP requests by route and status', ['method', 'route', 'status_code'], latencyBuckets);

export interface GatewayDeps {
  backends: Backends;
  auth: Authenticator;
  stream: AppointmentStream;
  /** HMAC key of the event streams' tickets (STREAM_TICKET_SECRET), the same on every replica; random per process without it. */
  streamTicketSecret?: string;
  logger: Logger;
  /** Where each request's line goes (createAccessLogger: no redaction pass); the logger without it. */
  accessLogger?: Logger;
  /** Each request gets an OpenTelemetry server span (server-span.ts): when this process traces. */
  traceRequests?: boolean;
  /** Shared rate-limit counters across replicas; in-memory without it. */
  redis?: Redis;
  /**
   * Addresses or CIDR ranges of the proxies in front of the gateway (the edge: Envoy Gateway's proxies), whose
   * X-Forwarded-For is believed. Empty: the client address is the connection's, whatever the
   * headers say (otherwise anyone could pick their own address and escape the rate limits).
   */
  trustedProxies: string[];
  /** A request (headers and body) must have arrived within this time, or it is cut (slow-loris). */
  requestTimeoutMs?: number;
  /** Event-loop delay (ms) beyond which requests are shed with 503 + Retry-After (overload.ts). */
  maxEventLoopDelayMs: number;
  /** Requests served at once beyond which the next are shed with 503 + Retry-After; 0 or unset: no bound. */
  maxInFlight?: number;
  rateLimitPerMinute: number;
  /** Seconds anonymous public directory reads stay in this replica's micro-cache (0 or unset: off). */
  publicCacheSeconds?: number;
  /** The built web client (web/dist), served at `/` when it exists. */
  webRoot?: string;
  /** Per client address on register and login (credential stuffing, account farming). */
  authRateLimitPerMinute: number;
  /** Per account on login, whatever the address. */
  loginRateLimitPerAccount?: number;
}

/** The public HTTP surface: REST + OpenAPI, auth, rate limits, webhook ingress, SSE, ops. */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const requestTimeoutMs = deps.requestTimeoutMs ?? 30_000;
  const shedding = createLoadShedding({ maxInFlight: deps.maxInFlight ?? 0, maxEventLoopDelayMs: deps.maxEventLoopDelayMs, retryAfterSeconds: 5 });
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request, written by the onResponse hook below, not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyRequestLogger,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    trustProxy: deps.trustedProxies.length > 0 ? deps.trustedProxies : false,
    bodyLimit: 64 * 1024,
    // Node's own limits on how long a request may take to arrive (fastify's default is none);
    // checked every second so a slow sender is cut close to the limit.
    serverFactory: (handler) =>
      http.createServer({ requestTimeout: requestTimeoutMs, headersTimeout: Math.min(requestTimeoutMs, 10_000), connectionsCheckingInterval: 1_000 }, shedding.gate(handler)),
    // Errors fastify raises before routing (e.g. a path with a bad percent escape) get our body too.
    frameworkErrors: (error, _request, reply) => {
      const code = error.code === 'FST_ERR_BAD_URL' ? 'BAD_URL' : (error.code?.replace(/^FST_ERR_/, '') ?? 'BAD_REQUEST');
      void (reply as FastifyReply).status(400).send(errorBody(code, error.message));
    },
  });
  app.setValidatorCompiler(schemaValidators());
  const allowedMethods = trackAllowedMethods(app);
  // Filled below once web/dist is known to exist: pages the router did not match answer index.html.
  let webClient: WebClient | undefined;
  installErrorHandler(app, allowedMethods, (request, reply) => webClient?.servePage(request, reply));
  app.addSchema(ErrorBody);
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.addHook('preValidation', refuseNulBytes);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const accessLog = deps.accessLogger ?? deps.logger;
  // Added before the server span's hooks, so it runs while the request's span is still known.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.labels(request.method, route, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    inRequestTrace(request, () =>
      accessLog.info(
        { reqId: request.id, req: { method: request.method, url: safeUrl(request.url), route }, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 },
        'request completed',
      ),
    );
  });
  if (deps.traceRequests) await registerServerSpans(app);

  await shedding.install(app);
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute,
    timeWindow: '1 minute',
    // Counted in Redis across replicas, in batches while an address is well under its limit (rate-limit-store.ts).
    ...(deps.redis ? { store: batchedRateLimitStore(deps.redis, 'gateway-rl-') as unknown as FastifyRateLimitStoreCtor, skipOnError: true } : {}),
    keyGenerator: (request) => request.ip,
    // What this returns is thrown, and answered by the error handler.
    errorResponseBuilder: (_request, context) => new HttpError(429, 'RATE_LIMITED', `too many requests, retry in ${Math.ceil(context.ttl / 1000)} s`),
  });

  // Security headers (helmet). Its middleware is built once, here: @fastify/helmet built it again
  // at every request (parsing the CSP each time): 70 µs of CPU a request against 17 here (fastify
  // inject, same headers), about 3 % of the gateway's CPU profile at 2 000 users.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // TLS ends at the edge (Envoy Gateway), which redirects http; upgrading here would break plain-http dev.
        upgradeInsecureRequests: null,
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined)));
  // Before compression: the cache keeps the plain answer and each hit is compressed for its client.
  registerPublicReadCache(app, { ttlSeconds: deps.publicCacheSeconds ?? 0 });
  // Never the event streams: compression would hold events back in its buffer.
  await app.register(compress, { threshold: 1024, customTypes: /^(?!text\/event-stream)(text\/|application\/(json|javascript)|image\/svg)/ });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'CryptoCare API', version: '1.0.0', description: 'Book a health professional, pay in Bitcoin, get the meeting link.' },
      servers: [{ url: '/', description: 'this deployment' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      // Public unless an operation says otherwise (those that need a session declare bearerAuth).
      security: [],
    },
    // Shared schemas (app.addSchema) appear in components.schemas under their own $id (Error, Professional…).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Its pages carry a CSP of their own (with the hashes of their inline scripts).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Liveness only; readiness and metrics are on the ops port (main.ts), never public.
  app.get('/healthz', { schema: { hide: true }, config: { rateLimit: false, shed: false } }, async () => ({ status: 'ok' }));

  if (deps.webRoot) webClient = await registerWebClient(app, deps.webRoot, deps.backends);
  // The browser's refresh token (refresh-cookie.ts).
  await app.register(cookie);
  authRoutes(app, deps.backends, { perAddressPerMinute: deps.authRateLimitPerMinute, perAccountPerQuarterHour: deps.loginRateLimitPerAccount ?? 10 }, deps.auth, deps.auth.regions);
  meRoutes(app, deps.backends, deps.auth);
  directoryRoutes(app, deps.backends, deps.auth);
  dateOverrideRoutes(app, deps.backends, deps.auth);
  appointmentRoutes(app, deps.backends, deps.auth);
  videoRoutes(app, deps.backends, deps.auth);
  appointmentEventRoutes(app, deps);
  await app.register(async (scope) => webhookRoutes(scope, deps.backends));
  wellKnownRoutes(app, deps.backends);
  auditRoutes(app, deps.backends, deps.auth);
  refundRoutes(app, deps.backends, deps.auth);
  ledgerRoutes(app, deps.backends, deps.auth);
  consentRoutes(app, deps.backends, deps.auth);
  return app;
}
