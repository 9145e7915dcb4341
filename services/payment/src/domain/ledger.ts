// The money ledger's rules: what one movement is worth in the booking's fiat, and what a booking's
// movements add up to. Pure: no database. The rows themselves are append-only (ledger_entries).

/**
 * One money movement of a booking:
 * - invoice_created: the sats asked for (what is due);
 * - shortfall_carried: the sats a booking invoice that ended under-paid was short by, moved to its
 *   top-up (no longer due on it);
 * - top_up_created: the sats the top-up asked for the rest (due instead);
 * - paid / over / under: sats received for an invoice, exactly, more or less than due;
 * - refund_due: sats recorded as owed back (a refund raised later adds only the difference);
 * - refund_paid: sats paid back out.
 */
export const LEDGER_KINDS = ['invoice_created', 'top_up_created', 'shortfall_carried', 'paid', 'over', 'under', 'refund_due', 'refund_paid'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export interface LedgerMovement {
  kind: LedgerKind;
  /** Always positive: the kind says which way it goes. */
  sats: number;
  /** The same movement in the booking's fiat, minor units (centimes / cents), at the invoice's rate. */
  fiatMinor: number;
}

const SATS_PER_BTC = 100_000_000n;

/** "120.00" → 12000 (the invoice amounts are numeric(10,2)). */
export function toMinor(amount: string): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!m) throw new RangeError(`not a fiat amount: ${amount}`);
  return Number(BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0')));
}

/**
 * The invoice's locked rate, fiat per BTC with 2 decimals ("100000.00" for 120.00 CHF = 120 000
 * sats): what the provider quoted when it made the invoice. Rounded half up.
 */
export function rateOf(amountMinor: number, invoiceSats: number): string {
  if (!(invoiceSats > 0)) throw new RangeError('an invoice asks for a positive number of sats');
  const perBtcMinor = (BigInt(amountMinor) * SATS_PER_BTC * 2n + BigInt(invoiceSats)) / (2n * BigInt(invoiceSats));
  return `${perBtcMinor / 100n}.${(perBtcMinor % 100n).toString().padStart(2, '0')}`;
}

/** `sats` in the invoice's fiat at its locked rate (amountMinor for invoiceSats), rounded half up. */
export function fiatMinorOf(sats: number, amountMinor: number, invoiceSats: number): number {
  if (!(invoiceSats > 0)) throw new RangeError('an invoice asks for a positive number of sats');
  return Number((BigInt(sats) * BigInt(amountMinor) * 2n + BigInt(invoiceSats)) / (2n * BigInt(invoiceSats)));
}

/** The receipt's kind: paid exactly, more or less than the invoice asked. */
export function receiptKind(paidSats: number, dueSats: number): 'paid' | 'over' | 'under' {
  return paidSats === dueSats ? 'paid' : paidSats > dueSats ? 'over' : 'under';
}

export type BalanceState =
  /** Nothing received, nothing owed. */
  | 'nothing_paid'
  /** The booking is paid exactly (any excess owed back was paid out). */
  | 'paid'
  /** Everything received was paid back (an under-payment that ended, a cancelled booking). */
  | 'refunded'
  /** Money received and kept that pays no booking yet (an under-payment still open). */
  | 'short'
  /** Money owed back and not paid out yet. */
  | 'refund_outstanding'
  /** The movements contradict each other (more paid back than owed, more owed than received…). */
  | 'inconsistent';

export interface Balance {
  dueSats: number;
  receivedSats: number;
  refundDueSats: number;
  refundPaidSats: number;
  /** Received and not owed back: what the booking keeps. */
  keptSats: number;
  /** Owed back and not paid out yet. */
  outstandingSats: number;
  /** The same in the booking's fiat, minor units. */
  fiat: { dueMinor: number; receivedMinor: number; refundDueMinor: number; refundPaidMinor: number; keptMinor: number; outstandingMinor: number };
  state: BalanceState;
  /**
   * The booking's money is settled: nothing is owed back unpaid, and what is kept is either
   * nothing or exactly what was due.
   */
  balanced: boolean;
}

/** What a booking's movements add up to (in any order). */
export function balanceOf(movements: readonly LedgerMovement[]): Balance {
  const sum = { invoice_created: [0, 0], top_up_created: [0, 0], shortfall_carried: [0, 0], paid: [0, 0], over: [0, 0], under: [0, 0], refund_due: [0, 0], refund_paid: [0, 0] } as Record<LedgerKind, [number, number]>;
  for (const m of movements) {
    sum[m.kind][0] += m.sats;
    sum[m.kind][1] += m.fiatMinor;
  }
  const received = (i: 0 | 1) => sum.paid[i] + sum.over[i] + sum.under[i];
  // A top-up moves what was missing to a second invoice: due is the first invoice's sats less the
  // shortfall carried, plus what the top-up asks (at its own quote).
  const due = (i: 0 | 1) => sum.invoice_created[i] - sum.shortfall_carried[i] + sum.top_up_created[i];
  const dueSats = due(0);
  const receivedSats = received(0);
  const refundDueSats = sum.refund_due[0];
  const refundPaidSats = sum.refund_paid[0];
  const keptSats = receivedSats - refundDueSats;
  const outstandingSats = refundDueSats - refundPaidSats;
  const fiat = {
    dueMinor: due(1),
    receivedMinor: received(1),
    refundDueMinor: sum.refund_due[1],
    refundPaidMinor: sum.refund_paid[1],
    keptMinor: received(1) - sum.refund_due[1],
    outstandingMinor: sum.refund_due[1] - sum.refund_paid[1],
  };
  let state: BalanceState;
  if (keptSats < 0 || outstandingSats < 0 || keptSats > dueSats) state = 'inconsistent';
  else if (outstandingSats > 0) state = 'refund_outstanding';
  else if (receivedSats === 0) state = 'nothing_paid';
  else if (keptSats === 0) state = 'refunded';
  else if (keptSats === dueSats) state = 'paid';
  else state = 'short';
  return { dueSats, receivedSats, refundDueSats, refundPaidSats, keptSats, outstandingSats, fiat, state, balanced: state === 'nothing_paid' || state === 'paid' || state === 'refunded' };
}
