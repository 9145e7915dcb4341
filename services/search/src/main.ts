// search's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { MemoryCache, RedisCache, type Cache } from '@cryptocare/cache';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { backendEnv, createLogger, databasePool, loadConfig, z, type Logger, prismaAdapter, type ReadinessCheck, runAsProcess, transactionOptions } from '@cryptocare/platform';
import { PrismaClient } from './generated/prisma';
import { searchConsumers } from './events/search-consumers';
import { searchService } from './rpc/search-rpc';
import { DirectoryCache, SEARCH_TTL_SECONDS, SECOND_INVALIDATION_MS } from './store/directory-cache';
import { DirectoryStore } from './store/directory-store';
import { AvailabilityMover } from './store/availability-mover';

const SERVICE = 'search';

export const searchEnv = {
  ...backendEnv(SERVICE, 50052, 9102),
  /** How long a search page may be served from the cache (store/directory-cache.ts); 0: never. */
  SEARCH_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(SEARCH_TTL_SECONDS),
  /** How often earliest free slots that passed move on to the next listed (store/availability-mover.ts). */
  AVAILABILITY_MOVE_EVERY_MS: z.coerce.number().int().min(100).default(5_000),
};

/** Shared parts injected by the embedded launcher (one process, one bus, one cache). */
export interface SharedParts {
  bus?: EventBus;
  cache?: Cache;
  logger?: Logger;
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}) {
  const config = loadConfig(searchEnv, env);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const schema = config.DATABASE_SCHEMA;
  const primary = databasePool(config.DATABASE_URL);
  const db = new PrismaClient({ adapter: prismaAdapter(primary, schema), transactionOptions });
  // The search itself tolerates replication lag; profile reads and writes stay on the primary.
  const replica = config.DATABASE_REPLICA_URL ? databasePool(config.DATABASE_REPLICA_URL) : undefined;
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  const cache = shared.cache ?? (config.REDIS_URL ? new RedisCache(config.REDIS_URL, SERVICE) : new MemoryCache());
  // RedisCache prefixes its keys with the service; a shared in-process cache needs it in the key.
  const directoryCache = new DirectoryCache(cache, logger, shared.cache ? `${SERVICE}:` : '', SECOND_INVALIDATION_MS, config.SEARCH_CACHE_SECONDS);
  const outbox = new Outbox(schema, SERVICE);
  const store = new DirectoryStore(db, outbox, schema, primary, replica);
  const mover = new AvailabilityMover(store, directoryCache, logger, config.AVAILABILITY_MOVE_EVERY_MS);

  const readiness: Record<string, ReadinessCheck> = {};
  if (replica) readiness.replica = async () => void (await replica.query('SELECT 1'));
  // No readiness check on the cache: without it every read goes to PostgreSQL, slower but correct.

  const hosted = await hostService({
    name: SERVICE,
    logger,
    ...endpointsFrom(config),
    db,
    pool: primary,
    schema,
    bus,
    ownsBus: !shared.bus,
    outbox,
    services: [searchService({ store, cache: directoryCache, logger })],
    consumers: searchConsumers({ store, cache: directoryCache, logger }),
    background: [mover.task],
    readiness,
  });
  return {
    ...hosted,
    async stop() {
      await hosted.stop();
      await directoryCache.flush();
      if (!shared.cache) await cache.close();
      await replica?.end();
    },
  };
}

if (require.main === module) runAsProcess(SERVICE, () => main());
