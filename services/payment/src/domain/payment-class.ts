// What a payment amounts to: one pure rule over what the provider says was due and was paid.
// Over- and under-payments happen on-chain (a fixed-amount BOLT11 request is paid exactly).

export type PaymentClass =
  /** Nothing received yet. */
  | 'unpaid'
  /** A payment is on its way (unconfirmed on-chain, in-flight Lightning). */
  | 'pending'
  | 'exact'
  /** Less than due; the invoice is still payable, so the payer may top up. */
  | 'under'
  /** More than due: the booking is paid, the excess is owed back. */
  | 'over'
  /** Paid in full after the invoice expired. */
  | 'late'
  /** The invoice ended without full payment; whatever was received is owed back. */
  | 'expired'
  /** The provider declared the payment invalid (e.g. double spend, marked invalid): nothing received. */
  | 'invalid';

export interface PaymentAmounts {
  /** What the provider reports: open | seen | partial | paid | expired | invalid. */
  state: 'open' | 'seen' | 'partial' | 'paid' | 'expired' | 'invalid';
  /** Satoshis asked for. */
  dueSats: number;
  /** Satoshis received so far (unknown = the provider reports none, or the full amount when paid). */
  paidSats?: number;
  /** The provider flagged the payment as arriving after the expiry. */
  late?: boolean;
}

export interface Classified {
  kind: PaymentClass;
  dueSats: number;
  paidSats: number;
  /** Whether the booking counts as paid. */
  confirms: boolean;
  /** Satoshis owed back to the payer now (the excess, or everything received for an ended invoice). */
  refundSats: number;
  /** Satoshis still missing while the invoice is payable. */
  shortfallSats: number;
}

const nonNegative = (n: number | undefined) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

export function classifyPayment(a: PaymentAmounts): Classified {
  const dueSats = nonNegative(a.dueSats);
  const reported = nonNegative(a.paidSats);
  const result = (kind: PaymentClass, paidSats: number, confirms: boolean, refundSats: number, shortfallSats = 0): Classified => ({
    kind,
    dueSats,
    paidSats,
    confirms,
    refundSats,
    shortfallSats,
  });
  switch (a.state) {
    case 'paid': {
      // A provider's "paid" without an amount is the full amount.
      const paid = a.paidSats === undefined ? dueSats : reported;
      if (paid < dueSats) return a.late ? result('expired', paid, false, paid) : result('under', paid, false, 0, dueSats - paid);
      const excess = paid - dueSats;
      if (a.late) return result('late', paid, true, excess);
      return excess > 0 ? result('over', paid, true, excess) : result('exact', paid, true, 0);
    }
    case 'partial':
      return reported >= dueSats && dueSats > 0 ? classifyPayment({ ...a, state: 'paid' }) : result('under', reported, false, 0, dueSats - reported);
    case 'seen':
      return result('pending', reported, false, 0);
    case 'expired':
      return result('expired', reported, false, reported);
    case 'invalid':
      return result('invalid', 0, false, 0);
    case 'open':
      return reported > 0 ? result('under', reported, false, 0, Math.max(0, dueSats - reported)) : result('unpaid', 0, false, 0);
  }
}
