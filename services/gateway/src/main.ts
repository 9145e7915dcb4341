// The gateway's composition root: reads the environment, connects the backends, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import os from 'node:os';
import path from 'node:path';
import { AccessTokenVerifier, commonEnv, createLogger, grpcTarget, loadConfig, port, runAsProcess, z, type Logger } from '@cryptocare/platform';
import { busFromEnv, type EventBus } from '@cryptocare/events';
import { RedisCache } from '@cryptocare/cache';
import { connectBackends } from './clients';
import { buildGateway } from './app';
import { AppointmentStream } from './sse/appointment-stream';

const SERVICE = 'gateway';

export const gatewayEnv = {
  ...commonEnv,
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port(8080),
  IDENTITY_ADDR: grpcTarget('127.0.0.1:50051'),
  SEARCH_ADDR: grpcTarget('127.0.0.1:50052'),
  APPOINTMENT_ADDR: grpcTarget('127.0.0.1:50053'),
  PAYMENT_ADDR: grpcTarget('127.0.0.1:50054'),
  VIDEO_ADDR: grpcTarget('127.0.0.1:50055'),
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** The built web client; served at `/` when present. */
  WEB_ROOT: z.string().default(path.resolve(__dirname, '../../../web/dist')),
};

export interface SharedParts {
  bus?: EventBus;
  logger?: Logger;
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

  const app = await buildGateway({
    backends,
    verifier,
    stream,
    logger,
    ...(redis ? { redis: redis.client } : {}),
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    authRateLimitPerMinute: config.AUTH_RATE_LIMIT_PER_MINUTE,
    webRoot: config.WEB_ROOT,
    readiness: {
      identity: async () => {
        await backends.identity.getJwks({}, { deadlineMs: 500 });
      },
      ...(redis ? { redis: () => redis.ping() } : {}),
    },
  });
  await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  logger.info({ port: httpPort }, 'gateway listening');

  return {
    app,
    httpPort,
    async stop() {
      await app.close();
      await stream.stop();
      if (!shared.bus) await bus.close();
      await redis?.close();
      backends.close();
    },
  };
}

if (require.main === module) runAsProcess(SERVICE, () => main());
