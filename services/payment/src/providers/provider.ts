// Outside payment APIs behind one interface (ARCHITECTURE section 2: Swiss Bitcoin Pay, BTCPay
// Server Greenfield as the second provider).
import type { ObservedInvoice } from '../domain/invoice-rules';

export const PROVIDER_NAMES = ['swiss-bitcoin-pay', 'btcpay'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface CreateProviderInvoice {
  /** Our order id: the appointment id. */
  orderId: string;
  /** Fiat amount, two decimals ("120.00"). */
  amount: string;
  currency: string;
  /** Shown in the payer's wallet: never health data (ARCHITECTURE section 4). */
  title: string;
  description: string;
  /** May be fractional; providers that take whole minutes round down (never beyond the hold). */
  expiresInMinutes: number;
  webhookUrl: string;
}

/** Inclusive bounds, in units of the currency (e.g. CHF). */
export interface AmountLimits {
  min?: number;
  max?: number;
}

export interface ProviderInvoice {
  providerInvoiceId: string;
  /** BOLT11 payment request. */
  lightningInvoice: string;
  onchainAddress?: string;
  checkoutUrl: string;
  sats: number;
  expiresAt: Date;
}

export interface VerifiedWebhook {
  /** Stable per delivery: a provider's retry of one delivery carries the same id. */
  providerEventId: string;
  /** Empty when the event concerns no invoice. */
  providerInvoiceId: string;
}

/** A refund the provider pays out: the patient claims it at `claimLink`. */
export interface ProviderRefund {
  /** The provider's payout handle (BTCPay: the pull payment id). */
  payoutId: string;
  claimLink: string;
}

/** Where a provider payout stands: `paid` once what was claimed has been sent in full. */
export interface ProviderPayoutState {
  paid: boolean;
  /** The completed payout's reference (its id, a txid or payment hash when the provider gives one). */
  reference?: string;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  /** False while the provider's circuit breaker is open (recent calls kept failing). */
  available(): boolean;
  /** The fiat amounts the provider accepts for an invoice, when it says (undefined: unknown, not enforced here). */
  limits?(currency: string): Promise<AmountLimits | undefined>;
  createInvoice(input: CreateProviderInvoice): Promise<ProviderInvoice>;
  getInvoice(providerInvoiceId: string): Promise<ObservedInvoice>;
  /**
   * True when money can still arrive after the provider expired an invoice (BTCPay keeps watching an
   * expired invoice's on-chain address and flags what lands PaidLate): payment keeps polling such
   * invoices for a while, in case the webhook announcing it was lost.
   */
  readonly takesLatePayments?: boolean;
  /**
   * Pays `sats` of this invoice back through the provider (BTCPay: a pull payment the patient
   * claims), named `name` so that a retry finds the one already made instead of making another.
   * Absent: the provider cannot, and the refund goes to the admin queue.
   */
  refund?(providerInvoiceId: string, input: { sats: number; name: string; description: string }): Promise<ProviderRefund>;
  /** How the payout of a refund sent through `refund` stands. */
  payoutState?(payoutId: string): Promise<ProviderPayoutState>;
  /** Checks the signature over the raw bytes; throws WebhookSignatureError when it is wrong. */
  verifyWebhook(rawBody: Buffer, headers: Record<string, string>): VerifiedWebhook;
}

export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

/** Signed correctly but not a document we understand. */
export class WebhookPayloadError extends Error {
  override name = 'WebhookPayloadError';
}

/** A provider answer that retrying will not fix (4xx other than 429, unexpected shape). */
export class ProviderRequestError extends Error {
  override name = 'ProviderRequestError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
