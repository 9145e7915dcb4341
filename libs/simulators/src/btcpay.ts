// BTCPay Server Greenfield API simulator (invoices + webhooks), shapes of BTCPay Server 2.x
// (swagger.template.invoices.json / swagger.template.webhooks.json in btcpayserver/btcpayserver).
//
// Real endpoints: POST|GET /api/v1/stores/:storeId/invoices, GET /api/v1/stores/:storeId/invoices/:invoiceId,
// GET …/:invoiceId/payment-methods, POST …/:invoiceId/status (mark Settled/Invalid).
// Simulator-only: GET /i/:invoiceId (checkout page = checkoutLink), POST /i/:invoiceId/pay (body:
// paymentMethodId, sats (on-chain: less = PaidPartial, more = PaidOver), processing (Processing until
// POST /i/:invoiceId/settle), afterExpiration (pay an Expired invoice: PaidLate)), POST /i/:invoiceId/expire.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLightningInvoice, randomSegwitAddress, type AddressHrp, type Bolt11Network, type LightningInvoice } from './bolt11';
import { randomPrivateKey } from './secp256k1';
import { asRecord, createServer, escapeHtml, isFormPost, publicBase, unrefTimeout, wantsHtml, type SimulatorServer } from './server';
import { keyFromHex, keyToHex, lightningFromJson, lightningToJson, StateFile, type LightningInvoiceJson } from './state-file';
import { hmacSha256Hex, WebhookDispatcher, type WebhookDelivery, type WebhookRequest } from './webhooks';

export type BtcpayWebhookEvent =
  | 'InvoiceCreated'
  | 'InvoiceReceivedPayment'
  | 'InvoicePaymentSettled'
  | 'InvoiceProcessing'
  | 'InvoiceExpired'
  | 'InvoiceSettled'
  | 'InvoiceInvalid';

export const BTCPAY_WEBHOOK_EVENTS: readonly BtcpayWebhookEvent[] = ['InvoiceCreated', 'InvoiceReceivedPayment', 'InvoicePaymentSettled', 'InvoiceProcessing', 'InvoiceExpired', 'InvoiceSettled', 'InvoiceInvalid'];

export interface BtcpaySimulatorOptions {
  /** Value expected in `Authorization: token <apiKey>`. */
  apiKey: string;
  /** The store the key may use; a random BTCPay-looking id when omitted. */
  storeId?: string;
  /** Where webhooks go; none are sent while unset (see setWebhook). */
  webhookUrl?: string;
  /** HMAC-SHA256 key of the `BTCPay-Sig` header. */
  webhookSecret: string;
  webhookId?: string;
  /**
   * Events the webhook is subscribed to; default every event, as BTCPay's webhook form defaults to
   * "Send me everything" (a late on-chain payment only shows as InvoiceReceivedPayment and
   * InvoicePaymentSettled: the invoice stays Expired and never sends InvoiceSettled).
   */
  webhookEvents?: BtcpayWebhookEvent[];
  /** Base of checkoutLink; defaults to the listening URL. */
  publicBaseUrl?: string;
  /** Satoshis per 1 unit of the invoice currency, merged over the defaults (CHF/EUR/USD/GBP 1000, SATS 1, BTC 1e8). */
  satsPerUnit?: Record<string, number>;
  /** Store default currency, default CHF. */
  defaultCurrency?: string;
  /** Store default expiration, 15 minutes as BTCPay's default. */
  defaultExpirationMinutes?: number;
  bolt11Network?: Bolt11Network;
  onChainHrp?: AddressHrp;
  /** Waits between webhook attempts; default [250, 1000, 4000]. */
  webhookRetryDelaysMs?: number[];
  webhookTimeoutMs?: number;
  logger?: boolean;
  /**
   * JSON file keeping the invoices, the store and node keys and the webhooks not yet delivered
   * across restarts; saved on every change, loaded at creation. Without it, everything is in memory.
   */
  stateFile?: string;
  /** Queue webhooks without sending them until resumeWebhooks() (e.g. until the receiver is up). */
  webhooksPaused?: boolean;
}

export type BtcpayInvoiceStatus = 'New' | 'Processing' | 'Expired' | 'Invalid' | 'Settled';
export type BtcpayPaymentMethodId = 'BTC-CHAIN' | 'BTC-LN';

interface BtcpayPayment {
  id: string;
  method: BtcpayPaymentMethodId;
  receivedDate: number;
  destination: string;
  sats: number;
}

/** How the payer pays (simulator control). */
export interface BtcpayPayOptions {
  /** On-chain only: satoshis sent; default what is still due. */
  sats?: number;
  /** Leave the invoice Processing (seen, not yet confirmed) until settle(). */
  processing?: boolean;
  /** Pay an Expired invoice (BTCPay marks it PaidLate when the full amount arrives). */
  afterExpiration?: boolean;
}

interface BtcpayInvoice {
  id: string;
  storeId: string;
  amount: string;
  currency: string;
  sats: number;
  metadata: Record<string, unknown>;
  checkout: Record<string, unknown>;
  receipt: Record<string, unknown>;
  createdTime: number;
  expirationTime: number;
  monitoringExpiration: number;
  status: BtcpayInvoiceStatus;
  additionalStatus: 'None' | 'PaidLate' | 'PaidPartial' | 'Marked' | 'Invalid' | 'PaidOver';
  lightning: LightningInvoice;
  address: string;
  /** Payments received, in order (several when the payer tops up a partial payment). */
  payments: BtcpayPayment[];
  cancelExpiry?: () => void;
}

/** A pull payment made by an invoice refund, and the payouts the claimant got from it (in memory only). */
interface BtcpayPullPayment {
  id: string;
  name: string;
  description: string;
  invoiceId: string;
  /** What may be claimed, in sats (the pull payment's currency is BTC). */
  sats: number;
  startsAt: number;
  payouts: Array<{ id: string; state: 'AwaitingApproval' | 'AwaitingPayment' | 'Completed'; sats: number; date: number; transactionId?: string }>;
}

const REFUND_VARIANTS = ['RateThen', 'CurrentRate', 'OverpaidAmount', 'Fiat', 'Custom'];

/** What the state file holds. */
interface BtcpayState {
  storeId: string;
  webhookId: string;
  nodeKey: string;
  invoices: Array<Omit<BtcpayInvoice, 'lightning' | 'cancelExpiry'> & { lightning: LightningInvoiceJson }>;
  webhooks: WebhookRequest[];
}

export interface BtcpaySimulator extends Omit<SimulatorServer, 'onClose'> {
  readonly storeId: string;
  readonly deliveries: readonly WebhookDelivery[];
  waitForWebhooks(): Promise<void>;
  /** Points the store webhook somewhere else (and optionally changes its secret). */
  setWebhook(url: string | undefined, secret?: string): void;
  /** The next n invoice creations answer 503. */
  failNextCreates(n: number): void;
  /** InvoiceData JSON as GET …/invoices/:id answers, or undefined. */
  getInvoice(id: string): Record<string, unknown> | undefined;
  /** Same as POST /i/:id/pay. */
  pay(id: string, paymentMethodId?: BtcpayPaymentMethodId, options?: BtcpayPayOptions): Record<string, unknown>;
  /** Same as POST /i/:id/settle: a Processing invoice's payment confirms. */
  settle(id: string): Record<string, unknown>;
  /** Same as POST /i/:id/expire. */
  expire(id: string): Record<string, unknown>;
  /** PullPaymentData JSON of the store's pull payments (made by invoice refunds). */
  listPullPayments(): Record<string, unknown>[];
  /** Same as POST /pull-payments/:id/pay: the claimant claims the rest and the store pays it (a Completed payout). */
  payPullPayment(id: string): Record<string, unknown>;
  reset(): void;
  /** Sends the webhooks held since creation with `webhooksPaused` (restored ones included). */
  resumeWebhooks(): void;
}

const DEFAULT_SATS_PER_UNIT: Record<string, number> = { CHF: 1000, EUR: 1000, USD: 1000, GBP: 1000, SATS: 1, BTC: 100_000_000 };
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58Id(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE58[b % 58];
  return out;
}

const btc = (sats: number) => (sats / 1e8).toFixed(8);

class BtcpayError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createBtcpaySimulator(opts: BtcpaySimulatorOptions): BtcpaySimulator {
  const server = createServer({ logger: opts.logger });
  const { app } = server;
  const store = opts.stateFile ? new StateFile<BtcpayState>(opts.stateFile) : undefined;
  const saved = store?.load();
  const storeId = opts.storeId ?? saved?.storeId ?? base58Id(44);
  const webhookId = opts.webhookId ?? saved?.webhookId ?? base58Id(22);
  const events = new Set<BtcpayWebhookEvent>(opts.webhookEvents ?? BTCPAY_WEBHOOK_EVENTS);
  const rates = { ...DEFAULT_SATS_PER_UNIT, ...(opts.satsPerUnit ?? {}) };
  const nodeKey = saved ? keyFromHex(saved.nodeKey) : randomPrivateKey();
  const invoices = new Map<string, BtcpayInvoice>();
  const pullPayments = new Map<string, BtcpayPullPayment>();
  let closing = false;
  const dispatcher = new WebhookDispatcher({
    retryDelaysMs: opts.webhookRetryDelaysMs ?? [250, 1000, 4000],
    timeoutMs: opts.webhookTimeoutMs ?? 5000,
    paused: opts.webhooksPaused,
    onFinished: () => persist(),
  });
  let webhookUrl = opts.webhookUrl;
  let webhookSecret = opts.webhookSecret;
  let failCreates = 0;
  server.onClose(() => {
    closing = true; // what close() interrupts stays as last saved (pending webhooks are sent after a restart)
    dispatcher.close();
    for (const inv of invoices.values()) inv.cancelExpiry?.();
  });

  /** Saves the whole state after a change (before the change is answered or announced). */
  function persist(): void {
    if (!store || closing) return;
    store.save({
      storeId,
      webhookId,
      nodeKey: keyToHex(nodeKey),
      invoices: [...invoices.values()].map(({ cancelExpiry: _timer, lightning, ...inv }) => ({ ...inv, lightning: lightningToJson(lightning) })),
      webhooks: dispatcher.unfinished(),
    });
  }

  // A restart: the invoices again, their expiry timers re-armed, undelivered webhooks queued again.
  for (const { lightning, ...rest } of saved?.invoices ?? []) {
    // State files written before partial payments kept one `payment` of the full amount.
    const legacy = (rest as { payment?: Omit<BtcpayPayment, 'sats'> }).payment;
    const payments = rest.payments ?? (legacy ? [{ ...legacy, sats: rest.sats }] : []);
    const inv: BtcpayInvoice = { ...rest, payments, lightning: lightningFromJson(lightning) };
    invoices.set(inv.id, inv);
    if (inv.status === 'New') inv.cancelExpiry = unrefTimeout(() => markExpired(inv), inv.expirationTime * 1000 - Date.now());
  }
  for (const webhook of saved?.webhooks ?? []) dispatcher.enqueue(webhook);
  persist();

  const base = (req?: FastifyRequest) => publicBase(opts.publicBaseUrl, server, req);

  function refresh(inv: BtcpayInvoice): void {
    if (inv.status === 'New' && Date.now() >= inv.expirationTime * 1000) markExpired(inv);
  }

  function invoiceJson(inv: BtcpayInvoice, req?: FastifyRequest): Record<string, unknown> {
    refresh(inv);
    const rate = rates[inv.currency] ?? rates[inv.currency.toUpperCase()] ?? 1;
    const paidSats = paidOf(inv);
    return {
      metadata: inv.metadata,
      checkout: inv.checkout,
      receipt: inv.receipt,
      id: inv.id,
      storeId: inv.storeId,
      amount: inv.amount,
      paidAmount: paidSats >= inv.sats ? inv.amount : (paidSats / rate).toFixed(2),
      currency: inv.currency,
      type: 'Standard',
      checkoutLink: `${base(req)}/i/${inv.id}`,
      createdTime: inv.createdTime,
      expirationTime: inv.expirationTime,
      monitoringExpiration: inv.monitoringExpiration,
      status: inv.status,
      additionalStatus: inv.additionalStatus,
      availableStatusesForManualMarking: inv.status === 'Settled' ? ['Invalid'] : inv.status === 'Invalid' ? ['Settled'] : ['Settled', 'Invalid'],
      archived: false,
    };
  }

  function paymentMethodsJson(inv: BtcpayInvoice): Record<string, unknown>[] {
    refresh(inv);
    const rate = rates[inv.currency] ?? rates[inv.currency.toUpperCase()] ?? 1;
    const paidSats = paidOf(inv);
    const methods: { id: BtcpayPaymentMethodId; destination: string; link: string }[] = [
      { id: 'BTC-CHAIN', destination: inv.address, link: `bitcoin:${inv.address}?amount=${btc(inv.sats)}` },
      { id: 'BTC-LN', destination: inv.lightning.paymentRequest, link: `lightning:${inv.lightning.paymentRequest}` },
    ];
    return methods.map((m) => {
      const mine = inv.payments.filter((p) => p.method === m.id);
      const payments = mine.map((p) => ({
        id: p.id,
        receivedDate: p.receivedDate,
        value: btc(p.sats),
        fee: '0.0',
        status: inv.status === 'Processing' ? 'Processing' : inv.status === 'Invalid' ? 'Invalid' : 'Settled',
        destination: m.destination,
      }));
      return {
        paymentMethodId: m.id,
        currency: 'BTC',
        destination: m.destination,
        paymentLink: m.link,
        rate: String(1e8 / rate),
        paymentMethodPaid: btc(mine.reduce((n, p) => n + p.sats, 0)),
        totalPaid: btc(paidSats),
        due: btc(Math.max(0, inv.sats - paidSats)),
        amount: btc(inv.sats),
        paymentMethodFee: '0.0',
        payments,
        activated: true,
        additionalData: m.id === 'BTC-CHAIN' ? { keyPath: '0/0', payjoinEnabled: false } : {},
      };
    });
  }

  function emit(inv: BtcpayInvoice, type: BtcpayWebhookEvent, extra: Record<string, unknown> = {}): void {
    if (!webhookUrl || !events.has(type)) return;
    const deliveryId = base58Id(22);
    const body = JSON.stringify({
      deliveryId,
      webhookId,
      originalDeliveryId: deliveryId,
      isRedelivery: false,
      type,
      timestamp: Math.floor(Date.now() / 1000),
      storeId: inv.storeId,
      invoiceId: inv.id,
      metadata: inv.metadata,
      ...extra,
    });
    dispatcher.enqueue({
      url: webhookUrl,
      event: type,
      invoiceId: inv.id,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'BTCPayServer (simulator)',
        'BTCPay-Sig': `sha256=${hmacSha256Hex(webhookSecret, body)}`,
      },
    });
  }

  function markExpired(inv: BtcpayInvoice): void {
    if (inv.status !== 'New') return;
    inv.status = 'Expired';
    inv.cancelExpiry?.();
    const partiallyPaid = inv.additionalStatus === 'PaidPartial';
    emit(inv, 'InvoiceExpired', { partiallyPaid, paymentMethodId: partiallyPaid ? (inv.payments[0]?.method ?? null) : null });
    persist();
  }

  function find(id: string, store = storeId): BtcpayInvoice {
    const inv = invoices.get(id);
    if (!inv || inv.storeId !== store) throw new BtcpayError(404, 'invoice-not-found', 'The invoice was not found');
    refresh(inv);
    return inv;
  }

  function pay(id: string, method: BtcpayPaymentMethodId = 'BTC-LN', options: BtcpayPayOptions = {}): BtcpayInvoice {
    const inv = find(id);
    const late = inv.status === 'Expired' && options.afterExpiration === true && inv.additionalStatus !== 'PaidLate';
    if (inv.status === 'Expired' && !late) throw new BtcpayError(409, 'invoice-expired', 'The invoice has expired');
    if (inv.status !== 'New' && !late) throw new BtcpayError(409, 'invoice-not-payable', `The invoice is ${inv.status}`);
    const stillDue = Math.max(0, inv.sats - paidOf(inv));
    // A Lightning request has a fixed amount: it pays exactly what is still due.
    const sats = method === 'BTC-LN' || options.sats === undefined ? stillDue : options.sats;
    if (!Number.isSafeInteger(sats) || sats < 1) throw new BtcpayError(422, 'invalid-amount', 'sats must be a positive whole number');
    if (method === 'BTC-LN' && inv.payments.length > 0) throw new BtcpayError(409, 'invoice-not-payable', 'Lightning cannot top up a partial on-chain payment in this simulator');
    const destination = method === 'BTC-LN' ? inv.lightning.paymentRequest : inv.address;
    const receivedDate = Math.floor(Date.now() / 1000);
    const paymentId = method === 'BTC-LN' ? Buffer.from(inv.lightning.paymentHash).toString('hex') : `${randomBytes(32).toString('hex')}-${inv.payments.length}`;
    inv.payments.push({ id: paymentId, method, receivedDate, destination, sats });
    const total = paidOf(inv);
    const payment = { id: paymentId, receivedDate, value: btc(sats), fee: '0.0', status: options.processing ? 'Processing' : 'Settled', destination };
    const afterExpiration = inv.status === 'Expired';
    emit(inv, 'InvoiceReceivedPayment', { afterExpiration, paymentMethodId: method, payment });
    if (total < inv.sats) {
      inv.additionalStatus = 'PaidPartial';
    } else if (afterExpiration) {
      // BTCPay keeps a late invoice Expired and flags it PaidLate.
      inv.additionalStatus = 'PaidLate';
      emit(inv, 'InvoicePaymentSettled', { afterExpiration, paymentMethodId: method, payment });
    } else {
      inv.additionalStatus = total > inv.sats ? 'PaidOver' : 'None';
      inv.cancelExpiry?.();
      if (options.processing) {
        inv.status = 'Processing';
        emit(inv, 'InvoiceProcessing', { overPaid: total > inv.sats });
      } else {
        inv.status = 'Settled';
        emit(inv, 'InvoicePaymentSettled', { afterExpiration, paymentMethodId: method, payment });
        emit(inv, 'InvoiceSettled', { manuallyMarked: false, overPaid: total > inv.sats });
      }
    }
    persist();
    return inv;
  }

  function settle(id: string): BtcpayInvoice {
    const inv = find(id);
    if (inv.status !== 'Processing') throw new BtcpayError(409, 'invoice-not-processing', `The invoice is ${inv.status}`);
    inv.status = 'Settled';
    emit(inv, 'InvoiceSettled', { manuallyMarked: false, overPaid: inv.additionalStatus === 'PaidOver' });
    persist();
    return inv;
  }

  function sendError(reply: FastifyReply, err: unknown) {
    if (err instanceof BtcpayError) return reply.code(err.statusCode).send({ code: err.code, message: err.message });
    throw err;
  }

  // Greenfield authentication: `Authorization: token <apikey>`; the key only has rights on its store.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/v1/')) return;
    // Greenfield's public pull-payment routes (the claimant's) need no key.
    if (req.url.startsWith('/api/v1/pull-payments/')) return;
    const m = /^token\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (m?.[1] !== opts.apiKey) {
      return reply.code(401).send({ code: 'unauthenticated', message: 'Authentication is required for accessing this endpoint' });
    }
    const store = /^\/api\/v1\/stores\/([^/?]+)/.exec(req.url)?.[1];
    if (store !== undefined && decodeURIComponent(store) !== storeId) {
      return reply.code(403).send({ code: 'missing-permission', message: 'Insufficient API Permissions. Please use an API key with permission "btcpay.store.cancreateinvoice" or "btcpay.store.canviewinvoices" for this store.' });
    }
  });

  app.post<{ Params: { storeId: string } }>('/api/v1/stores/:storeId/invoices', async (req, reply) => {
    if (failCreates > 0) {
      failCreates--;
      return reply.code(503).send({ code: 'service-unavailable', message: 'Service temporarily unavailable' });
    }
    const body = asRecord(req.body);
    const amountNum = typeof body.amount === 'string' ? Number(body.amount) : body.amount;
    if (typeof amountNum !== 'number' || !Number.isFinite(amountNum) || amountNum <= 0) {
      // BTCPay answers validation problems with 422 and a list of {path, message}.
      return reply.code(422).send([{ path: 'amount', message: 'Amount should be a positive number (top-up invoices are not simulated)' }]);
    }
    const currency = typeof body.currency === 'string' && body.currency ? body.currency.toUpperCase() : (opts.defaultCurrency ?? 'CHF');
    const rate = rates[currency];
    if (rate === undefined) return reply.code(422).send([{ path: 'currency', message: `Currency ${currency} is not supported by the simulator` }]);
    const sats = Math.round(amountNum * rate);
    if (sats < 1) return reply.code(422).send([{ path: 'amount', message: 'Amount is below 1 sat' }]);
    const reqCheckout = asRecord(body.checkout);
    const expirationMinutes =
      typeof reqCheckout.expirationMinutes === 'number' && reqCheckout.expirationMinutes > 0 ? reqCheckout.expirationMinutes : (opts.defaultExpirationMinutes ?? 15);
    const monitoringMinutes = typeof reqCheckout.monitoringMinutes === 'number' ? reqCheckout.monitoringMinutes : 1440;
    const now = Date.now();
    const createdTime = Math.floor(now / 1000);
    const expirationSeconds = Math.max(1, Math.round(expirationMinutes * 60));
    const metadata = asRecord(body.metadata);
    const id = base58Id(22);
    const description = typeof metadata.itemDesc === 'string' ? metadata.itemDesc : typeof metadata.orderId === 'string' ? `Order ${metadata.orderId}` : `Invoice ${id}`;
    const inv: BtcpayInvoice = {
      id,
      storeId,
      amount: typeof body.amount === 'string' ? body.amount : String(amountNum),
      currency,
      sats,
      metadata,
      checkout: {
        speedPolicy: 'MediumSpeed',
        paymentMethods: ['BTC-CHAIN', 'BTC-LN'],
        defaultPaymentMethod: 'BTC-CHAIN',
        lazyPaymentMethods: false,
        expirationMinutes,
        monitoringMinutes,
        paymentTolerance: 0,
        redirectURL: null,
        redirectAutomatically: false,
        requiresRefundEmail: null,
        checkoutType: null,
        defaultLanguage: null,
        ...reqCheckout,
      },
      receipt: { enabled: true, showQR: null, showPayments: null, ...asRecord(body.receipt) },
      createdTime,
      expirationTime: createdTime + expirationSeconds,
      monitoringExpiration: createdTime + expirationSeconds + Math.round(monitoringMinutes * 60),
      status: 'New',
      additionalStatus: 'None',
      payments: [],
      lightning: createLightningInvoice({
        amountSats: sats,
        description,
        expirySeconds: expirationSeconds,
        network: opts.bolt11Network ?? 'bc',
        privateKey: nodeKey,
        timestamp: createdTime,
      }),
      address: randomSegwitAddress(opts.onChainHrp ?? 'bcrt'),
    };
    inv.cancelExpiry = unrefTimeout(() => markExpired(inv), inv.expirationTime * 1000 - now);
    invoices.set(id, inv);
    emit(inv, 'InvoiceCreated');
    persist();
    return reply.send(invoiceJson(inv, req));
  });

  app.get<{ Params: { storeId: string } }>('/api/v1/stores/:storeId/invoices', async (req, reply) => {
    const list = [...invoices.values()].filter((inv) => inv.storeId === storeId).reverse();
    return reply.send(list.map((inv) => invoiceJson(inv, req)));
  });

  app.get<{ Params: { storeId: string; invoiceId: string } }>('/api/v1/stores/:storeId/invoices/:invoiceId', async (req, reply) => {
    try {
      return reply.send(invoiceJson(find(req.params.invoiceId), req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get<{ Params: { storeId: string; invoiceId: string } }>('/api/v1/stores/:storeId/invoices/:invoiceId/payment-methods', async (req, reply) => {
    try {
      return reply.send(paymentMethodsJson(find(req.params.invoiceId)));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { storeId: string; invoiceId: string } }>('/api/v1/stores/:storeId/invoices/:invoiceId/status', async (req, reply) => {
    try {
      const inv = find(req.params.invoiceId);
      const status = asRecord(req.body).status;
      if (status !== 'Settled' && status !== 'Invalid') return reply.code(422).send([{ path: 'status', message: 'Status can only be Settled or Invalid' }]);
      if (inv.status !== status) {
        inv.status = status;
        inv.additionalStatus = 'Marked';
        inv.cancelExpiry?.();
        if (status === 'Settled') emit(inv, 'InvoiceSettled', { manuallyMarked: true, overPaid: false });
        else emit(inv, 'InvoiceInvalid', { manuallyMarked: true });
        persist();
      }
      return reply.send(invoiceJson(inv, req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  function pullPaymentJson(pp: BtcpayPullPayment, req?: FastifyRequest): Record<string, unknown> {
    return {
      id: pp.id,
      name: pp.name,
      description: pp.description,
      currency: 'BTC',
      amount: satsToBtcString(pp.sats),
      period: null,
      BOLT11Expiration: '30',
      autoApproveClaims: false,
      archived: false,
      startsAt: pp.startsAt,
      expiresAt: null,
      viewLink: `${base(req)}/pull-payments/${pp.id}`,
    };
  }

  function payoutJson(pp: BtcpayPullPayment, p: BtcpayPullPayment['payouts'][number]): Record<string, unknown> {
    return {
      id: p.id,
      revision: 0,
      pullPaymentId: pp.id,
      date: p.date,
      destination: 'bcrt1q-claimed-by-the-patient',
      originalCurrency: 'BTC',
      originalAmount: satsToBtcString(p.sats),
      payoutCurrency: 'BTC',
      payoutAmount: satsToBtcString(p.sats),
      amount: satsToBtcString(p.sats),
      payoutMethodId: 'BTC-CHAIN',
      state: p.state,
      paymentProof: p.transactionId ? { proofType: 'PayoutTransactionOnChainBlob', transactionId: p.transactionId } : null,
    };
  }

  function findPullPayment(id: string): BtcpayPullPayment {
    const pp = pullPayments.get(id);
    if (!pp) throw new BtcpayError(404, 'pullpayment-not-found', 'The pull payment was not found');
    return pp;
  }

  function payPullPayment(id: string): BtcpayPullPayment {
    const pp = findPullPayment(id);
    const claimed = pp.payouts.reduce((n, p) => n + p.sats, 0);
    if (claimed >= pp.sats) throw new BtcpayError(409, 'pullpayment-fully-claimed', 'Nothing is left to claim');
    pp.payouts.push({ id: base58Id(22), state: 'Completed', sats: pp.sats - claimed, date: Math.floor(Date.now() / 1000), transactionId: randomBytes(32).toString('hex') });
    return pp;
  }

  // Greenfield's invoice refund: a pull payment of what the variant says, which the payer claims.
  app.post<{ Params: { storeId: string; invoiceId: string } }>('/api/v1/stores/:storeId/invoices/:invoiceId/refund', async (req, reply) => {
    try {
      const inv = find(req.params.invoiceId);
      const body = asRecord(req.body);
      const known = new Set(['name', 'description', 'payoutMethodId', 'refundVariant', 'subtractPercentage', 'customAmount', 'customCurrency']);
      const unknown = Object.keys(body).find((k) => !known.has(k));
      if (unknown) return reply.code(400).send([{ path: unknown, message: `${unknown} is not a field of this request` }]);
      if (typeof body.refundVariant !== 'string' || !REFUND_VARIANTS.includes(body.refundVariant)) {
        return reply.code(400).send([{ path: 'refundVariant', message: `refundVariant must be one of ${REFUND_VARIANTS.join(', ')}` }]);
      }
      const paid = paidOf(inv);
      if (paid === 0) return reply.code(400).send([{ path: 'refundVariant', message: 'The invoice has no payment to refund' }]);
      const rate = rates[inv.currency] ?? rates[inv.currency.toUpperCase()] ?? 1;
      let sats: number;
      switch (body.refundVariant) {
        case 'Custom': {
          const amount = typeof body.customAmount === 'string' ? Number(body.customAmount) : Number.NaN;
          const currency = typeof body.customCurrency === 'string' ? body.customCurrency.toUpperCase() : '';
          const unit = rates[currency];
          if (!(amount > 0) || unit === undefined) return reply.code(400).send([{ path: 'customAmount', message: 'customAmount (a positive decimal) and a supported customCurrency are required for Custom' }]);
          sats = Math.round(amount * unit);
          break;
        }
        case 'OverpaidAmount':
          sats = paid - inv.sats;
          if (sats <= 0) return reply.code(400).send([{ path: 'refundVariant', message: 'The invoice was not overpaid' }]);
          break;
        case 'Fiat':
          sats = Math.round(Number(inv.amount) * rate);
          break;
        default:
          sats = paid;
      }
      if (sats > paid) return reply.code(400).send([{ path: 'customAmount', message: 'The refund exceeds what the invoice received (simulator rule)' }]);
      const pp: BtcpayPullPayment = {
        id: base58Id(22),
        name: typeof body.name === 'string' && body.name ? body.name : `Refund ${inv.id}`,
        description: typeof body.description === 'string' ? body.description : '',
        invoiceId: inv.id,
        sats,
        startsAt: Math.floor(Date.now() / 1000),
        payouts: [],
      };
      pullPayments.set(pp.id, pp);
      return reply.send(pullPaymentJson(pp, req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get<{ Params: { storeId: string } }>('/api/v1/stores/:storeId/pull-payments', async (req, reply) => reply.send([...pullPayments.values()].map((pp) => pullPaymentJson(pp, req))));

  app.get<{ Params: { pullPaymentId: string } }>('/api/v1/pull-payments/:pullPaymentId', async (req, reply) => {
    try {
      return reply.send(pullPaymentJson(findPullPayment(req.params.pullPaymentId), req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get<{ Params: { pullPaymentId: string } }>('/api/v1/pull-payments/:pullPaymentId/payouts', async (req, reply) => {
    try {
      const pp = findPullPayment(req.params.pullPaymentId);
      return reply.send(pp.payouts.map((p) => payoutJson(pp, p)));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  // The claim page (viewLink) and, for tests and the web client, the claim paid at once.
  app.get<{ Params: { pullPaymentId: string } }>('/pull-payments/:pullPaymentId', async (req, reply) => {
    try {
      const pp = findPullPayment(req.params.pullPaymentId);
      return reply.send({ ...pullPaymentJson(pp, req), payouts: pp.payouts.map((p) => payoutJson(pp, p)) });
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { pullPaymentId: string } }>('/pull-payments/:pullPaymentId/pay', async (req, reply) => {
    try {
      return reply.send(pullPaymentJson(payPullPayment(req.params.pullPaymentId), req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get<{ Params: { invoiceId: string } }>('/i/:invoiceId', async (req, reply) => {
    try {
      const inv = find(req.params.invoiceId);
      const json = invoiceJson(inv, req);
      if (!wantsHtml(req)) return reply.send(json);
      return reply.type('text/html; charset=utf-8').send(checkoutPage(inv, paymentMethodsJson(inv)));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { invoiceId: string } }>('/i/:invoiceId/pay', async (req, reply) => {
    try {
      const body = asRecord(req.body);
      const inv = pay(req.params.invoiceId, body.paymentMethodId === 'BTC-CHAIN' ? 'BTC-CHAIN' : 'BTC-LN', payOptions(body));
      if (isFormPost(req)) {
        const redirect = typeof inv.checkout.redirectURL === 'string' && inv.checkout.redirectURL ? inv.checkout.redirectURL : `${base(req)}/i/${inv.id}`;
        return reply.redirect(redirect.replace('{InvoiceId}', inv.id).replace('{OrderId}', String(inv.metadata.orderId ?? '')), 303);
      }
      return reply.send(invoiceJson(inv, req));
    } catch (err) {
      if (isFormPost(req) && err instanceof BtcpayError && err.statusCode !== 404) return reply.redirect(`${base(req)}/i/${encodeURIComponent(req.params.invoiceId)}`, 303);
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { invoiceId: string } }>('/i/:invoiceId/settle', async (req, reply) => {
    try {
      return reply.send(invoiceJson(settle(req.params.invoiceId), req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { invoiceId: string } }>('/i/:invoiceId/expire', async (req, reply) => {
    try {
      const inv = find(req.params.invoiceId);
      if (inv.status !== 'New') throw new BtcpayError(409, 'invoice-not-expirable', `The invoice is ${inv.status}`);
      markExpired(inv);
      return reply.send(invoiceJson(inv, req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  return {
    app,
    listen: server.listen,
    close: server.close,
    get baseUrl() {
      return server.baseUrl;
    },
    setLatencyMs: server.setLatencyMs,
    failFor: server.failFor,
    exemptFromOutage: server.exemptFromOutage,
    storeId,
    get deliveries() {
      return dispatcher.deliveries;
    },
    waitForWebhooks: () => dispatcher.idle(),
    setWebhook(url, secret) {
      webhookUrl = url;
      if (secret !== undefined) webhookSecret = secret;
    },
    failNextCreates(n: number) {
      failCreates = Math.max(0, n);
    },
    getInvoice(id: string) {
      const inv = invoices.get(id);
      return inv && invoiceJson(inv);
    },
    pay: (id, method, options) => invoiceJson(pay(id, method, options)),
    settle: (id) => invoiceJson(settle(id)),
    expire(id: string) {
      const inv = find(id);
      if (inv.status !== 'New') throw new BtcpayError(409, 'invoice-not-expirable', `The invoice is ${inv.status}`);
      markExpired(inv);
      return invoiceJson(inv);
    },
    listPullPayments: () => [...pullPayments.values()].map((pp) => pullPaymentJson(pp)),
    payPullPayment: (id) => pullPaymentJson(payPullPayment(id)),
    reset() {
      for (const inv of invoices.values()) inv.cancelExpiry?.();
      invoices.clear();
      pullPayments.clear();
      dispatcher.reset();
      failCreates = 0;
      server.setLatencyMs(0);
      persist();
    },
    resumeWebhooks: () => dispatcher.resume(),
  };
}

const paidOf = (inv: BtcpayInvoice) => inv.payments.reduce((n, p) => n + p.sats, 0);

/** 30000 → "0.0003" (Greenfield decimals). */
const satsToBtcString = (sats: number) => (sats / 100_000_000).toFixed(8).replace(/\.?0+$/, '');

/** Pay options from a JSON or form body (form values are strings). */
function payOptions(body: Record<string, unknown>): BtcpayPayOptions {
  const sats = typeof body.sats === 'string' && /^\d{1,15}$/.test(body.sats) ? Number(body.sats) : body.sats;
  const flag = (v: unknown) => v === true || v === 'true';
  return {
    ...(sats === undefined || sats === '' ? {} : { sats: typeof sats === 'number' ? sats : Number.NaN }),
    ...(flag(body.processing) ? { processing: true } : {}),
    ...(flag(body.afterExpiration) ? { afterExpiration: true } : {}),
  };
}

function checkoutPage(inv: BtcpayInvoice, methods: Record<string, unknown>[]): string {
  const payable = inv.status === 'New';
  const form = (pm: BtcpayPaymentMethodId, label: string, testId: string) =>
    `<form method="post" action="/i/${escapeHtml(inv.id)}/pay"><input type="hidden" name="paymentMethodId" value="${pm}"><button type="submit" id="${testId}" data-testid="${testId}">${label}</button></form>`;
  const rows = methods
    .map((m) => `<details><summary>${escapeHtml(m.paymentMethodId)} — ${escapeHtml(m.amount)} BTC</summary><code>${escapeHtml(m.destination)}</code></details>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice ${escapeHtml(inv.id)} – BTCPay Server (simulator)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}code{word-break:break-all;font-size:.75rem}
button{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem 0;cursor:pointer}</style></head>
<body>
<p><small>BTCPay Server — local simulator, no real money moves.</small></p>
<h1 data-testid="amount">${escapeHtml(inv.amount)} ${escapeHtml(inv.currency)}</h1>
<p>${escapeHtml(btc(inv.sats))} BTC · Status: <strong data-testid="status" data-status="${escapeHtml(inv.status)}">${escapeHtml(inv.status)}</strong></p>
${payable ? form('BTC-LN', 'Pay with Lightning', 'pay') + form('BTC-CHAIN', 'Pay on-chain', 'pay-onchain') : ''}
${rows}
</body></html>`;
}
