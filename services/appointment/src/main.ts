// appointment's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { MemoryCache, RedisCache, type Cache } from '@cryptocare/cache';
import { search } from '@cryptocare/contracts';
import { backendEnv, createGrpcClient, createLogger, databasePool, grpcTarget, loadConfig, type Logger, prismaAdapter, runAsProcess, transactionOptions, z } from '@cryptocare/platform';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { PrismaClient } from './generated/prisma';
import { Bookings } from './bookings';
import { appointmentConsumers } from './events/handlers';
import { appointmentService } from './rpc/appointment-rpc';
import { AppointmentStore } from './store/appointment-store';
import { SlotsCache } from './store/slots-cache';

const SERVICE = 'appointment';

export const appointmentEnv = {
  ...backendEnv(SERVICE, 50053, 9103),
  SEARCH_ADDR: grpcTarget('127.0.0.1:50052'),
  /** A hold outlasts the invoice: invoice lifetime + a margin for an on-chain confirmation. */
  INVOICE_TTL_MINUTES: z.coerce.number().int().min(1).max(120).default(15),
  ONCHAIN_MARGIN_MINUTES: z.coerce.number().int().min(0).max(1440).default(45),
  HOLD_SWEEP_EVERY_MS: z.coerce.number().int().min(100).default(10_000),
};

export interface SharedParts {
  bus?: EventBus;
  logger?: Logger;
  cache?: Cache;
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}) {
  const config = loadConfig(appointmentEnv, env);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const schema = config.DATABASE_SCHEMA;
  const pool = databasePool(config.DATABASE_URL);
  const db = new PrismaClient({ adapter: prismaAdapter(pool, schema), transactionOptions });
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  const outbox = new Outbox(schema, SERVICE);
  const cache = shared.cache ?? (config.REDIS_URL ? new RedisCache(config.REDIS_URL, SERVICE) : new MemoryCache());
  // RedisCache prefixes its keys with the service; a shared in-process cache needs it in the key.
  // No readiness check on the cache: without it slots are read from PostgreSQL, slower but correct.
  const slotsCache = new SlotsCache(cache, logger, shared.cache ? `${SERVICE}:` : '');
  const store = new AppointmentStore(db, pool, outbox, schema, slotsCache);
  const bookings = new Bookings(store, { invoiceTtlMinutes: config.INVOICE_TTL_MINUTES, onchainMarginMinutes: config.ONCHAIN_MARGIN_MINUTES });
  const searchClient = createGrpcClient(search, 'SearchService', config.SEARCH_ADDR, { deadlineMs: 1_000 });

  let sweep: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  const sweeps: Array<[string, () => Promise<unknown>]> = [
    ['hold sweep', () => bookings.expireDueHolds()],
    ['completion sweep', () => bookings.completeFinished()],
    ['availability refresh', () => bookings.refreshPassedAvailability()],
  ];
  // Releases unpaid holds, completes consultations that have ended, republishes passed earliest slots.
  // One round at a time, its sweeps one after the other: on a loaded database a round can outlast
  // the interval, and rounds started regardless piled up on the connection pool (a stop then
  // waited minutes for them). A tick that finds a round still running skips; stop waits for it.
  const bookingSweeper = {
    name: 'booking-sweeper',
    start() {
      sweep = setInterval(() => {
        if (round) return;
        round = (async () => {
          for (const [name, run] of sweeps) await run().catch((err: unknown) => logger.warn({ err }, `${name} failed`));
        })().finally(() => (round = undefined));
      }, config.HOLD_SWEEP_EVERY_MS);
    },
    async stop() {
      clearInterval(sweep);
      await round;
      searchClient.close();
      if (!shared.cache) await cache.close();
    },
  };

  const hosted = await hostService({
    name: SERVICE,
    logger,
    ...endpointsFrom(config),
    db,
    pool,
    schema,
    bus,
    ownsBus: !shared.bus,
    outbox,
    services: [appointmentService({ store, bookings, search: searchClient, logger })],
    consumers: appointmentConsumers(bookings),
    background: [bookingSweeper],
  });
  return hosted;
}

if (require.main === module) runAsProcess(SERVICE, () => main());
