// video's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { MemoryCache, RedisCache, type Cache } from '@cryptocare/cache';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { backendEnv, ConfigError, createLogger, loadConfig, type Logger, prismaAdapter, runAsProcess, transactionOptions, z } from '@cryptocare/platform';
import { PrismaClient } from './generated/prisma';
import { MeetingEvents } from './events/meeting-events';
import { JitsiMeetingProvider } from './providers/jitsi';
import { ResilientMeetingProvider } from './providers/resilient';
import { ZOOM_API_BASE_URL, ZOOM_TOKEN_URL, ZoomMeetingProvider, type ZoomPolicy } from './providers/zoom';
import { videoService } from './rpc/video-rpc';
import { MeetingStore } from './store/meeting-store';
import { HostStore } from './store/host-store';
import { ZoomHosts } from './providers/zoom-hosts';
import { parseHostPool, ZOOM_DAILY_MEETING_LIMIT } from './domain/hosts';

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
  JITSI_BASE_URL: z.string().url().default('https://meet.jit.si'),
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
  return config;
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
  const db = new PrismaClient({ adapter: prismaAdapter(config.DATABASE_URL, schema), transactionOptions });
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
  const provider = new ResilientMeetingProvider(zoom, new JitsiMeetingProvider(config.JITSI_BASE_URL), logger);
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
  const meetingEvents = new MeetingEvents({ store, provider, logger, ...(hosts ? { hosts, hostStore } : {}) });

  const service = await hostService({
    name: SERVICE,
    logger,
    ...endpointsFrom(config),
    db,
    schema,
    bus,
    ownsBus: !shared.bus,
    outbox,
    services: [videoService({ store, logger, ...(zoom ? { hostLinks: zoom, hostStore } : {}) })],
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
