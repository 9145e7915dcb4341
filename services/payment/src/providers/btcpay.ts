// BTCPay Server Greenfield API (the second provider): store invoices, their payment methods (BOLT11
// and address), webhooks signed in `BTCPay-Sig: sha256=<hex HMAC-SHA256 of the raw body>`.
import { btcToSats, satsToBtc } from '../domain/money';
import type { ObservedInvoice, PaymentMethod } from '../domain/invoice-rules';
import { CircuitState } from '@cryptocare/platform';
import { callJson, parseJsonObject, trimSlash, verifyHmacSha256Header, type ProviderPolicy } from './http';
import {
  ProviderRequestError,
  WebhookPayloadError,
  type CreateProviderInvoice,
  type PaymentProvider,
  type ProviderInvoice,
  type ProviderPayoutState,
  type ProviderRefund,
  type VerifiedWebhook,
} from './provider';

export interface BtcpayConfig {
  url: string;
  apiKey: string;
  storeId: string;
  webhookSecret: string;
  /** Finality policy, translated into the store's speed policy for on-chain payments. */
  onchainConfirmations: number;
  policy: ProviderPolicy;
}

interface InvoiceData {
  id?: string;
  checkoutLink?: string;
  expirationTime?: number;
  status?: string;
  additionalStatus?: string;
}

/** Greenfield PullPaymentData (what the invoice refund answers). */
interface PullPaymentData {
  id?: string;
  name?: string | null;
  viewLink?: string;
}

/** Greenfield PayoutData: AwaitingApproval, AwaitingPayment, InProgress, Completed, Cancelled. */
interface PayoutData {
  id?: string;
  state?: string;
  /** In the pull payment's currency (BTC here). */
  amount?: string;
  paymentProof?: { transactionId?: string; proofType?: string } | null;
}

interface PaymentMethodData {
  /** BTCPay 2.x: BTC-CHAIN, BTC-LN. */
  paymentMethodId?: string;
  /** BTCPay 1.x: BTC, BTC-LightningNetwork. */
  paymentMethod?: string;
  destination?: string;
  /** Due in BTC for the whole invoice. */
  amount?: string;
  /** Received so far for the invoice, in BTC, across payment methods. */
  totalPaid?: string;
  /** Fiat per BTC. */
  rate?: string;
  activated?: boolean;
  payments?: Array<{ receivedDate?: number; status?: string }>;
}

const LIGHTNING_IDS = new Set(['BTC-LN', 'BTC-LightningNetwork']);
const ONCHAIN_IDS = new Set(['BTC-CHAIN', 'BTC', 'BTC-OnChain']);

/** BTCPay's speed policies: 0, 1, 2 and 6 confirmations. */
function speedPolicy(confirmations: number): string {
  if (confirmations <= 0) return 'HighSpeed';
  if (confirmations === 1) return 'MediumSpeed';
  if (confirmations === 2) return 'LowMediumSpeed';
  return 'LowSpeed';
}

export class Btcpay implements PaymentProvider {
  readonly name = 'btcpay' as const;
  readonly takesLatePayments = true;
  private readonly storeBase: string;

  constructor(private readonly config: BtcpayConfig) {
    this.storeBase = `${trimSlash(config.url)}/api/v1/stores/${encodeURIComponent(config.storeId)}`;
  }

  available(): boolean {
    return this.config.policy.breakerState() !== CircuitState.Open;
  }

  /**
   * BTCPay sends webhooks to the URL configured on the store (Store → Webhooks), not per invoice:
   * `input.webhookUrl` is where that store webhook must point.
   */
  async createInvoice(input: CreateProviderInvoice): Promise<ProviderInvoice> {
    const invoice = await this.call<InvoiceData>('/invoices', {
      method: 'POST',
      body: JSON.stringify({
        amount: input.amount,
        currency: input.currency,
        metadata: { orderId: input.orderId, itemDesc: input.title },
        checkout: {
          expirationMinutes: Math.max(1, Math.floor(input.expiresInMinutes)),
          speedPolicy: speedPolicy(this.config.onchainConfirmations),
          lazyPaymentMethods: false,
        },
      }),
    });
    if (typeof invoice.id !== 'string' || typeof invoice.checkoutLink !== 'string' || typeof invoice.expirationTime !== 'number') {
      throw new ProviderRequestError('btcpay: invoice answer lacks id, checkoutLink or expirationTime');
    }
    const methods = await this.paymentMethods(invoice.id);
    const lightning = methods.find((m) => LIGHTNING_IDS.has(methodId(m)));
    const onchain = methods.find((m) => ONCHAIN_IDS.has(methodId(m)));
    if (!lightning?.destination || !lightning.amount) throw new ProviderRequestError('btcpay: the store offers no Lightning payment method for this invoice');
    return {
      providerInvoiceId: invoice.id,
      lightningInvoice: lightning.destination,
      ...(onchain?.destination ? { onchainAddress: onchain.destination } : {}),
      checkoutUrl: invoice.checkoutLink,
      sats: btcToSats(lightning.amount),
      expiresAt: new Date(invoice.expirationTime * 1000),
    };
  }

  /**
   * Greenfield statuses: New, Processing, Settled, Expired, Invalid, with additionalStatus None,
   * PaidPartial, PaidOver, PaidLate, Marked, Invalid. Amounts (due, received, rate) come from the
   * invoice's payment methods.
   */
  async getInvoice(providerInvoiceId: string): Promise<ObservedInvoice> {
    const invoice = await this.call<InvoiceData>(`/invoices/${encodeURIComponent(providerInvoiceId)}`, { method: 'GET' });
    const extra = invoice.additionalStatus;
    if (invoice.status === 'New' && extra !== 'PaidPartial') return { state: 'open' };
    const methods = await this.paymentMethods(providerInvoiceId);
    const amounts = amountsOf(methods);
    // Marked settled by the merchant: the provider's word stands for the full amount.
    if (extra === 'Marked') delete amounts.paidSats;
    const observed = { ...paymentOf(methods), ...amounts };
    switch (invoice.status) {
      case 'New':
        return { state: 'partial', ...observed };
      case 'Processing':
        return { state: 'seen', ...observed };
      // Settled = final under the store's speed policy (set from our finality policy at creation).
      case 'Settled':
        return { state: 'paid', ...observed, ...(extra === 'PaidLate' ? { late: true } : {}) };
      case 'Expired':
        return extra === 'PaidLate' ? { state: 'paid', ...observed, late: true } : { state: 'expired', ...observed };
      case 'Invalid':
        return { state: 'invalid', ...observed };
      default:
        throw new ProviderRequestError(`btcpay: unknown invoice status ${String(invoice.status).slice(0, 40)}`);
    }
  }

  /**
   * POST …/invoices/{id}/refund with refundVariant Custom in BTC: exactly the sats we owe, not a
   * fiat amount at today's rate. Answers a pull payment (its viewLink is the patient's claim page).
   * The pull payment carries our refund id as its name: a retry after a lost answer finds it in the
   * store's pull payments instead of making a second one.
   */
  async refund(providerInvoiceId: string, input: { sats: number; name: string; description: string }): Promise<ProviderRefund> {
    const existing = (await this.call<PullPaymentData[]>('/pull-payments?includeArchived=true', { method: 'GET' })).find((p) => p.name === input.name);
    const pull =
      existing ??
      (await this.call<PullPaymentData>(`/invoices/${encodeURIComponent(providerInvoiceId)}/refund`, {
        method: 'POST',
        body: JSON.stringify({ name: input.name, description: input.description, refundVariant: 'Custom', customAmount: satsToBtc(input.sats), customCurrency: 'BTC' }),
      }));
    if (typeof pull.id !== 'string' || !pull.id || typeof pull.viewLink !== 'string') throw new ProviderRequestError('btcpay: refund answer lacks the pull payment id or viewLink');
    return { payoutId: pull.id, claimLink: pull.viewLink };
  }

  /** GET /api/v1/pull-payments/{id}/payouts: paid once completed payouts add up to the whole pull payment. */
  async payoutState(payoutId: string): Promise<ProviderPayoutState> {
    const url = `${trimSlash(this.config.url)}/api/v1/pull-payments/${encodeURIComponent(payoutId)}`;
    const [pull, payouts] = await Promise.all([
      callJson<PullPaymentData & { amount?: string }>(this.config.policy, this.name, url, { method: 'GET', headers: { accept: 'application/json' } }),
      callJson<PayoutData[]>(this.config.policy, this.name, `${url}/payouts`, { method: 'GET', headers: { accept: 'application/json' } }),
    ]);
    const sats = (btc: string | undefined) => {
      try {
        return btc === undefined ? 0 : btcToSats(btc);
      } catch {
        return 0;
      }
    };
    const completed = payouts.filter((p) => p.state === 'Completed');
    const owed = sats(pull.amount);
    const paid = owed > 0 && completed.reduce((n, p) => n + sats(p.amount), 0) >= owed;
    const last = completed[completed.length - 1];
    const reference = last?.paymentProof?.transactionId ?? last?.id;
    return { paid, ...(paid && reference ? { reference } : {}) };
  }

  verifyWebhook(rawBody: Buffer, headers: Record<string, string>): VerifiedWebhook {
    verifyHmacSha256Header(rawBody, headers['btcpay-sig'], this.config.webhookSecret);
    const body = parseJsonObject(rawBody);
    const deliveryId = body && (typeof body.originalDeliveryId === 'string' && body.originalDeliveryId ? body.originalDeliveryId : body.deliveryId);
    if (typeof deliveryId !== 'string' || !deliveryId) throw new WebhookPayloadError('btcpay webhook without a delivery id');
    // A redelivery has a new deliveryId and the first one as originalDeliveryId: same event.
    return { providerEventId: deliveryId, providerInvoiceId: typeof body!.invoiceId === 'string' ? body!.invoiceId : '' };
  }

  private paymentMethods(invoiceId: string): Promise<PaymentMethodData[]> {
    return this.call<PaymentMethodData[]>(`/invoices/${encodeURIComponent(invoiceId)}/payment-methods`, { method: 'GET' });
  }

  private call<T>(path: string, init: RequestInit): Promise<T> {
    return callJson<T>(this.config.policy, this.name, `${this.storeBase}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `token ${this.config.apiKey}` },
    });
  }
}

const methodId = (m: PaymentMethodData) => m.paymentMethodId ?? m.paymentMethod ?? '';

function paymentOf(methods: PaymentMethodData[]): { method?: PaymentMethod; paidAt?: Date } {
  for (const m of methods) {
    const payment = m.payments?.[0];
    if (!payment) continue;
    const method: PaymentMethod | undefined = LIGHTNING_IDS.has(methodId(m)) ? 'lightning' : ONCHAIN_IDS.has(methodId(m)) ? 'onchain' : undefined;
    return { ...(method ? { method } : {}), ...(typeof payment.receivedDate === 'number' ? { paidAt: new Date(payment.receivedDate * 1000) } : {}) };
  }
  return {};
}

function amountsOf(methods: PaymentMethodData[]): { dueSats?: number; paidSats?: number; rate?: string } {
  const m = methods.find((x) => typeof x.amount === 'string' && ONCHAIN_IDS.has(methodId(x))) ?? methods.find((x) => typeof x.amount === 'string');
  if (!m) return {};
  const sats = (btc: string | undefined) => {
    try {
      return btc === undefined ? undefined : btcToSats(btc);
    } catch {
      return undefined;
    }
  };
  const dueSats = sats(m.amount);
  const paidSats = sats(m.totalPaid);
  return { ...(dueSats === undefined ? {} : { dueSats }), ...(paidSats === undefined ? {} : { paidSats }), ...(typeof m.rate === 'string' ? { rate: m.rate } : {}) };
}
