import type { Logger } from 'pino';
import type pg from 'pg';
import { checkReadiness, gauge, startGrpcServer, startOpsServer, type ReadinessCheck, type ServiceRegistration } from '@cryptocare/platform';
import type { EventBus, Subscription } from './bus';
import { InProcessBus } from './in-process-bus';
import { KafkaBus } from './kafka-bus';
import { startIdempotentConsumer, type IdempotentConsumerOptions } from './consumer';
import { Outbox, OutboxRelay } from './outbox';
import { poolDatabase, table, type SqlDatabase } from './sql';

const consumerLag = gauge('kafka_consumer_lag', 'Messages published but not yet consumed, per consumer group, topic and partition (measured on scrape)', [
  'consumergroup',
  'topic',
  'partition',
]);
const inboxBacklog = gauge('inbox_backlog', 'Inbox items (e.g. provider webhooks) stored and not yet processed', ['service']);
const inboxOldestAge = gauge('inbox_oldest_age_seconds', 'Age of the oldest unprocessed inbox item', ['service']);

/** A measurement taken on scrape gives up after this long, so /metrics always answers. */
const COLLECT_TIMEOUT_MS = 3_000;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${COLLECT_TIMEOUT_MS} ms`)), COLLECT_TIMEOUT_MS);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** An inbox table measured on scrape: rows whose `processedAt` column is null are pending. */
export interface InboxGaugeOptions {
  table: string;
  receivedAt: string;
  processedAt: string;
}

/** Kafka when KAFKA_BROKERS is set; otherwise an in-process bus (a service tried alone; `make dev` hands its services a PostgresLogBus). */
export function busFromEnv(brokers: string | undefined, clientId: string, logger: Logger, namespace = process.env.KAFKA_NAMESPACE ?? ''): EventBus {
  if (brokers) return new KafkaBus({ brokers: brokers.split(','), clientId, logger, namespace });
  logger.warn('KAFKA_BROKERS not set: using an in-process event bus (events stay inside this process)');
  return new InProcessBus();
}

/** The gRPC and ops HTTP endpoints of a backend service, from its parsed configuration. */
export function endpointsFrom(config: { GRPC_HOST: string; GRPC_PORT: number; HTTP_PORT: number; NODE_ENV: string }) {
  return {
    grpc: { host: config.GRPC_HOST, port: config.GRPC_PORT, reflection: config.NODE_ENV !== 'production' },
    http: { host: config.GRPC_HOST, port: config.HTTP_PORT },
  };
}

export interface BackgroundTask {
  name: string;
  start(): void;
  stop(): Promise<void>;
}

export interface HostedServiceOptions {
  name: string;
  logger: Logger;
  grpc: { host: string; port: number; reflection: boolean };
  http: { host: string; port: number };
  db: SqlDatabase & { $disconnect(): Promise<void> };
  /**
   * The connection pool the service's PrismaClient runs on (databasePool): the outbox relay and the
   * readiness probe query through it directly (poolDatabase), and stop() ends it after Prisma.
   */
  pool: pg.Pool;
  schema: string;
  bus: EventBus;
  /** Whether this process owns the bus (closes it on stop); false when it is shared (embedded). */
  ownsBus: boolean;
  outbox: Outbox;
  services: ServiceRegistration[];
  consumers?: Array<Pick<IdempotentConsumerOptions, 'groupId' | 'topics' | 'handlers' | 'around'>>;
  background?: BackgroundTask[];
  readiness?: Record<string, ReadinessCheck>;
  /** Exposes `inbox_backlog` / `inbox_oldest_age_seconds` for this table (payment's webhook inbox). */
  inbox?: InboxGaugeOptions;
  /** More gauges to refresh when /metrics is scraped. */
  collect?: () => Promise<void>;
}

export interface HostedService {
  grpcPort: number;
  httpPort: number;
  relay: OutboxRelay;
  /** Graceful: stop accepting calls, drain, stop consumers (commits offsets), close pools. */
  stop(): Promise<void>;
}

/**
 * Gauges measured when Prometheus scrapes: outbox backlog and age, consumer lag of each group and
 * partition (when the bus can tell), the inbox backlog, and the service's own. Each has a time
 * limit; one failing does not hide the others.
 */
async function collectOnScrape(options: HostedServiceOptions, relay: OutboxRelay): Promise<void> {
  const { bus, db, schema, name, inbox } = options;
  const work: Array<[string, () => Promise<unknown>]> = [['outbox backlog', () => relay.measureBacklog()]];
  if (bus.lag) {
    const lagOf = bus.lag.bind(bus);
    for (const c of options.consumers ?? []) {
      work.push([
        `consumer lag of ${c.groupId}`,
        async () => {
          for (const { topic, partition, lag } of await lagOf(c.groupId, c.topics)) consumerLag.labels(c.groupId, topic, String(partition)).set(lag);
        },
      ]);
    }
  }
  if (inbox) {
    work.push([
      'inbox backlog',
      async () => {
        for (const column of [inbox.receivedAt, inbox.processedAt]) {
          if (!/^[a-z_][a-z0-9_]*$/.test(column)) throw new Error(`not a column name: ${column}`);
        }
        const rows = await db.$queryRawUnsafe<Array<{ count: bigint | number; age: number | null }>>(
          `SELECT count(*) AS count, EXTRACT(EPOCH FROM (now() - min(${inbox.receivedAt})))::float8 AS age
           FROM ${table(schema, inbox.table)} WHERE ${inbox.processedAt} IS NULL`,
        );
        inboxBacklog.labels(name).set(Number(rows[0]?.count ?? 0));
        inboxOldestAge.labels(name).set(Number(rows[0]?.age ?? 0));
      },
    ]);
  }
  if (options.collect) work.push(['service gauges', options.collect]);
  const results = await Promise.allSettled(work.map(([what, run]) => withTimeout(run(), what)));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${work[i]![0]}: ${(r.reason as Error)?.message ?? r.reason}`] : []));
  if (failed.length > 0) throw new Error(failed.join('; '));
}

/**
 * What every backend service runs besides its domain: the gRPC server, the ops HTTP endpoint,
 * the outbox relay, its idempotent consumers and background loops. Each service's main.ts
 * builds its own parts and hands them here.
 */
export async function hostService(options: HostedServiceOptions): Promise<HostedService> {
  const { logger, db, schema, bus, outbox } = options;
  const direct = poolDatabase(options.pool);
  const relay = new OutboxRelay({ db: direct, schema, bus, logger, service: options.name });
  outbox.onCommitted(() => relay.wake());
  relay.start();

  const subscriptions: Subscription[] = [];
  for (const consumer of options.consumers ?? []) {
    subscriptions.push(
      await startIdempotentConsumer({ bus, db, schema, logger, ...consumer, afterCommit: () => relay.wake() }),
    );
  }
  for (const task of options.background ?? []) task.start();

  const grpc = await startGrpcServer({ ...options.grpc, services: options.services, logger });
  let draining = false;
  const readiness: Record<string, ReadinessCheck> = {
    // From the start of stop(): /readyz answers 503 while in-flight work drains, so a load
    // balancer probing HTTP stops sending new work here (gRPC health says NOT_SERVING too).
    shutdown: async () => {
      if (draining) throw new Error('shutting down: draining in-flight work');
    },
    database: async () => {
      await direct.$queryRawUnsafe('SELECT 1');
    },
    // Kafka answering a metadata request; a bus without a broker (in memory, PostgreSQL log) is ready.
    // Advisory (reported as degraded, not unready): every replica shares Kafka, and writes stay safe
    // in the outbox while it is away, so losing it must not take the whole service out of rotation.
    bus: async () => {
      await bus.checkReady?.();
    },
    ...options.readiness,
  };
  const advisory = ['bus'];
  const ops = await startOpsServer({ ...options.http, logger, readiness, advisory, collect: () => collectOnScrape(options, relay) });
  // The gRPC health status of the whole server ("") follows readiness, so Kubernetes' gRPC
  // readiness probe takes a replica out of rotation when its database is unreachable.
  const readinessLoop = setInterval(() => {
    void checkReadiness(readiness, advisory).then((report) => grpc.health.setStatus('', report.ready ? 'SERVING' : 'NOT_SERVING'));
  }, 5_000);
  readinessLoop.unref();

  return {
    grpcPort: grpc.port,
    httpPort: ops.port,
    relay,
    async stop() {
      draining = true;
      clearInterval(readinessLoop);
      await grpc.shutdown();
      for (const task of options.background ?? []) await task.stop();
      for (const s of subscriptions) await s.stop();
      await relay.stop();
      await ops.close();
      if (options.ownsBus) await bus.close();
      await db.$disconnect();
      await options.pool.end(); // after Prisma's $disconnect, which no longer uses it
    },
  };
}
