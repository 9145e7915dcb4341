// Swiss Bitcoin Pay merchant API: POST /checkout (header api-key), GET /checkout/{id}, webhooks
// signed in `sbp-sig: sha256=<hex HMAC-SHA256 of the raw body, keyed by the API secret>`.
import { createHash } from 'node:crypto';
import { bolt11AmountSats } from '../domain/bolt11';
import type { ObservedInvoice, PaymentMethod } from '../domain/invoice-rules';
import { CircuitState } from '@cryptocare/platform';
import { callJson, parseJsonObject, trimSlash, verifyHmacSha256Header, type ProviderPolicy } from './http';
import {
  ProviderRequestError,
  WebhookPayloadError,
  type AmountLimits,
  type CreateProviderInvoice,
  type PaymentProvider,
  type ProviderInvoice,
  type VerifiedWebhook,
} from './provider';

export interface SwissBitcoinPayConfig {
  apiUrl: string;
  apiKey: string;
  apiSecret: string;
  policy: ProviderPolicy;
  /**
   * Swiss Bitcoin Pay refreshes its exchange rate every 10 minutes: a checkout never lives longer,
   * so no payer holds a Lightning request priced at a stale rate. Default 10.
   */
  rateWindowMinutes?: number;
}

interface CheckoutCreated {
  id?: unknown;
  pr?: unknown;
  checkoutUrl?: unknown;
  onChainAddr?: unknown;
}

interface CheckoutStatus {
  id?: string;
  /** Satoshis (not millisatoshis): what the payer is asked for. */
  amount?: number;
  status?: string;
  isPaid?: boolean;
  isExpired?: boolean;
  /** A payment is in flight (not yet settled). */
  isPending?: boolean;
  paidAt?: number | null;
  paymentMethod?: string | null;
  confirmations?: number;
  paymentDetails?: Array<Record<string, unknown>>;
}

/** How long an answer of GET /transaction-limit/{currency} is used before asking again. */
const LIMITS_TTL_MS = 10 * 60_000;

export class SwissBitcoinPay implements PaymentProvider {
  readonly name = 'swiss-bitcoin-pay' as const;
  private readonly base: string;
  private readonly limitCache = new Map<string, { at: number; limits: AmountLimits | undefined }>();

  constructor(private readonly config: SwissBitcoinPayConfig) {
    this.base = trimSlash(config.apiUrl);
  }

  available(): boolean {
    return this.config.policy.breakerState() !== CircuitState.Open;
  }

  async createInvoice(input: CreateProviderInvoice): Promise<ProviderInvoice> {
    // `delay` is in whole minutes: rounding down keeps the invoice inside the booking's hold, and
    // it never outlives the provider's rate window.
    const delay = Math.max(1, Math.floor(Math.min(input.expiresInMinutes, this.config.rateWindowMinutes ?? 10)));
    const startedAt = Date.now();
    const created = await callJson<CheckoutCreated>(this.config.policy, this.name, `${this.base}/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'api-key': this.config.apiKey },
      body: JSON.stringify({
        title: input.title,
        description: input.description,
        amount: Number(input.amount),
        unit: input.currency,
        onChain: true,
        delay,
        webhook: { url: input.webhookUrl },
      }),
    });
    if (typeof created.id !== 'string' || typeof created.pr !== 'string' || typeof created.checkoutUrl !== 'string') {
      throw new ProviderRequestError('swiss-bitcoin-pay: checkout answer lacks id, pr or checkoutUrl');
    }
    // The creation answer has no amount: the BOLT11 request states it; ask the API if it does not.
    const sats = bolt11AmountSats(created.pr) ?? (await this.satsOf(created.id));
    return {
      providerInvoiceId: created.id,
      lightningInvoice: created.pr,
      ...(typeof created.onChainAddr === 'string' && created.onChainAddr ? { onchainAddress: created.onChainAddr } : {}),
      checkoutUrl: created.checkoutUrl,
      sats,
      expiresAt: new Date(startedAt + delay * 60_000),
    };
  }

  /**
   * GET /transaction-limit/{currency}: the amounts a checkout may ask for. The answer's shape is not
   * in the public docs; `min`/`max` (or `minimum`/`maximum`) numbers in the currency's units are read,
   * anything else counts as unknown. Cached for 10 minutes; a failed read is unknown, not a refusal
   * (the creation call itself still answers 4xx for an amount out of bounds).
   */
  async limits(currency: string): Promise<AmountLimits | undefined> {
    const key = currency.toUpperCase();
    const cached = this.limitCache.get(key);
    if (cached && Date.now() - cached.at < LIMITS_TTL_MS) return cached.limits;
    let limits: AmountLimits | undefined;
    try {
      const body = await callJson<Record<string, unknown>>(this.config.policy, this.name, `${this.base}/transaction-limit/${encodeURIComponent(key)}`, {
        method: 'GET',
        headers: { accept: 'application/json', 'api-key': this.config.apiKey },
      });
      const num = (...values: unknown[]) => values.find((v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0);
      const min = num(body?.min, body?.minimum);
      const max = num(body?.max, body?.maximum);
      limits = min === undefined && max === undefined ? undefined : { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
    } catch {
      return undefined; // not cached: asked again next time
    }
    this.limitCache.set(key, { at: Date.now(), limits });
    return limits;
  }

  async getInvoice(providerInvoiceId: string): Promise<ObservedInvoice> {
    return observe(await this.status(providerInvoiceId));
  }

  verifyWebhook(rawBody: Buffer, headers: Record<string, string>): VerifiedWebhook {
    verifyHmacSha256Header(rawBody, headers['sbp-sig'], this.config.apiSecret);
    const body = parseJsonObject(rawBody);
    if (!body || typeof body.id !== 'string' || !body.id) throw new WebhookPayloadError('swiss-bitcoin-pay webhook without a checkout id');
    // SBP sends no event id: the checkout id and a digest of the exact bytes name one delivery,
    // so the provider's retries of it (same bytes) are duplicates, and each status change is new.
    const digest = createHash('sha256').update(rawBody).digest('hex');
    return { providerEventId: `${body.id}:${digest}`, providerInvoiceId: body.id };
  }

  private status(id: string): Promise<CheckoutStatus> {
    return callJson<CheckoutStatus>(this.config.policy, this.name, `${this.base}/checkout/${encodeURIComponent(id)}`, {
      method: 'GET',
      headers: { accept: 'application/json' },
    });
  }

  private async satsOf(id: string): Promise<number> {
    const status = await this.status(id);
    if (typeof status.amount !== 'number' || status.amount <= 0) throw new ProviderRequestError('swiss-bitcoin-pay: checkout without an amount');
    return Math.ceil(status.amount);
  }
}

/**
 * Maps a checkout document to what the finality and amount rules need. Statuses: open, pending
 * (isPending), unconfirmed, settled (isPaid), underpaid, expired (isExpired), canceled. `amount` is
 * in sats; what came in on-chain is the on-chain payment detail's `amount` (sats). A Lightning
 * request has a fixed amount, so a settled Lightning payment is the amount due.
 */
export function observe(status: CheckoutStatus): ObservedInvoice {
  const method: PaymentMethod | undefined = status.paymentMethod === 'onchain' ? 'onchain' : status.paymentMethod === 'lightning' ? 'lightning' : undefined;
  const paidAt = typeof status.paidAt === 'number' ? new Date(status.paidAt * 1000) : undefined;
  const dueSats = typeof status.amount === 'number' && Number.isFinite(status.amount) && status.amount > 0 ? Math.ceil(status.amount) : undefined;
  const paidSats = onchainPaidSats(status);
  const amounts = { ...(dueSats === undefined ? {} : { dueSats }), ...(paidSats === undefined ? {} : { paidSats }) };
  const extra = { ...(method ? { method } : {}), ...(paidAt ? { paidAt } : {}), ...amounts };
  if (status.status === 'underpaid') {
    // What came in stays owed to the payer once the checkout can no longer be completed.
    return status.isExpired === true ? { state: 'expired', ...extra } : { state: 'partial', ...extra };
  }
  if (status.isPaid === true || status.status === 'settled') {
    const confirmations = method === 'onchain' ? onchainConfirmations(status) : undefined;
    return { state: 'paid', ...extra, ...(confirmations === undefined ? {} : { confirmations }) };
  }
  if (status.status === 'unconfirmed' || status.status === 'pending' || status.isPending === true) return { state: 'seen', ...extra };
  if (status.status === 'canceled') return { state: 'expired', ...amounts };
  if (status.isExpired === true || status.status === 'expired') return { state: 'expired', ...amounts };
  return { state: 'open', ...amounts };
}

function onchainPaidSats(status: CheckoutStatus): number | undefined {
  if (status.paymentMethod !== 'onchain' && status.status !== 'underpaid') return undefined;
  const detail = status.paymentDetails?.find((d) => d.network === 'onchain' && typeof d.amount === 'number');
  return detail ? Math.max(0, Math.floor(detail.amount as number)) : undefined;
}

function onchainConfirmations(status: CheckoutStatus): number | undefined {
  if (typeof status.confirmations === 'number') return status.confirmations;
  const detail = status.paymentDetails?.find((d) => d.network === 'onchain' && typeof d.confirmations === 'number');
  return detail ? (detail.confirmations as number) : undefined;
}
