// identity's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { backendEnv, createLogger, databasePool, dataRegion, loadConfig, type Logger, prismaAdapter, runAsProcess, transactionOptions, z } from '@cryptocare/platform';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { consumedTopics } from '@cryptocare/contracts';
import { MemoryCache, RedisCache, RevocationList, type Cache } from '@cryptocare/cache';
import { PrismaClient } from './generated/prisma';
import { identityService } from './rpc/identity-rpc';
import { IdentityStore } from './store/identity-store';
import { ensureAdmin } from './domain/bootstrap-admin';
import { ACCESS_TOKEN_SECONDS } from './domain/tokens';
import { keyEncryptionFromEnv, signingKeyEnv } from './domain/key-encryption';
import { SigningKeyRing } from './store/signing-keys';
import { AuditTrail } from './store/audit-trail';
import { identityConsumers, auditRetentionJob } from './events/audit-events';
import { ConsentStore } from './store/consents';
import { loadConsentDocuments } from './domain/consent-documents';
import { AccountMailStore } from './store/account-mail';
import { LoginThrottle } from './store/login-throttle';
import { MailWorker } from './mail/mail-worker';
import { smtpMailer } from './mail/mailer';
import { judgePassword } from './domain/password-policy';

const SERVICE = 'identity';

/** How often each replica checks whether a rotation is due (the advisory lock lets one rotate). */
const KEY_ROTATION_CHECK_MS = 60 * 60 * 1000;

export const identityEnv = {
  ...backendEnv(SERVICE, 50051, 9101),
  JWT_ISSUER: z.string().min(1).default('https://cryptocare.ch'),
  /** The data region this deployment serves: sign-up for another region is refused (WRONG_REGION). */
  DATA_REGION: dataRegion(),
  /** Creates (or keeps) one admin account at start, e.g. in embedded mode. */
  BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(10).optional(),
  ...signingKeyEnv,
  /** Where account mails (verification, password reset) go: nodemailer's URL form, e.g. smtps://user:pass@smtp.example.ch:465. Unset: mails wait in mail_jobs. */
  SMTP_URL: z.string().regex(/^smtps?:\/\/\S+$/, 'smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('CryptoCare <no-reply@cryptocare.ch>'),
  /** The web client's address, the base of the links in mails. */
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:8080'),
};

/** How often the mail worker looks for due mails besides being kicked (retries, a dead replica's jobs). */
const MAIL_POLL_MS = 5_000;
/** How often stale sign-in counters, old tokens and finished mail jobs are deleted. */
const HOUSEKEEPING_MS = 60 * 60 * 1000;

/** Shared parts injected by the embedded launcher (one process, one bus). */
export interface SharedParts {
  bus?: EventBus;
  logger?: Logger;
  /** The cache the gateway reads revocations from (embedded mode: one in-process cache). */
  cache?: Cache;
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}) {
  const config = loadConfig(identityEnv, env);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const schema = config.DATABASE_SCHEMA;
  const pool = databasePool(config.DATABASE_URL);
  const db = new PrismaClient({ adapter: prismaAdapter(pool, schema), transactionOptions });
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  const outbox = new Outbox(schema, SERVICE);
  const keyRing = new SigningKeyRing(db, keyEncryptionFromEnv(config, logger), schema, { rotationDays: config.KEY_ROTATION_DAYS });
  const encrypted = await keyRing.encryptStoredKeys();
  if (encrypted > 0) logger.info({ keys: encrypted }, 'signing keys encrypted with the current SIGNING_KEY_ENCRYPTION_KEY');
  const audit = new AuditTrail(db, schema);
  const consents = new ConsentStore(db, audit, schema);
  const published = await consents.publish(loadConsentDocuments());
  if (published > 0) logger.info({ documents: published }, 'consent documents published');
  const accountMail = new AccountMailStore(db, schema);
  if (!config.SMTP_URL) logger.warn('SMTP_URL not set: verification and password-reset mails wait in mail_jobs until it is');
  const mailWorker = config.SMTP_URL
    ? new MailWorker({ db, mail: accountMail, mailer: smtpMailer(config.SMTP_URL, config.MAIL_FROM), publicBaseUrl: config.PUBLIC_BASE_URL, logger, pollMs: MAIL_POLL_MS })
    : undefined;
  const store = new IdentityStore(db, outbox, schema, keyRing, audit, accountMail, () => mailWorker?.kick());
  const throttle = new LoginThrottle(db, schema);
  const housekeeping = setInterval(
    () => void Promise.all([throttle.forgetStale(), accountMail.forgetOld()]).catch((err: unknown) => logger.warn({ err }, 'account housekeeping failed')),
    HOUSEKEEPING_MS,
  ).unref();
  const rotateIfDue = () =>
    keyRing.rotateIfDue().then(
      (r) => r.rotated && logger.info({ kid: r.kid, activatesAt: r.activatesAt, retired: r.retired }, 'signing key rotated'),
      (err: unknown) => logger.error({ err }, 'signing key rotation failed, retried at the next check'),
    );
  await rotateIfDue();
  const rotationTimer = setInterval(() => void rotateIfDue(), KEY_ROTATION_CHECK_MS).unref();
  // The revocation list lives where every gateway replica reads it: Redis (prefix `auth`).
  if (!shared.cache && !config.REDIS_URL) logger.warn('REDIS_URL not set: sign-out and erasure end access tokens in this process only');
  const revocationCache = shared.cache ?? (config.REDIS_URL ? new RedisCache(config.REDIS_URL, 'auth') : new MemoryCache());
  const revocations = new RevocationList(revocationCache, ACCESS_TOKEN_SECONDS + 60);
  if (config.BOOTSTRAP_ADMIN_EMAIL && config.BOOTSTRAP_ADMIN_PASSWORD) {
    await ensureAdmin(store, config.BOOTSTRAP_ADMIN_EMAIL, config.BOOTSTRAP_ADMIN_PASSWORD, config.DATA_REGION);
  }
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
    services: [identityService({ store, consents, throttle, issuer: config.JWT_ISSUER, region: config.DATA_REGION, logger, revocations })],
    // Other services' audit events, chained once each (by event id).
    consumers: identityConsumers({ audit, logger }),
    background: [auditRetentionJob(audit, logger)],
    // No readiness check on the revocation list: sign-in works without it; sign-out answers 503.
  });
  mailWorker?.start();
  // The password lists load on first use (about half a second): now, not in someone's sign-up.
  setImmediate(() => judgePassword('warm up the password lists'));
  return {
    ...hosted,
    async stop() {
      clearInterval(rotationTimer);
      clearInterval(housekeeping);
      await mailWorker?.stop();
      await hosted.stop();
      if (!shared.cache) await revocationCache.close();
    },
  };
}

if (require.main === module) runAsProcess(SERVICE, () => main());
