// When a booking's invoice ends under-paid, whether the patient gets a top-up (a second invoice
// for the rest, while the booking is still held) or what came in is owed back. Pure.
import { MIN_INVOICE_LIFETIME_MS } from './invoice-rules';
import { fiatMinorOf } from './ledger';

export interface EndedShortFacts {
  /** booking: the booking's own invoice; top_up: already the second one (never topped up again). */
  kind: 'booking' | 'top_up';
  /** The invoice's locked price, minor units, and the sats it asked for. */
  amountMinor: number;
  invoiceSats: number;
  /** Sats received for it in all. */
  receivedSats: number;
  /** When the booking's hold ends; null when unknown (an invoice made before it was kept). */
  holdExpiresAt: Date | null;
  /** The booking was cancelled. */
  cancelled: boolean;
}

export type EndedShort =
  /** `restMinor`: the rest's fiat share at the locked price; `shortfallSats`: what was missing at the invoice's quote. */
  | { kind: 'top_up'; restMinor: number; shortfallSats: number }
  | { kind: 'refund'; why: 'second_invoice' | 'nothing_received' | 'nothing_missing' | 'cancelled' | 'hold_unknown' | 'hold_ending' };

/**
 * A top-up for an invoice that ended with part of the money: only for the booking's own invoice,
 * something received and something missing, the booking not cancelled and its hold leaving at
 * least an invoice's minimum lifetime to pay. Anything else: what came in goes back.
 */
export function endedShort(f: EndedShortFacts, now = new Date()): EndedShort {
  if (f.kind !== 'booking') return { kind: 'refund', why: 'second_invoice' };
  if (!(f.receivedSats > 0)) return { kind: 'refund', why: 'nothing_received' };
  const shortfallSats = f.invoiceSats - f.receivedSats;
  // The rest in fiat: the price less the received sats' share of it (rounded half up, as the ledger).
  const restMinor = f.amountMinor - fiatMinorOf(f.receivedSats, f.amountMinor, f.invoiceSats);
  if (shortfallSats <= 0 || restMinor <= 0) return { kind: 'refund', why: 'nothing_missing' };
  if (f.cancelled) return { kind: 'refund', why: 'cancelled' };
  if (!f.holdExpiresAt) return { kind: 'refund', why: 'hold_unknown' };
  if (f.holdExpiresAt.getTime() - now.getTime() < MIN_INVOICE_LIFETIME_MS) return { kind: 'refund', why: 'hold_ending' };
  return { kind: 'top_up', restMinor, shortfallSats };
}

/** 4000 → "40.00" (the invoices' numeric(10,2) amounts). */
export function minorToAmount(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`not an amount in minor units: ${minor}`);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}
