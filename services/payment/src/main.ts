// payment's composition root: reads the environment, picks the real adapters, starts.
import '@cryptocare/platform/src/telemetry-register'; // first: tracing must start before anything it instruments is loaded
import { backendEnv, ConfigError, createLogger, databasePool, loadConfig, type Logger, prismaAdapter, runAsProcess, transactionOptions, z } from '@cryptocare/platform';
import { busFromEnv, endpointsFrom, hostService, Outbox, type EventBus } from '@cryptocare/events';
import { PrismaClient } from './generated/prisma';
import { paymentConsumers } from './events/handlers';
import { Payments } from './payments';
import { Btcpay } from './providers/btcpay';
import { policyFor, trimSlash, type ProviderPolicySettings } from './providers/http';
import { PROVIDER_NAMES, type PaymentProvider, type ProviderName } from './providers/provider';
import { SwissBitcoinPay } from './providers/swiss-bitcoin-pay';
import { paymentService } from './rpc/payment-rpc';
import { PaymentStore } from './store/payment-store';
import { periodicTask } from './tasks/periodic';

const SERVICE = 'payment';

const ms = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);
const secret = z.string().min(1).optional();

export const paymentEnv = {
  ...backendEnv(SERVICE, 50054, 9104),
  /**
   * The primary provider of new invoices. The other one, when configured, takes new invoices while
   * the primary is unavailable (PAYMENT_FAILOVER) and always serves the invoices it made.
   */
  PAYMENT_PROVIDER: z.enum(PROVIDER_NAMES).default('swiss-bitcoin-pay'),
  /** Whether the other configured provider takes new invoices while the primary is down. */
  PAYMENT_FAILOVER: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  SBP_API_URL: z.string().url().default('https://api.swiss-bitcoin-pay.ch'),
  SBP_API_KEY: secret,
  /** Key of the `sbp-sig` webhook HMAC (the dashboard's API secret). */
  SBP_API_SECRET: secret,
  /** Swiss Bitcoin Pay checkouts live at most this long (its rate refresh): a shorter INVOICE_TTL_MINUTES wins. */
  SBP_RATE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(120).default(10),
  BTCPAY_URL: z.string().url().optional(),
  BTCPAY_API_KEY: secret,
  BTCPAY_STORE_ID: secret,
  BTCPAY_WEBHOOK_SECRET: secret,
  /** The gateway's public URL: providers post webhooks to `${PUBLIC_BASE_URL}/webhooks/<provider>`. */
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:8080'),
  INVOICE_TTL_MINUTES: z.coerce.number().int().min(1).max(120).default(15),
  /** Finality policy: on-chain payments are final after this many confirmations. */
  ONCHAIN_CONFIRMATIONS: z.coerce.number().int().min(0).max(100).default(1),
  RECONCILE_EVERY_MS: ms(15_000, 50),
  /** Reconciliation leaves younger invoices to the webhooks. */
  RECONCILE_MIN_AGE_MS: ms(30_000, 0),
  /** Invoices a provider expired are polled this often for a late payment (BTCPay), for LATE_PAYMENT_WINDOW_HOURS. */
  LATE_PAYMENT_CHECK_EVERY_MS: ms(600_000, 50),
  LATE_PAYMENT_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(72),
  PENDING_INVOICE_EVERY_MS: ms(1_000, 20),
  PENDING_RETRY_BASE_MS: ms(2_000, 10),
  PENDING_RETRY_MAX_MS: ms(60_000, 10),
  HELD_GRACE_MS: ms(2_000, 0),
  /** Provider policy: timeout per attempt, retries after the first, breaker. */
  PROVIDER_TIMEOUT_MS: ms(3_000, 50),
  PROVIDER_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  PROVIDER_RETRY_DELAY_MS: ms(200, 1),
  PROVIDER_BREAK_AFTER: z.coerce.number().int().min(1).default(5),
  PROVIDER_HALF_OPEN_MS: ms(10_000, 10),
};

export type PaymentConfig = ReturnType<typeof loadConfig<typeof paymentEnv>>;

/** Shared parts injected by the embedded launcher (one process, one bus). */
export interface SharedParts {
  bus?: EventBus;
  logger?: Logger;
}

/** Adapters for every provider whose configuration is complete; the chosen one must be. */
export function providersFrom(config: PaymentConfig): { providers: Map<ProviderName, PaymentProvider>; active: PaymentProvider; order: PaymentProvider[] } {
  const settings: ProviderPolicySettings = {
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    retries: config.PROVIDER_RETRIES,
    initialDelayMs: config.PROVIDER_RETRY_DELAY_MS,
    breakAfter: config.PROVIDER_BREAK_AFTER,
    halfOpenAfterMs: config.PROVIDER_HALF_OPEN_MS,
  };
  const providers = new Map<ProviderName, PaymentProvider>();
  if (config.SBP_API_KEY && config.SBP_API_SECRET) {
    providers.set(
      'swiss-bitcoin-pay',
      new SwissBitcoinPay({
        apiUrl: config.SBP_API_URL,
        apiKey: config.SBP_API_KEY,
        apiSecret: config.SBP_API_SECRET,
        rateWindowMinutes: config.SBP_RATE_WINDOW_MINUTES,
        policy: policyFor('swiss-bitcoin-pay', settings),
      }),
    );
  }
  if (config.BTCPAY_URL && config.BTCPAY_API_KEY && config.BTCPAY_STORE_ID && config.BTCPAY_WEBHOOK_SECRET) {
    providers.set(
      'btcpay',
      new Btcpay({
        url: config.BTCPAY_URL,
        apiKey: config.BTCPAY_API_KEY,
        storeId: config.BTCPAY_STORE_ID,
        webhookSecret: config.BTCPAY_WEBHOOK_SECRET,
        onchainConfirmations: config.ONCHAIN_CONFIRMATIONS,
        policy: policyFor('btcpay', settings),
      }),
    );
  }
  const active = providers.get(config.PAYMENT_PROVIDER);
  if (!active) {
    const needed = config.PAYMENT_PROVIDER === 'btcpay' ? 'BTCPAY_URL, BTCPAY_API_KEY, BTCPAY_STORE_ID, BTCPAY_WEBHOOK_SECRET' : 'SBP_API_KEY, SBP_API_SECRET';
    throw new ConfigError(`invalid configuration:\n  PAYMENT_PROVIDER=${config.PAYMENT_PROVIDER} needs ${needed}`);
  }
  const fallbacks = config.PAYMENT_FAILOVER ? [...providers.values()].filter((p) => p !== active) : [];
  return { providers, active, order: [active, ...fallbacks] };
}

export async function main(env: NodeJS.ProcessEnv = process.env, shared: SharedParts = {}) {
  const config = loadConfig(paymentEnv, env);
  const { providers, order } = providersFrom(config);
  const logger = shared.logger?.child({ service: SERVICE }) ?? createLogger(SERVICE, config.LOG_LEVEL);
  const schema = config.DATABASE_SCHEMA;
  const pool = databasePool(config.DATABASE_URL);
  const db = new PrismaClient({ adapter: prismaAdapter(pool, schema), transactionOptions });
  const bus = shared.bus ?? busFromEnv(config.KAFKA_BROKERS, SERVICE, logger);
  const outbox = new Outbox(schema, SERVICE);
  const store = new PaymentStore(db, pool, outbox, schema);
  const payments = new Payments(
    store,
    providers,
    order,
    {
      invoiceTtlMinutes: config.INVOICE_TTL_MINUTES,
      finality: { onchainConfirmations: config.ONCHAIN_CONFIRMATIONS },
      publicBaseUrl: trimSlash(config.PUBLIC_BASE_URL),
      // Longer than the provider policy can take (every attempt timing out, with backoff).
      creationLeaseMs: Math.max(30_000, (config.PROVIDER_RETRIES + 1) * (config.PROVIDER_TIMEOUT_MS + 5_000) + 5_000),
      pendingRetryBaseMs: config.PENDING_RETRY_BASE_MS,
      pendingRetryMaxMs: config.PENDING_RETRY_MAX_MS,
      heldGraceMs: config.HELD_GRACE_MS,
      reconcileEveryMs: config.RECONCILE_EVERY_MS,
      reconcileMinAgeMs: config.RECONCILE_MIN_AGE_MS,
      latePaymentCheckEveryMs: config.LATE_PAYMENT_CHECK_EVERY_MS,
      latePaymentWindowMs: config.LATE_PAYMENT_WINDOW_HOURS * 3_600_000,
    },
    logger,
  );

  return hostService({
    name: SERVICE,
    logger,
    ...endpointsFrom(config),
    db,
    pool,
    schema,
    bus,
    ownsBus: !shared.bus,
    outbox,
    services: [paymentService({ payments, store, logger })],
    consumers: paymentConsumers(payments, store, logger),
    background: [
      periodicTask('pending-invoice-creator', config.PENDING_INVOICE_EVERY_MS, () => payments.createDuePending(), logger),
      // Top-ups for under-payments that ended while the booking is held, at the same pace.
      periodicTask('top-up-creator', config.PENDING_INVOICE_EVERY_MS, () => payments.createDueTopUps(), logger),
      periodicTask('reconciliation', config.RECONCILE_EVERY_MS, () => payments.reconcileOnce(), logger),
      periodicTask('late-payment-check', config.LATE_PAYMENT_CHECK_EVERY_MS, () => payments.checkLatePaymentsOnce(), logger),
      // Refunds a provider pays out (BTCPay pull payments): sent, then checked, at the reconciliation's pace.
      periodicTask('refund-payouts', config.RECONCILE_EVERY_MS, () => payments.payOutRefundsOnce(), logger),
    ],
    // inbox_backlog / inbox_oldest_age_seconds: verified webhooks not yet processed.
    inbox: { table: 'webhook_inbox', receivedAt: 'received_at', processedAt: 'processed_at' },
  });
}

if (require.main === module) runAsProcess(SERVICE, () => main());
