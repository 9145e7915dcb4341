// The invoice's lifecycle rules: expiry, the finality policy, and what a provider's answer does to
// an invoice. Pure: no database, no HTTP.
import { classifyPayment } from './payment-class';

export type InvoiceStatus = 'open' | 'paid' | 'expired' | 'refund_due';
export type PaymentMethod = 'lightning' | 'onchain';
/** What we remember of the provider's state (the reconciliation polls while open or seen). */
export type ProviderState = 'open' | 'seen' | 'paid' | 'expired';
/** What a provider can say: also a partial payment still payable, and an invalid one. */
export type ObservedState = ProviderState | 'partial' | 'invalid';

/** What the provider says of an invoice when asked (never what a webhook body claims). */
export interface ObservedInvoice {
  state: ObservedState;
  method?: PaymentMethod;
  paidAt?: Date;
  /** On-chain confirmations when the provider reports them. */
  confirmations?: number;
  /** Satoshis asked for, when the provider reports them. */
  dueSats?: number;
  /** Satoshis received so far, when the provider reports them. */
  paidSats?: number;
  /** Fiat per BTC the provider quoted, as it reports it (a decimal string). */
  rate?: string;
  /** The provider flagged the payment as arriving after the expiry. */
  late?: boolean;
}

export interface FinalityPolicy {
  /** On-chain payments are final after this many confirmations; Lightning when settled. */
  onchainConfirmations: number;
}

/** An invoice shorter-lived than this is useless to a payer; below it we do not create one. */
export const MIN_INVOICE_LIFETIME_MS = 60_000;

/** Invoice expiry: the configured lifetime, but never beyond the booking's hold. */
export function invoiceExpiry(now: Date, ttlMinutes: number, holdExpiresAt: Date): Date {
  return new Date(Math.min(now.getTime() + ttlMinutes * 60_000, holdExpiresAt.getTime()));
}

/** ARCHITECTURE section 4: Lightning settled = final; on-chain = final after N confirmations. */
export function isFinal(observed: ObservedInvoice, policy: FinalityPolicy): boolean {
  if (observed.state !== 'paid') return false;
  if (observed.method !== 'onchain') return true;
  // Without a count, the provider's own "paid" (its confirmation policy) is taken as final.
  return observed.confirmations === undefined || observed.confirmations >= policy.onchainConfirmations;
}

export type Transition =
  /** `excessSats`: paid beyond what was due, owed back. */
  | { kind: 'confirm'; method: PaymentMethod; paidAt: Date; paidSats: number; excessSats: number }
  | { kind: 'seen'; method?: PaymentMethod }
  /** `refundSats`: what was received for an invoice that ended unpaid (an under-payment), owed back. */
  | { kind: 'expire'; refundSats: number }
  /** The invoice already ended here (hold over); the provider now reports a partial payment for it. */
  | { kind: 'refund_partial'; refundSats: number }
  | { kind: 'none' };

export interface InvoiceFacts {
  status: InvoiceStatus;
  /** Whether `payment.payment_seen` was already published. */
  seen: boolean;
  /** Satoshis the invoice asked for. */
  sats: number;
  /** Whether money received for it is already recorded as owed back. */
  refunded?: boolean;
}

/**
 * What the provider's answer does to our invoice. A paid-and-final payment confirms even an
 * invoice we expired locally (the booking's hold ended): appointment decides what happens then.
 * Nothing moves backwards: a paid invoice stays paid whatever is reported later.
 */
export function decideTransition(invoice: InvoiceFacts, observed: ObservedInvoice, policy: FinalityPolicy, now = new Date()): Transition {
  if (invoice.status === 'paid' || invoice.status === 'refund_due') return { kind: 'none' };
  const amounts = classifyPayment({ state: observed.state, dueSats: observed.dueSats ?? invoice.sats, ...(observed.paidSats === undefined ? {} : { paidSats: observed.paidSats }), ...(observed.late ? { late: true } : {}) });
  if (isFinal(observed, policy) && amounts.confirms) {
    return { kind: 'confirm', method: observed.method ?? 'lightning', paidAt: observed.paidAt ?? now, paidSats: amounts.paidSats, excessSats: amounts.refundSats };
  }
  // A "paid" below the amount due (or late and short) ends like an expiry: what came in goes back.
  const ended = observed.state === 'expired' || observed.state === 'invalid' || (isFinal(observed, policy) && amounts.kind === 'expired');
  if (ended) {
    if (invoice.status === 'open') return { kind: 'expire', refundSats: amounts.refundSats };
    return amounts.refundSats > 0 && !invoice.refunded ? { kind: 'refund_partial', refundSats: amounts.refundSats } : { kind: 'none' };
  }
  if (observed.state === 'seen' || observed.state === 'paid' || observed.state === 'partial') {
    return invoice.status === 'open' && !invoice.seen ? { kind: 'seen', ...(observed.method ? { method: observed.method } : {}) } : { kind: 'none' };
  }
  return { kind: 'none' };
}

/** The provider state to remember: a paid-but-not-final payment is still only "seen". */
export function recordedProviderState(observed: ObservedInvoice, policy: FinalityPolicy): ProviderState {
  if (observed.state === 'partial') return 'seen'; // still payable: the reconciliation keeps polling
  if (observed.state === 'invalid') return 'expired';
  return observed.state === 'paid' && !isFinal(observed, policy) ? 'seen' : observed.state;
}

/** Delay before the next try of a pending invoice request: exponential with jitter, capped. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

const providerStateRank: Record<ProviderState, number> = { open: 0, seen: 1, expired: 2, paid: 3 };

/** Provider states only move forward: an answer read before a later one never undoes it. */
export function laterProviderState(previous: ProviderState, next: ProviderState): ProviderState {
  return providerStateRank[next] >= providerStateRank[previous] ? next : previous;
}
