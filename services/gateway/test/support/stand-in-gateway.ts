import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { AccessTokenVerifier, AppError, ACCESS_TOKEN_AUDIENCE, createLogger, GrpcStatus } from '@cryptocare/platform';
import { InProcessBus } from '@cryptocare/events';
import { MemoryCache, RevocationList, type Cache } from '@cryptocare/cache';
import { buildGateway, type GatewayDeps } from '../../src/app';
import { Authenticator } from '../../src/auth';
import { AppointmentStream } from '../../src/sse/appointment-stream';
import type { Backends } from '../../src/clients';

const issuer = 'https://test.cryptocare';

/**
 * The gateway alone, its backends replaced by recording stand-ins: what a test sets in
 * `behaviour['service.method']` answers; every call is kept in `calls`. Tokens are signed by a
 * key of the test's own, and revocations go to a cache the test holds.
 */
export async function standInGateway(options: Partial<Omit<GatewayDeps, 'backends' | 'auth' | 'stream' | 'logger'>> & { authCache?: Cache } = {}) {
  const calls: Array<{ method: string; request: any }> = [];
  const behaviour: Record<string, (request: any) => Promise<any>> = {};
  // By default every signed-in person has given the consents booking needs (a test may say otherwise).
  const defaults = () => {
    behaviour['identity.getConsents'] = async () => ({ consents: [], pending: [] });
  };
  defaults();
  const record = (service: string) =>
    new Proxy(
      {},
      {
        get: (_t, method: string) => async (request: any) => {
          calls.push({ method: `${service}.${method}`, request });
          const handler = behaviour[`${service}.${method}`];
          if (!handler) throw new AppError(GrpcStatus.UNIMPLEMENTED, 'UNIMPLEMENTED', `${service}.${method} not stubbed`);
          return handler(request);
        },
      },
    );
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const sign = (sub: string, role: string, sessionId = 'session-1') =>
    new SignJWT({ role, sid: sessionId })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject(sub)
      .setIssuer(issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  const backends = { identity: record('identity'), search: record('search'), appointment: record('appointment'), payment: record('payment'), video: record('video') } as unknown as Backends;
  const logger = createLogger('gateway-test', 'silent');
  const stream = new AppointmentStream(new InProcessBus(), `sse-${Math.random()}`, logger);
  await stream.start();
  const authCache = options.authCache ?? new MemoryCache();
  const revocations = new RevocationList(authCache, 60);
  const app = await buildGateway({
    backends,
    auth: new Authenticator(new AccessTokenVerifier(async () => ({ jwks: { keys: [jwk] }, issuer })), revocations),
    stream,
    logger,
    trustedProxies: [],
    maxEventLoopDelayMs: 0,
    rateLimitPerMinute: 1000,
    authRateLimitPerMinute: 1000,
    ...options,
  });
  return {
    app,
    calls,
    behaviour,
    sign,
    revocations,
    reset() {
      calls.length = 0;
      for (const k of Object.keys(behaviour)) delete behaviour[k];
      defaults();
    },
    async close() {
      await app.close();
      await stream.stop();
    },
  };
}
