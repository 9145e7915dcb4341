// Swiss Bitcoin Pay merchant API simulator (https://docs.swiss-bitcoin-pay.ch, "Merchant's API" 1.3.0).
//
// Real endpoints: POST /checkout (header api-key), GET /checkout/:id (no key needed, as on the real API)
// and GET /transaction-limit/:currency (answer shape {currency, min, max} assumed: not in the public docs).
// Simulator-only endpoints: the HTML checkout page (GET /checkout/:id with Accept: text/html),
// POST /checkout/:id/pay (body: method, sats — on-chain only: less than due = underpaid, more =
// over-paid), POST /checkout/:id/pending (a payment in flight: isPending), POST /checkout/:id/cancel
// and POST /checkout/:id/expire.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLightningInvoice, randomSegwitAddress, type AddressHrp, type Bolt11Network, type LightningInvoice } from './bolt11';
import { randomPrivateKey, getPublicKey } from './secp256k1';
import { asRecord, createServer, escapeHtml, isFormPost, publicBase, unrefTimeout, wantsHtml, type SimulatorServer } from './server';
import { keyFromHex, keyToHex, lightningFromJson, lightningToJson, StateFile, type LightningInvoiceJson } from './state-file';
import { hmacSha256Hex, WebhookDispatcher, type WebhookDelivery, type WebhookFaults, type WebhookRequest } from './webhooks';

export interface SwissBitcoinPaySimulatorOptions {
  /** Value the `api-key` header must carry on POST /checkout. */
  apiKey: string;
  /** Key of the HMAC-SHA256 in the `sbp-sig` webhook header (the dashboard's "API secret"). */
  apiSecret: string;
  /** Base of checkoutUrl; defaults to the listening URL. */
  publicBaseUrl?: string;
  /** Satoshis per 1 unit, merged over the defaults (CHF/EUR/USD/GBP 1000, sat 1, BTC 100 000 000). */
  satsPerUnit?: Record<string, number>;
  /** Unit used when the request has none ("your account's default currency"). Default CHF. */
  defaultUnit?: string;
  /** Minutes to pay when `delay` is absent; the real default is 10. */
  defaultDelayMinutes?: number;
  /** BOLT 11 prefix of `pr`: 'bc' gives lnbc… (default). */
  bolt11Network?: Bolt11Network;
  /** Human-readable part of `onChainAddr`: default 'bcrt' (regtest). */
  onChainHrp?: AddressHrp;
  /** Waits between webhook attempts; default [250, 1000, 4000] (4 attempts). */
  webhookRetryDelaysMs?: number[];
  /** Per-attempt webhook timeout, default 5000 ms. */
  webhookTimeoutMs?: number;
  merchantName?: string;
  logger?: boolean;
  /**
   * JSON file keeping the invoices, the node key and the webhooks not yet delivered across
   * restarts; saved on every change, loaded at creation. Without it, everything is in memory.
   */
  stateFile?: string;
  /** Queue webhooks without sending them until resumeWebhooks() (e.g. until the receiver is up). */
  webhooksPaused?: boolean;
  /** What GET /transaction-limit/:currency answers, per currency; default min 1, max 10 000 of each unit. */
  transactionLimits?: Record<string, SbpTransactionLimit>;
}

/** The amounts a checkout may ask for, in the currency's units (POST /checkout refuses others with 400). */
export interface SbpTransactionLimit {
  min: number;
  max: number;
}

export type SbpStatus = 'open' | 'pending' | 'unconfirmed' | 'underpaid' | 'settled' | 'expired' | 'canceled';
export type SbpPaymentMethod = 'lightning' | 'onchain';

/** The invoice as GET /checkout/:id and the webhook present it. */
export interface SbpInvoiceJson {
  id: string;
  title: string;
  description: string | null;
  /** Satoshis, as the real API (93997 for a 93 997 sat invoice). */
  amount: number;
  /** The amount and unit requested at creation. */
  input: { unit: string; amount: number };
  status: SbpStatus;
  isPaid: boolean;
  isExpired: boolean;
  /** A payment is in flight. */
  isPending: boolean;
  /** Unix seconds. */
  time: number;
  createdAt: number;
  /** Seconds allowed to pay. */
  delay: number;
  /** Unix seconds at which the invoice expires. */
  expiry: number;
  paidAt: number | null;
  paymentMethod: SbpPaymentMethod | null;
  pr: string;
  onChainAddr: string | null;
  checkoutUrl: string;
  paymentDetails: Record<string, unknown>[];
  merchantName: string;
  grossAmount: number | null;
  device: Record<string, unknown>;
  extra: Record<string, unknown>;
  redirectAfterPaid?: string;
}

interface SbpInvoice {
  id: string;
  title: string;
  description: string | null;
  unit: string;
  inputAmount: number;
  amountSats: number;
  createdAtMs: number;
  delayMs: number;
  status: SbpStatus;
  paidAtMs?: number;
  /** Satoshis received on-chain (several payments add up while underpaid). */
  paidSats?: number;
  /** An underpaid checkout whose time ran out (it keeps the status underpaid). */
  ended?: boolean;
  paymentMethod?: SbpPaymentMethod;
  txId?: string;
  lightning: LightningInvoice;
  onChainAddr?: string;
  webhook?: { url: string; headers: Record<string, string> };
  extra: Record<string, unknown>;
  device: Record<string, unknown>;
  redirectAfterPaid?: string;
  cancelExpiry?: () => void;
}

type SbpInvoiceState = Omit<SbpInvoice, 'lightning' | 'cancelExpiry'> & { lightning: LightningInvoiceJson };

/** What the state file holds. */
interface SbpState {
  nodeKey: string;
  invoices: SbpInvoiceState[];
  webhooks: WebhookRequest[];
}

export interface SwissBitcoinPaySimulator extends Omit<SimulatorServer, 'onClose'> {
  /** Every webhook delivery with its attempts (status codes, errors). */
  readonly deliveries: readonly WebhookDelivery[];
  /** Resolves when all queued webhook deliveries (with retries) are finished. */
  waitForWebhooks(): Promise<void>;
  /** The next n POST /checkout answer 503. */
  failNextCreates(n: number): void;
  /** Invoice as the API shows it, or undefined. */
  getInvoice(id: string): SbpInvoiceJson | undefined;
  listInvoices(): SbpInvoiceJson[];
  /** Same as POST /checkout/:id/pay. Throws if unknown, expired or already paid. */
  pay(id: string, method?: SbpPaymentMethod): SbpInvoiceJson;
  /** Same as POST /checkout/:id/pay with a `sats` body: an on-chain payment of that many sats. */
  payOnchain(id: string, sats: number): SbpInvoiceJson;
  /** Same as POST /checkout/:id/pending. */
  markPending(id: string): SbpInvoiceJson;
  /** Same as POST /checkout/:id/cancel. */
  cancel(id: string): SbpInvoiceJson;
  /** Same as POST /checkout/:id/expire. */
  expire(id: string): SbpInvoiceJson;
  /** Compressed public key (hex) of the simulated Lightning node that signs every `pr`. */
  readonly nodePubkey: string;
  /** Forgets invoices and deliveries, clears failure injection and latency. */
  reset(): void;
  /** Sends the webhooks held since creation with `webhooksPaused` (restored ones included). */
  resumeWebhooks(): void;
  /** Delays and/or duplicates the webhooks sent from now on ({} = none). */
  setWebhookFaults(faults: WebhookFaults): void;
  /** Changes what GET /transaction-limit/:currency answers (and POST /checkout enforces). */
  setTransactionLimit(currency: string, limit: SbpTransactionLimit): void;
}

const DEFAULT_SATS_PER_UNIT: Record<string, number> = { CHF: 1000, EUR: 1000, USD: 1000, GBP: 1000, sat: 1, sats: 1, BTC: 100_000_000 };

class SbpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function createSwissBitcoinPaySimulator(opts: SwissBitcoinPaySimulatorOptions): SwissBitcoinPaySimulator {
  const server = createServer({ logger: opts.logger });
  const { app } = server;
  const rates = { ...DEFAULT_SATS_PER_UNIT, ...(opts.satsPerUnit ?? {}) };
  const store = opts.stateFile ? new StateFile<SbpState>(opts.stateFile) : undefined;
  const saved = store?.load();
  const nodeKey = saved ? keyFromHex(saved.nodeKey) : randomPrivateKey();
  const nodePubkey = Buffer.from(getPublicKey(nodeKey)).toString('hex');
  const invoices = new Map<string, SbpInvoice>();
  let closing = false;
  const dispatcher = new WebhookDispatcher({
    retryDelaysMs: opts.webhookRetryDelaysMs ?? [250, 1000, 4000],
    timeoutMs: opts.webhookTimeoutMs ?? 5000,
    paused: opts.webhooksPaused,
    onFinished: () => persist(),
  });
  let failCreates = 0;
  const limits = new Map<string, SbpTransactionLimit>(Object.entries(opts.transactionLimits ?? {}).map(([c, l]) => [c.toUpperCase(), l]));
  const limitOf = (unit: string): SbpTransactionLimit => limits.get(unit.toUpperCase()) ?? { min: 1, max: 10_000 };
  // The payer's side (pay, expire) is not the merchant API: an outage leaves it working.
  server.exemptFromOutage(/^\/checkout\/[^/?]+\/(pay|expire|pending|cancel)(\?|$)/);
  server.onClose(() => {
    closing = true; // what close() interrupts stays as last saved (pending webhooks are sent after a restart)
    dispatcher.close();
    for (const inv of invoices.values()) inv.cancelExpiry?.();
  });

  /** Saves the whole state after a change (before the change is answered or announced). */
  function persist(): void {
    if (!store || closing) return;
    store.save({
      nodeKey: keyToHex(nodeKey),
      invoices: [...invoices.values()].map(({ cancelExpiry: _timer, lightning, ...inv }) => ({ ...inv, lightning: lightningToJson(lightning) })),
      webhooks: dispatcher.unfinished(),
    });
  }

  const base = (req?: FastifyRequest) => publicBase(opts.publicBaseUrl, server, req);
  const checkoutUrl = (inv: SbpInvoice, req?: FastifyRequest) => `${base(req)}/checkout/${inv.id}`;

  // A restart: the invoices again, their expiry timers re-armed, undelivered webhooks queued again.
  for (const { lightning, ...rest } of saved?.invoices ?? []) {
    const inv: SbpInvoice = { ...rest, lightning: lightningFromJson(lightning) };
    invoices.set(inv.id, inv);
    if (payable(inv)) inv.cancelExpiry = unrefTimeout(() => markExpired(inv), inv.createdAtMs + inv.delayMs - Date.now());
  }
  for (const webhook of saved?.webhooks ?? []) dispatcher.enqueue(webhook);
  persist();

  function refresh(inv: SbpInvoice): void {
    if (payable(inv) && Date.now() >= inv.createdAtMs + inv.delayMs) markExpired(inv);
  }

  function toJson(inv: SbpInvoice, req?: FastifyRequest): SbpInvoiceJson {
    refresh(inv);
    const sec = (ms: number) => Math.floor(ms / 1000);
    const paidAt = inv.paidAtMs === undefined ? null : sec(inv.paidAtMs);
    const lightningDetail: Record<string, unknown> = {
      network: 'lightning',
      paymentRequest: inv.lightning.paymentRequest,
      hash: Buffer.from(inv.lightning.paymentHash).toString('base64'),
    };
    if (inv.paymentMethod === 'lightning') {
      Object.assign(lightningDetail, { preimage: Buffer.from(inv.lightning.preimage).toString('hex'), amount: inv.amountSats * 1000, paidAt });
    }
    const details: Record<string, unknown>[] = [lightningDetail];
    if (inv.onChainAddr) {
      const onchain: Record<string, unknown> = { network: 'onchain', address: inv.onChainAddr };
      if (inv.paymentMethod === 'onchain') {
        Object.assign(onchain, { txId: inv.txId, vout_index: 0, amount: inv.paidSats ?? inv.amountSats, confirmations: 1, minConfirmations: 1, paidAt });
      }
      details.push(onchain);
    }
    const json: SbpInvoiceJson = {
      id: inv.id,
      title: inv.title,
      description: inv.description,
      amount: inv.amountSats,
      input: { unit: inv.unit, amount: inv.inputAmount },
      status: inv.status,
      isPaid: inv.status === 'settled',
      isExpired: inv.status === 'expired' || inv.ended === true,
      isPending: inv.status === 'pending',
      time: sec(inv.createdAtMs),
      createdAt: sec(inv.createdAtMs),
      delay: Math.round(inv.delayMs / 1000),
      expiry: sec(inv.createdAtMs + inv.delayMs),
      paidAt,
      paymentMethod: inv.paymentMethod ?? null,
      pr: inv.lightning.paymentRequest,
      onChainAddr: inv.onChainAddr ?? null,
      checkoutUrl: checkoutUrl(inv, req),
      paymentDetails: details,
      merchantName: opts.merchantName ?? 'CryptoCare (simulated)',
      grossAmount: null,
      device: inv.device,
      extra: inv.extra,
    };
    // Revealed only once settled, as the real API does.
    if (inv.status === 'settled' && inv.redirectAfterPaid) json.redirectAfterPaid = inv.redirectAfterPaid;
    return json;
  }

  function sendWebhook(inv: SbpInvoice): void {
    if (!inv.webhook) return;
    const body = JSON.stringify(toJson(inv));
    dispatcher.enqueue({
      url: inv.webhook.url,
      event: inv.status,
      invoiceId: inv.id,
      body,
      headers: {
        ...inv.webhook.headers,
        'content-type': 'application/json',
        'sbp-sig': `sha256=${hmacSha256Hex(opts.apiSecret, body)}`,
      },
    });
  }

  function markExpired(inv: SbpInvoice): void {
    if (!payable(inv)) return;
    // An underpaid checkout stays underpaid, now expired: what came in is the merchant's to return.
    if (inv.status === 'underpaid') inv.ended = true;
    else inv.status = 'expired';
    inv.cancelExpiry?.();
    sendWebhook(inv);
    persist();
  }

  function find(id: string): SbpInvoice {
    const inv = invoices.get(id);
    if (!inv) throw new SbpError(404, 'Invoice not found');
    refresh(inv);
    return inv;
  }

  function pay(id: string, method: SbpPaymentMethod = 'lightning', sats?: number): SbpInvoice {
    const inv = find(id);
    if (inv.status === 'expired' || inv.ended) throw new SbpError(409, 'Invoice expired');
    if (inv.status === 'canceled') throw new SbpError(409, 'Invoice canceled');
    if (inv.status === 'settled') throw new SbpError(409, 'Invoice already paid');
    if (method === 'onchain' && !inv.onChainAddr) throw new SbpError(400, 'Onchain payment is not enabled for this invoice');
    if (sats !== undefined && (method !== 'onchain' || !Number.isSafeInteger(sats) || sats < 1)) {
      throw new SbpError(400, 'sats: a positive whole number, for an on-chain payment only (Lightning pays the requested amount)');
    }
    if (inv.status === 'underpaid' && method !== 'onchain') throw new SbpError(409, 'An underpaid invoice is completed on-chain');
    const received = (inv.paidSats ?? 0) + (sats ?? inv.amountSats - (inv.paidSats ?? 0));
    inv.paymentMethod = method;
    inv.paidAtMs = Date.now();
    if (method === 'onchain') {
      inv.txId = randomBytes(32).toString('hex');
      inv.paidSats = received;
    }
    if (method === 'onchain' && received < inv.amountSats) {
      inv.status = 'underpaid'; // still payable until its expiry
    } else {
      inv.status = 'settled';
      inv.cancelExpiry?.();
    }
    sendWebhook(inv);
    persist();
    return inv;
  }

  function markPending(id: string): SbpInvoice {
    const inv = find(id);
    if (inv.status !== 'open') throw new SbpError(409, `Invoice is ${inv.status}`);
    inv.status = 'pending';
    sendWebhook(inv);
    persist();
    return inv;
  }

  function cancel(id: string): SbpInvoice {
    const inv = find(id);
    if (inv.status !== 'open' && inv.status !== 'pending') throw new SbpError(409, `Invoice is ${inv.status}`);
    inv.status = 'canceled';
    inv.cancelExpiry?.();
    sendWebhook(inv);
    persist();
    return inv;
  }

  function sendError(reply: FastifyReply, err: unknown) {
    if (err instanceof SbpError) return reply.code(err.statusCode).send({ reason: err.message });
    throw err;
  }

  function parseWebhook(value: unknown): SbpInvoice['webhook'] {
    if (typeof value === 'string' && value) return { url: value, headers: {} };
    const obj = asRecord(value);
    if (typeof obj.url !== 'string' || !obj.url) return undefined;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(obj.headers))) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    return { url: obj.url, headers };
  }

  app.post('/checkout', async (req, reply) => {
    if (req.headers['api-key'] !== opts.apiKey) return reply.code(401).send({ reason: 'Invalid API key' });
    if (failCreates > 0) {
      failCreates--;
      return reply.code(503).send({ reason: 'Service temporarily unavailable' });
    }
    const body = asRecord(req.body);
    if (typeof body.title !== 'string' || body.title.trim() === '') return reply.code(400).send({ reason: '"title" is required' });
    const amount = typeof body.amount === 'string' ? Number(body.amount) : body.amount;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) {
      return reply.code(400).send({ reason: '"amount" must be a positive number' });
    }
    const unit = typeof body.unit === 'string' && body.unit ? body.unit : (opts.defaultUnit ?? 'CHF');
    const rate = rates[unit] ?? rates[unit.toUpperCase()];
    if (rate === undefined) return reply.code(400).send({ reason: `Unsupported unit "${unit}"` });
    const limit = rate === 1 || rate === 100_000_000 ? undefined : limitOf(unit);
    if (limit && (amount < limit.min || amount > limit.max)) {
      return reply.code(400).send({ reason: `Amount must be between ${limit.min} and ${limit.max} ${unit}` });
    }
    const amountSats = Math.round(amount * rate);
    if (amountSats < 1) return reply.code(400).send({ reason: 'Amount is below 1 sat' });
    const delayMinutes = typeof body.delay === 'number' && body.delay > 0 ? body.delay : (opts.defaultDelayMinutes ?? 10);
    // Fractions of a minute are honoured (tests use e.g. 0.002 = 120 ms).
    const delayMs = Math.max(1, Math.round(delayMinutes * 60_000));
    const description = typeof body.description === 'string' && body.description ? body.description : null;
    const createdAtMs = Date.now();

    const inv: SbpInvoice = {
      id: randomUUID(),
      title: body.title,
      description,
      unit,
      inputAmount: amount,
      amountSats,
      createdAtMs,
      delayMs,
      status: 'open',
      lightning: createLightningInvoice({
        amountSats,
        description: description ? `${body.title} - ${description}` : body.title,
        expirySeconds: Math.max(1, Math.ceil(delayMs / 1000)),
        network: opts.bolt11Network ?? 'bc',
        privateKey: nodeKey,
        timestamp: Math.floor(createdAtMs / 1000),
      }),
      onChainAddr: body.onChain === true ? randomSegwitAddress(opts.onChainHrp ?? 'bcrt') : undefined,
      webhook: parseWebhook(body.webhook),
      extra: asRecord(body.extra),
      device: asRecord(body.device),
      redirectAfterPaid: typeof body.redirectAfterPaid === 'string' ? body.redirectAfterPaid : undefined,
    };
    inv.cancelExpiry = unrefTimeout(() => markExpired(inv), delayMs);
    invoices.set(inv.id, inv);
    persist();

    const url = checkoutUrl(inv, req);
    if (body.redirect === true) return reply.redirect(url, 302);
    const created: Record<string, string> = { id: inv.id, pr: inv.lightning.paymentRequest, checkoutUrl: url };
    if (inv.onChainAddr) created.onChainAddr = inv.onChainAddr;
    return reply.code(201).send(created);
  });

  app.get<{ Params: { currency: string } }>('/transaction-limit/:currency', async (req, reply) => {
    const currency = req.params.currency.toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency) || rates[currency] === undefined) return reply.code(404).send({ reason: 'Unknown currency' });
    return reply.send({ currency, ...limitOf(currency) });
  });

  app.get<{ Params: { id: string } }>('/checkout/:id', async (req, reply) => {
    try {
      const inv = find(req.params.id);
      if (wantsHtml(req)) return reply.type('text/html; charset=utf-8').send(checkoutPage(toJson(inv, req)));
      return reply.send(toJson(inv, req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { id: string } }>('/checkout/:id/pay', async (req, reply) => {
    try {
      const body = asRecord(req.body);
      const method: SbpPaymentMethod = body.method === 'onchain' ? 'onchain' : 'lightning';
      const raw = typeof body.sats === 'string' && body.sats !== '' ? Number(body.sats) : body.sats;
      if (raw !== undefined && raw !== '' && typeof raw !== 'number') throw new SbpError(400, 'sats must be a number');
      const inv = pay(req.params.id, method, typeof raw === 'number' ? raw : undefined);
      if (isFormPost(req)) return reply.redirect(inv.redirectAfterPaid ?? checkoutUrl(inv, req), 303);
      return reply.send(toJson(inv, req));
    } catch (err) {
      if (isFormPost(req) && err instanceof SbpError && err.statusCode !== 404) {
        return reply.redirect(`${base(req)}/checkout/${encodeURIComponent(req.params.id)}`, 303);
      }
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { id: string } }>('/checkout/:id/pending', async (req, reply) => {
    try {
      return reply.send(toJson(markPending(req.params.id), req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { id: string } }>('/checkout/:id/cancel', async (req, reply) => {
    try {
      return reply.send(toJson(cancel(req.params.id), req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post<{ Params: { id: string } }>('/checkout/:id/expire', async (req, reply) => {
    try {
      const inv = find(req.params.id);
      if (inv.status === 'settled') throw new SbpError(409, 'Invoice already paid');
      markExpired(inv);
      return reply.send(toJson(inv, req));
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
    setWebhookFaults: (faults) => dispatcher.setFaults(faults),
    setTransactionLimit: (currency, limit) => void limits.set(currency.toUpperCase(), limit),
    get deliveries() {
      return dispatcher.deliveries;
    },
    waitForWebhooks: () => dispatcher.idle(),
    failNextCreates(n: number) {
      failCreates = Math.max(0, n);
    },
    getInvoice(id: string) {
      const inv = invoices.get(id);
      return inv && toJson(inv);
    },
    listInvoices: () => [...invoices.values()].map((inv) => toJson(inv)),
    pay: (id, method) => toJson(pay(id, method)),
    payOnchain: (id, sats) => toJson(pay(id, 'onchain', sats)),
    markPending: (id) => toJson(markPending(id)),
    cancel: (id) => toJson(cancel(id)),
    expire(id: string) {
      const inv = find(id);
      if (inv.status === 'settled') throw new SbpError(409, 'Invoice already paid');
      markExpired(inv);
      return toJson(inv);
    },
    nodePubkey,
    reset() {
      for (const inv of invoices.values()) inv.cancelExpiry?.();
      invoices.clear();
      dispatcher.reset();
      failCreates = 0;
      limits.clear();
      for (const [c, l] of Object.entries(opts.transactionLimits ?? {})) limits.set(c.toUpperCase(), l);
      server.setLatencyMs(0);
      server.failFor(0);
      persist();
    },
    resumeWebhooks: () => dispatcher.resume(),
  };
}

/** Whether the checkout still takes money (an underpaid one until its time runs out). */
const payable = (inv: SbpInvoice) => inv.status === 'open' || inv.status === 'pending' || (inv.status === 'underpaid' && !inv.ended);

function checkoutPage(inv: SbpInvoiceJson): string {
  const sats = inv.amount;
  const canPay = inv.status === 'open';
  const statusText = {
    open: 'Awaiting payment',
    pending: 'Payment in flight',
    unconfirmed: 'Payment seen, unconfirmed',
    underpaid: inv.isExpired ? 'Underpaid, expired' : 'Underpaid',
    settled: 'Paid',
    expired: 'Expired',
    canceled: 'Canceled',
  }[inv.status];
  const buttons = canPay
    ? `<form method="post" action="/checkout/${escapeHtml(inv.id)}/pay">
        <input type="hidden" name="method" value="lightning">
        <button type="submit" id="pay" data-testid="pay">Pay ${escapeHtml(sats)} sats (Lightning)</button>
      </form>` +
      (inv.onChainAddr
        ? `<form method="post" action="/checkout/${escapeHtml(inv.id)}/pay">
        <input type="hidden" name="method" value="onchain">
        <button type="submit" id="pay-onchain" data-testid="pay-onchain">Pay on-chain</button>
      </form>`
        : '')
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(inv.title)} – Swiss Bitcoin Pay (simulator)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}code{word-break:break-all;font-size:.75rem}
button{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem 0;cursor:pointer}.status{font-weight:600}</style></head>
<body>
<p><small>Swiss Bitcoin Pay — local simulator, no real money moves.</small></p>
<h1>${escapeHtml(inv.title)}</h1>
${inv.description ? `<p>${escapeHtml(inv.description)}</p>` : ''}
<p class="amount" data-testid="amount"><strong>${escapeHtml(inv.input.amount)} ${escapeHtml(inv.input.unit)}</strong> = ${escapeHtml(sats)} sats</p>
<p>Status: <span class="status" data-testid="status" data-status="${escapeHtml(inv.status)}">${escapeHtml(statusText)}</span></p>
${buttons}
<details><summary>Lightning invoice</summary><code>${escapeHtml(inv.pr)}</code></details>
${inv.onChainAddr ? `<details><summary>On-chain address</summary><code>${escapeHtml(inv.onChainAddr)}</code></details>` : ''}
${inv.status === 'settled' && inv.redirectAfterPaid ? `<p><a href="${escapeHtml(inv.redirectAfterPaid)}">Back to the merchant</a></p>` : ''}
</body></html>`;
}
