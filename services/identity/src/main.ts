// identity's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { backendEnv, createLogger, loadConfig, prismaAdapter, runAsProcess, z, type Logger } from '@cryptocare/platform';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { PrismaClient } from './generated/prisma';
import { identityService } from './rpc/identity-rpc';
import { IdentityStore } from './store/identity-store';
import { ensureAdmin } from './domain/bootstrap-admin';

const SERVICE = 'identity';

export const identityEnv = {
  ...backendEnv(SERVICE, 50051, 9101),
  JWT_ISSUER: z.string().min(1).default('https://cryptocare.ch'),
  /** Creates (or keeps) one admin account at start, e.g. in embedded mode. */
  BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(10).optional(),
};

/** Shared parts injected by the embedded launcher (one process, one bus). */
export interface SharedParts {
  bus?: EventBus;
  logger?: Logger;
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}) {
  const config = loadConfig(identityEnv, env);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const schema = config.DATABASE_SCHEMA;
  const db = new PrismaClient({ adapter: prismaAdapter(config.DATABASE_URL, schema) });
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  const outbox = new Outbox(schema, SERVICE);
  const store = new IdentityStore(db, outbox, schema);
  if (config.BOOTSTRAP_ADMIN_EMAIL && config.BOOTSTRAP_ADMIN_PASSWORD) {
    await ensureAdmin(store, config.BOOTSTRAP_ADMIN_EMAIL, config.BOOTSTRAP_ADMIN_PASSWORD);
  }
  return hostService({
    name: SERVICE,
    logger,
    ...endpointsFrom(config),
    db,
    schema,
    bus,
    ownsBus: !shared.bus,
    outbox,
    services: [identityService({ store, issuer: config.JWT_ISSUER, logger })],
  });
}

if (require.main === module) runAsProcess(SERVICE, () => main());
