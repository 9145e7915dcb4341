import type { Logger } from 'pino';
import { checkReadiness, startGrpcServer, startOpsServer, type ReadinessCheck, type ServiceRegistration } from '@cryptocare/platform';
import type { EventBus, Subscription } from './bus';
import { InProcessBus } from './in-process-bus';
import { KafkaBus } from './kafka-bus';
import { startIdempotentConsumer, type EventHandlers } from './consumer';
import { Outbox, OutboxRelay } from './outbox';
import type { SqlDatabase } from './sql';

/** Kafka when KAFKA_BROKERS is set; otherwise an in-process bus (embedded mode only). */
export function busFromEnv(brokers: string | undefined, clientId: string, logger: Logger, namespace = process.env.KAFKA_NAMESPACE ?? ''): EventBus {
  if (brokers) return new KafkaBus({ brokers: brokers.split(','), clientId, logger, namespace });
  logger.warn('KAFKA_BROKERS not set: using an in-process event bus (events stay inside this process)');
  return new InProcessBus();
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
  schema: string;
  bus: EventBus;
  /** Whether this process owns the bus (closes it on stop); false when it is shared (embedded). */
  ownsBus: boolean;
  outbox: Outbox;
  services: ServiceRegistration[];
  consumers?: Array<{ groupId: string; topics: string[]; handlers: EventHandlers }>;
  background?: BackgroundTask[];
  readiness?: Record<string, ReadinessCheck>;
}

export interface HostedService {
  grpcPort: number;
  httpPort: number;
  relay: OutboxRelay;
  /** Graceful: stop accepting calls, drain, stop consumers (commits offsets), close pools. */
  stop(): Promise<void>;
}

/**
 * What every backend service runs besides its domain: the gRPC server, the ops HTTP endpoint,
 * the outbox relay, its idempotent consumers and background loops. Each service's main.ts
 * builds its own parts and hands them here.
 */
export async function hostService(options: HostedServiceOptions): Promise<HostedService> {
  const { logger, db, schema, bus, outbox } = options;
  const relay = new OutboxRelay({ db, schema, bus, logger, service: options.name });
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
  const readiness: Record<string, ReadinessCheck> = {
    database: async () => {
      await db.$queryRawUnsafe('SELECT 1');
    },
    ...options.readiness,
  };
  const ops = await startOpsServer({ ...options.http, logger, readiness, collect: () => relay.measureBacklog().then(() => undefined) });
  // The gRPC health status of the whole server ("") follows readiness, so Kubernetes' gRPC
  // readiness probe takes a replica out of rotation when its database is unreachable.
  const readinessLoop = setInterval(() => {
    void checkReadiness(readiness).then((report) => grpc.health.setStatus('', report.ready ? 'SERVING' : 'NOT_SERVING'));
  }, 5_000);
  readinessLoop.unref();

  return {
    grpcPort: grpc.port,
    httpPort: ops.port,
    relay,
    async stop() {
      clearInterval(readinessLoop);
      await grpc.shutdown();
      for (const task of options.background ?? []) await task.stop();
      for (const s of subscriptions) await s.stop();
      await relay.stop();
      await ops.close();
      if (options.ownsBus) await bus.close();
      await db.$disconnect();
    },
  };
}
