import { decideTransition, invoiceExpiry, isFinal, laterProviderState, recordedProviderState, retryDelayMs } from './invoice-rules';

const policy = { onchainConfirmations: 2 };
const paidAt = new Date('2026-11-24T10:00:00Z');

describe('invoice expiry', () => {
  it('is the TTL, but never after the hold', () => {
    const now = new Date('2026-11-24T10:00:00Z');
    expect(invoiceExpiry(now, 15, new Date('2026-11-24T11:00:00Z'))).toEqual(new Date('2026-11-24T10:15:00Z'));
    expect(invoiceExpiry(now, 15, new Date('2026-11-24T10:05:00Z'))).toEqual(new Date('2026-11-24T10:05:00Z'));
  });
});

describe('finality policy', () => {
  it('takes settled Lightning as final and on-chain after N confirmations', () => {
    expect(isFinal({ state: 'paid', method: 'lightning' }, policy)).toBe(true);
    expect(isFinal({ state: 'paid', method: 'onchain', confirmations: 1 }, policy)).toBe(false);
    expect(isFinal({ state: 'paid', method: 'onchain', confirmations: 2 }, policy)).toBe(true);
    expect(isFinal({ state: 'paid', method: 'onchain', confirmations: 0 }, { onchainConfirmations: 0 })).toBe(true);
    expect(isFinal({ state: 'seen', method: 'onchain', confirmations: 5 }, policy)).toBe(false);
  });
});

describe('transitions', () => {
  const open = { status: 'open' as const, seen: false, sats: 1000 };

  it('confirms a final payment, also on an invoice expired locally', () => {
    expect(decideTransition(open, { state: 'paid', method: 'lightning', paidAt }, policy)).toEqual({ kind: 'confirm', method: 'lightning', paidAt, paidSats: 1000, excessSats: 0 });
    expect(decideTransition({ status: 'expired', seen: false, sats: 1000 }, { state: 'paid', method: 'lightning', paidAt }, policy).kind).toBe('confirm');
  });

  it('reports an unconfirmed on-chain payment as seen, once', () => {
    const pending = { state: 'paid' as const, method: 'onchain' as const, confirmations: 1 };
    expect(decideTransition(open, pending, policy)).toEqual({ kind: 'seen', method: 'onchain' });
    expect(decideTransition({ status: 'open', seen: true, sats: 1000 }, pending, policy)).toEqual({ kind: 'none' });
    expect(recordedProviderState(pending, policy)).toBe('seen');
  });

  it('expires an open invoice only, and never moves a paid one', () => {
    expect(decideTransition(open, { state: 'expired' }, policy)).toEqual({ kind: 'expire', refundSats: 0 });
    expect(decideTransition({ status: 'expired', seen: false, sats: 1000 }, { state: 'expired' }, policy)).toEqual({ kind: 'none' });
    expect(decideTransition({ status: 'paid', seen: false, sats: 1000 }, { state: 'expired' }, policy)).toEqual({ kind: 'none' });
    expect(decideTransition({ status: 'refund_due', seen: false, sats: 1000 }, { state: 'paid', method: 'lightning' }, policy)).toEqual({ kind: 'none' });
    expect(decideTransition(open, { state: 'open' }, policy)).toEqual({ kind: 'none' });
  });

  it('confirms an over-payment with its excess, and holds an under-payment open until it ends', () => {
    const over = { state: 'paid' as const, method: 'onchain' as const, confirmations: 2, paidAt, dueSats: 1000, paidSats: 1300 };
    expect(decideTransition(open, over, policy)).toEqual({ kind: 'confirm', method: 'onchain', paidAt, paidSats: 1300, excessSats: 300 });
    const partial = { state: 'partial' as const, method: 'onchain' as const, dueSats: 1000, paidSats: 400 };
    expect(decideTransition(open, partial, policy)).toEqual({ kind: 'seen', method: 'onchain' });
    expect(decideTransition({ ...open, seen: true }, partial, policy)).toEqual({ kind: 'none' });
    expect(recordedProviderState(partial, policy)).toBe('seen');
    // A "paid" below the amount (provider tolerance) does not confirm.
    expect(decideTransition({ ...open, seen: true }, { state: 'paid', method: 'onchain', confirmations: 3, dueSats: 1000, paidSats: 999 }, policy)).toEqual({ kind: 'none' });
  });

  it('refunds what an ended invoice received, once, also after a local expiry', () => {
    const endedPartial = { state: 'expired' as const, dueSats: 1000, paidSats: 400 };
    expect(decideTransition(open, endedPartial, policy)).toEqual({ kind: 'expire', refundSats: 400 });
    expect(decideTransition({ ...open, status: 'expired' }, endedPartial, policy)).toEqual({ kind: 'refund_partial', refundSats: 400 });
    expect(decideTransition({ ...open, status: 'expired', refunded: true }, endedPartial, policy)).toEqual({ kind: 'none' });
    expect(decideTransition(open, { state: 'invalid' }, policy)).toEqual({ kind: 'expire', refundSats: 0 });
    expect(recordedProviderState({ state: 'invalid' }, policy)).toBe('expired');
  });

  it('keeps the provider state moving forward only', () => {
    expect(laterProviderState('paid', 'open')).toBe('paid');
    expect(laterProviderState('seen', 'open')).toBe('seen');
    expect(laterProviderState('open', 'seen')).toBe('seen');
    expect(laterProviderState('expired', 'paid')).toBe('paid');
  });
});

describe('pending retry backoff', () => {
  it('grows exponentially with jitter and is capped', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(retryDelayMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
