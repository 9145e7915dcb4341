import { AccessTokenVerifier, AppError, createLogger, GrpcStatus } from '@cryptocare/platform';
import { InProcessBus } from '@cryptocare/events';
import { MemoryCache, RevocationList } from '@cryptocare/cache';
import { buildGateway } from './app';
import { Authenticator } from './auth';
import { AppointmentStream } from './sse/appointment-stream';
import type { Backends } from './clients';

/**
 * The gateway's OpenAPI document, built from the routes' schemas without any backend, network or
 * key (nothing is served; no backend is ever called): what `npm run gen:api` turns into the web
 * client's types, and what the document tests lint.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const none = new Proxy({}, { get: () => async () => Promise.reject(new AppError(GrpcStatus.UNAVAILABLE, 'NO_BACKEND', 'document only')) });
  const backends = { identity: none, search: none, appointment: none, payment: none, video: none } as unknown as Backends;
  const logger = createLogger('gateway-openapi', 'silent');
  const stream = new AppointmentStream(new InProcessBus(), 'openapi-document', logger);
  const auth = new Authenticator(new AccessTokenVerifier(async () => Promise.reject(new Error('document only'))), new RevocationList(new MemoryCache(), 60));
  const app = await buildGateway({
    backends,
    auth,
    stream,
    streamTicketSecret: 'openapi-document',
    logger,
    trustedProxies: [],
    maxEventLoopDelayMs: 0,
    rateLimitPerMinute: 1,
    authRateLimitPerMinute: 1,
  });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
