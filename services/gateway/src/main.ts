// The gateway's composition root: reads the environment, connects the backends, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { currentTelemetry } from '@cryptocare/platform/src/telemetry';
import os from 'node:os';
import path from 'node:path';
import { AccessTokenVerifier, commonEnv, createAccessLogger, createLogger, dataRegion, grpcTarget, loadConfig, port, runAsProcess, startOpsServer, z, type Logger } from '@cryptocare/platform';
import { busFromEnv, type EventBus } from '@cryptocare/events';
import { MemoryCache, RedisCache, RevocationList, type Cache } from '@cryptocare/cache';
import { Authenticator } from './auth';
import { DataRegions, regionBaseUrlsEnv } from './data-region';
import { connectBackends } from './clients';
import { buildGateway } from './app';
import { AppointmentStream } from './sse/appointment-stream';

const SERVICE = 'gateway';

export const gatewayEnv = {
  ...commonEnv,
  /** The public API; all interfaces, as in a pod (tests and `make dev` pass loopback). */
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: port(8080),
  /** /healthz, /readyz and /metrics: for the kubelet and Prometheus, never routed publicly. */
  OPS_HOST: z.string().default('0.0.0.0'),
  OPS_PORT: port(9090),
  /** Proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For is believed. */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.every((e) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e)), 'expected addresses or CIDR ranges, comma-separated'),
  IDENTITY_ADDR: grpcTarget('127.0.0.1:50051'),
  SEARCH_ADDR: grpcTarget('127.0.0.1:50052'),
  APPOINTMENT_ADDR: grpcTarget('127.0.0.1:50053'),
  PAYMENT_ADDR: grpcTarget('127.0.0.1:50054'),
  VIDEO_ADDR: grpcTarget('127.0.0.1:50055'),
  /** The data region this deployment serves: other regions' tokens and sign-ups get 421 WRONG_REGION. */
  DATA_REGION: dataRegion(),
  /** Public base URL of each region's deployment, `CH=https://…,EU=https://…`: where WRONG_REGION sends clients. */
  REGION_BASE_URLS: regionBaseUrlsEnv,
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  /**
   * Most requests served at once by one gateway process; the next are shed with 503 OVERLOADED +
   * Retry-After (src/overload.ts). The bound in force adapts below it to the latency of the served
   * requests (src/concurrency-limit.ts). 0: no bound. The default comes from `make bench-overload`.
   */
  MAX_IN_FLIGHT: z.coerce.number().int().min(0).default(64),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Seconds an anonymous public directory read stays in each replica's micro-cache (0: off). */
  PUBLIC_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * HMAC key (at least 32 characters) of the tickets that open event streams (POST
   * /v1/appointments/{id}/stream-ticket); the same on every replica. Unset: a random key per
   * process, fine for one process (dev, tests) only. Empty counts as unset (as charts render a missing secret).
   */
  STREAM_TICKET_SECRET: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(32).optional()),
  /** The built web client; served at `/` when present. */
  WEB_ROOT: z.string().default(path.resolve(__dirname, '../../../web/dist')),
};

export interface SharedParts {
  bus?: EventBus;
  logger?: Logger;
  /** Embedded mode: the in-process cache identity writes revocations to. */
  cache?: Cache;
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}) {
  const config = loadConfig(gatewayEnv, env);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const backends = connectBackends({
    identity: config.IDENTITY_ADDR,
    search: config.SEARCH_ADDR,
    appointment: config.APPOINTMENT_ADDR,
    payment: config.PAYMENT_ADDR,
    video: config.VIDEO_ADDR,
  });
  const verifier = new AccessTokenVerifier(async () => {
    const { jwksJson, issuer } = await backends.identity.getJwks({}, { deadlineMs: 1_000 });
    return { jwks: JSON.parse(jwksJson), issuer };
  });
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  // One group per replica: each must see every booking event for the streams it serves.
  const stream = new AppointmentStream(bus, `gateway-sse-${os.hostname()}-${process.pid}-${Date.now().toString(36)}`, logger);
  await stream.start();
  const redis = config.REDIS_URL ? new RedisCache(config.REDIS_URL, 'gateway') : undefined;
  // Revocations are written by identity under the `auth` prefix (see identity's main.ts).
  if (!shared.cache && !config.REDIS_URL) logger.warn('REDIS_URL not set: revocations by identity are not seen by this gateway');
  const authCache = shared.cache ?? (config.REDIS_URL ? new RedisCache(config.REDIS_URL, 'auth') : new MemoryCache());
  const auth = new Authenticator(verifier, new RevocationList(authCache, 0), new DataRegions(config.DATA_REGION, config.REGION_BASE_URLS));

  const app = await buildGateway({
    backends,
    auth,
    stream,
    ...(config.STREAM_TICKET_SECRET ? { streamTicketSecret: config.STREAM_TICKET_SECRET } : {}),
    logger,
    // In one process with the others (embedded), request lines go where its shared logger writes.
    ...(shared.logger ? {} : { accessLogger: createAccessLogger(SERVICE, config.LOG_LEVEL) }),
    traceRequests: currentTelemetry()?.enabled === true,
    ...(redis ? { redis: redis.client } : {}),
    trustedProxies: config.TRUSTED_PROXIES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    publicCacheSeconds: config.PUBLIC_CACHE_SECONDS,
    maxInFlight: config.MAX_IN_FLIGHT,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    authRateLimitPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    loginRateLimitPerAccount: config.LOGIN_RATE_LIMIT_PER_ACCOUNT,
    webRoot: config.WEB_ROOT,
  });
  await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  const ops = await startOpsServer({
    host: config.OPS_HOST,
    port: config.OPS_PORT,
    logger,
    readiness: {
      identity: async () => {
        await backends.identity.getJwks({}, { deadlineMs: 500 });
      },
      ...(redis ? { redis: () => redis.ping() } : {}),
    },
  });
  logger.info({ port: httpPort, opsPort: ops.port }, 'gateway listening');

  return {
    app,
    httpPort,
    opsPort: ops.port,
    async stop() {
      await app.close();
      await ops.close();
      if (!shared.cache && authCache !== redis) await authCache.close();
      await stream.stop();
      if (!shared.bus) await bus.close();
      await redis?.close();
      backends.close();
    },
  };
}

if (require.main === module) runAsProcess(SERVICE, () => main());
