// video's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { MemoryCache, RedisCache, type Cache } from '@cryptocare/cache';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { backendEnv, ConfigError, createLogger, databasePool, loadConfig, type Logger, prismaAdapter, runAsProcess, transactionOptions, z } from '@cryptocare/platform';
import { PrismaClient } from './generated/prisma';
import { MeetingEvents } from './events/meeting-events';
import { JitsiMeetingProvider } from './providers/jitsi';
import { JitsiTokens, MIN_APP_SECRET_LENGTH, type JitsiSigning } from './providers/jitsi-tokens';
import { ResilientMeetingProvider } from './providers/resilient';
import { ZOOM_API_BASE_URL, ZOOM_TOKEN_URL, ZoomMeetingProvider, type ZoomPolicy } from './providers/zoom';
import { videoService } from './rpc/video-rpc';
import { MeetingStore } from './store/meeting-store';
import { HostStore } from './store/host-store';
import { ZoomHosts } from './providers/zoom-hosts';
import { parseHostPool, ZOOM_DAILY_MEETING_LIMIT } from './domain/hosts';
import { ZoomWebhooks } from './events/zoom-webhooks';

const SERVICE = 'video';

/** Unset or empty (as charts render a missing secret) both mean "not configured". */
const optionalSecret = z.preprocess((value) => (value === '' ? undefined : value), z.string().min(1).optional());

export const videoEnv = {
  ...backendEnv(SERVICE, 50055, 9105),
  /** Zoom's documented API base URL (with /v2) and token endpoint; see zoomEndpoints(). */
  ZOOM_API_URL: z.string().url().default(ZOOM_API_BASE_URL),
  ZOOM_OAUTH_URL: z.string().url().default(ZOOM_TOKEN_URL),
  /** Server-to-Server OAuth app; without the three, meetings are on Jitsi only. */
  ZOOM_ACCOUNT_ID: optionalSecret,
  ZOOM_CLIENT_ID: optionalSecret,
  ZOOM_CLIENT_SECRET: optionalSecret,
  /**
   * The fallback's Jitsi (docs/operations/video-hosts.md): a self-hosted deployment with token
   * authentication (JITSI_APP_ID + JITSI_APP_SECRET, HS256) or 8x8 JaaS (JITSI_URL=https://8x8.vc,
   * JITSI_APP_ID = the vpaas-magic-cookie-… app id, JITSI_PRIVATE_KEY + JITSI_KID, RS256). Without
   * them the rooms carry no token, and meet.jit.si starts none until a moderator signs in.
   */
  JITSI_URL: z.string().url().default('https://meet.jit.si'),
  JITSI_APP_ID: z.preprocess((value) => (value === '' ? undefined : value), z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'an application id (letters, digits, . _ -)').optional()),
  JITSI_APP_SECRET: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(MIN_APP_SECRET_LENGTH, `at least ${MIN_APP_SECRET_LENGTH} characters (HS256 wants 256 bits of key)`).optional()),
  /** PEM (PKCS#8 or PKCS#1) RSA private key of the JaaS API key; `\n` escapes are read as line breaks. */
  JITSI_PRIVATE_KEY: optionalSecret,
  JITSI_KID: z.preprocess((value) => (value === '' ? undefined : value), z.string().regex(/^[\x21-\x7e]{1,256}$/, 'the API key id JaaS lists').optional()),
  /**
   * Who hosts the meetings (docs/operations/video-hosts.md). With a domain, each verified professional
   * gets their own Zoom user pro-<id>@<domain> (users API, custCreate) and hosts their meetings.
   */
  ZOOM_HOST_EMAIL_DOMAIN: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(/^(?=.{1,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'a domain name such as hosts.example.ch')
      .optional(),
  ),
  /** The alternative for a small practice: licensed Zoom users (ids or emails, comma separated) shared by every professional without their own. */
  ZOOM_HOST_POOL: z.string().default(''),
  /**
   * Secret Token of the Zoom app's event subscription: signs Zoom's webhooks (x-zm-signature) and
   * answers its endpoint.url_validation challenge. Unset: POST /webhooks/zoom is refused (404) and
   * bookings are completed by the clock only.
   */
  ZOOM_WEBHOOK_SECRET_TOKEN: optionalSecret,
  /** Meeting creations per host and UTC day (Zoom's limit is 100). */
  ZOOM_HOST_DAILY_LIMIT: z.coerce.number().int().min(1).max(100_000).default(ZOOM_DAILY_MEETING_LIMIT),
};

export type VideoConfig = ReturnType<typeof loadVideoConfig>;

export function loadVideoConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(videoEnv, env);
  const zoomVars = ['ZOOM_ACCOUNT_ID', 'ZOOM_CLIENT_ID', 'ZOOM_CLIENT_SECRET'] as const;
  const missing = zoomVars.filter((name) => !config[name]);
  if (missing.length > 0 && missing.length < zoomVars.length) {
    throw new ConfigError(`invalid configuration:\n${missing.map((name) => `  ${name}: required when any of ${zoomVars.join(', ')} is set`).join('\n')}`);
  }
  const jitsiProblem = jitsiSigningProblem(config);
  if (jitsiProblem) throw new ConfigError(`invalid configuration:\n  ${jitsiProblem}`);
  return config;
}

type JitsiVars = { JITSI_APP_ID?: string | undefined; JITSI_APP_SECRET?: string | undefined; JITSI_PRIVATE_KEY?: string | undefined; JITSI_KID?: string | undefined };

function jitsiSigningProblem(c: JitsiVars): string | undefined {
  const secret = Boolean(c.JITSI_APP_SECRET);
  const key = Boolean(c.JITSI_PRIVATE_KEY) || Boolean(c.JITSI_KID);
  if (!c.JITSI_APP_ID) return secret || key ? 'JITSI_APP_ID: required when JITSI_APP_SECRET, JITSI_PRIVATE_KEY or JITSI_KID is set' : undefined;
  if (secret && key) return 'JITSI_APP_SECRET: set either it (self-hosted, HS256) or JITSI_PRIVATE_KEY and JITSI_KID (JaaS, RS256), not both';
  if (!secret && !key) return 'JITSI_APP_SECRET: JITSI_APP_ID needs JITSI_APP_SECRET (self-hosted, HS256) or JITSI_PRIVATE_KEY and JITSI_KID (JaaS, RS256)';
  if (key && !(c.JITSI_PRIVATE_KEY && c.JITSI_KID)) return `${c.JITSI_KID ? 'JITSI_PRIVATE_KEY' : 'JITSI_KID'}: JaaS signs with both the private key and its id`;
  return undefined;
}

/** How the fallback's tokens are signed; undefined when Jitsi has no token authentication configured. */
export function jitsiSigningFrom(c: JitsiVars): JitsiSigning | undefined {
  if (!c.JITSI_APP_ID) return undefined;
  if (c.JITSI_APP_SECRET) return { kind: 'self-hosted', appId: c.JITSI_APP_ID, appSecret: c.JITSI_APP_SECRET };
  if (c.JITSI_PRIVATE_KEY && c.JITSI_KID) return { kind: 'jaas', appId: c.JITSI_APP_ID, kid: c.JITSI_KID, privateKey: c.JITSI_PRIVATE_KEY.replace(/\\n/g, '\n') };
  return undefined;
}

/** Shared parts injected by the embedded launcher (one process, one bus, one cache). */
export interface SharedParts {
  bus?: EventBus;
  cache?: Cache;
  logger?: Logger;
}

/** Knobs that are not configuration: tests shorten the Zoom policy's waits. */
export interface VideoTuning {
  zoomPolicy?: Partial<ZoomPolicy>;
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}, tuning: VideoTuning = {}) {
  const config = loadVideoConfig(env);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const schema = config.DATABASE_SCHEMA;
  const pool = databasePool(config.DATABASE_URL);
  const db = new PrismaClient({ adapter: prismaAdapter(pool, schema), transactionOptions });
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  const cache = shared.cache ?? (config.REDIS_URL ? new RedisCache(config.REDIS_URL, SERVICE) : new MemoryCache());
  const outbox = new Outbox(schema, SERVICE);
  const store = new MeetingStore(db, outbox);

  const zoom =
    config.ZOOM_ACCOUNT_ID && config.ZOOM_CLIENT_ID && config.ZOOM_CLIENT_SECRET
      ? new ZoomMeetingProvider({
          apiUrl: config.ZOOM_API_URL,
          oauthUrl: config.ZOOM_OAUTH_URL,
          accountId: config.ZOOM_ACCOUNT_ID,
          clientId: config.ZOOM_CLIENT_ID,
          clientSecret: config.ZOOM_CLIENT_SECRET,
          cache,
          logger,
          ...(tuning.zoomPolicy ? { policy: tuning.zoomPolicy } : {}),
        })
      : undefined;
  if (!zoom) logger.warn('Zoom is not configured (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET): every meeting is on Jitsi');
  const jitsiSigning = jitsiSigningFrom(config);
  let jitsiTokens: JitsiTokens | undefined;
  try {
    jitsiTokens = jitsiSigning ? new JitsiTokens(jitsiSigning, config.JITSI_URL) : undefined;
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  JITSI_PRIVATE_KEY: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!jitsiTokens) logger.warn({ jitsiUrl: config.JITSI_URL }, 'Jitsi token authentication is not configured (JITSI_APP_ID with JITSI_APP_SECRET, or JITSI_PRIVATE_KEY and JITSI_KID): fallback rooms carry no token and meet.jit.si will not start them');
  const provider = new ResilientMeetingProvider(zoom, new JitsiMeetingProvider(config.JITSI_URL, jitsiTokens), logger);
  const hostStore = new HostStore(db, schema);
  const hosts = zoom
    ? new ZoomHosts({
        store: hostStore,
        zoom,
        logger,
        pool: parseHostPool(config.ZOOM_HOST_POOL),
        ...(config.ZOOM_HOST_EMAIL_DOMAIN ? { professionalEmailDomain: config.ZOOM_HOST_EMAIL_DOMAIN } : {}),
        dailyLimit: config.ZOOM_HOST_DAILY_LIMIT,
      })
    : undefined;
  await hosts?.start();
  const zoomWebhooks = new ZoomWebhooks({ db, schema, outbox, logger, ...(config.ZOOM_WEBHOOK_SECRET_TOKEN ? { secretToken: config.ZOOM_WEBHOOK_SECRET_TOKEN } : {}) });
  const meetingEvents = new MeetingEvents({ store, provider, logger, zoomWebhooks, ...(hosts ? { hosts, hostStore } : {}) });

  const service = await hostService({
    name: SERVICE,
    logger,
    ...endpointsFrom(config),
    db,
    pool,
    schema,
    bus,
    ownsBus: !shared.bus,
    outbox,
    services: [videoService({ store, logger, zoomWebhooks, ...(zoom ? { hostLinks: zoom, hostStore } : {}), ...(jitsiTokens ? { jitsiTokens } : {}) })],
    consumers: [meetingEvents.consumer()],
  });
  return {
    ...service,
    async stop() {
      await service.stop();
      if (!shared.cache) await cache.close();
    },
  };
}

if (require.main === module) runAsProcess(SERVICE, () => main());
