import { balanceOf, fiatMinorOf, rateOf, receiptKind, toMinor, type LedgerKind, type LedgerMovement } from './ledger';

// 120.00 CHF for 120 000 sats: 100 000.00 CHF per BTC, 1 sat = 0.1 centime.
const at = (kind: LedgerKind, sats: number): LedgerMovement => ({ kind, sats, fiatMinor: fiatMinorOf(sats, 12_000, 120_000) });

describe('ledger amounts', () => {
  it('reads fiat in minor units and derives the locked rate and fiat equivalents, rounding half up', () => {
    expect(toMinor('120.00')).toBe(12_000);
    expect(toMinor('0.5')).toBe(50);
    expect(() => toMinor('12,00')).toThrow(RangeError);
    expect(rateOf(12_000, 120_000)).toBe('100000.00');
    expect(rateOf(100, 3)).toBe('33333333.33');
    expect(rateOf(200, 3)).toBe('66666666.67');
    expect(fiatMinorOf(30_000, 12_000, 120_000)).toBe(3_000);
    expect(fiatMinorOf(5, 12_000, 120_000)).toBe(1); // 0.5 centime rounds up
    expect(fiatMinorOf(4, 12_000, 120_000)).toBe(0);
    expect(() => fiatMinorOf(1, 100, 0)).toThrow(RangeError);
  });

  it('names a receipt by how it compares with what was due', () => {
    expect(receiptKind(100, 100)).toBe('paid');
    expect(receiptKind(150, 100)).toBe('over');
    expect(receiptKind(50, 100)).toBe('under');
  });
});

describe('balanceOf', () => {
  const cases: Array<[string, LedgerMovement[], { state: string; balanced: boolean; keptSats?: number; outstandingSats?: number }]> = [
    ['nothing yet: an invoice only', [at('invoice_created', 120_000)], { state: 'nothing_paid', balanced: true, keptSats: 0 }],
    ['paid exactly', [at('invoice_created', 120_000), at('paid', 120_000)], { state: 'paid', balanced: true, keptSats: 120_000 }],
    ['over-paid, the excess owed', [at('invoice_created', 120_000), at('over', 150_000), at('refund_due', 30_000)], { state: 'refund_outstanding', balanced: false, outstandingSats: 30_000 }],
    ['over-paid, the excess paid back', [at('invoice_created', 120_000), at('over', 150_000), at('refund_due', 30_000), at('refund_paid', 30_000)], { state: 'paid', balanced: true, keptSats: 120_000 }],
    ['under-paid and still open', [at('invoice_created', 120_000), at('under', 50_000)], { state: 'short', balanced: false, keptSats: 50_000 }],
    ['under-paid, ended, owed back', [at('invoice_created', 120_000), at('under', 50_000), at('refund_due', 50_000)], { state: 'refund_outstanding', balanced: false }],
    ['under-paid, ended, paid back', [at('invoice_created', 120_000), at('under', 50_000), at('refund_due', 50_000), at('refund_paid', 50_000)], { state: 'refunded', balanced: true, keptSats: 0 }],
    [
      'over-paid then cancelled: the refund raised to all, paid back',
      [at('invoice_created', 120_000), at('over', 125_000), at('refund_due', 5_000), at('refund_due', 120_000), at('refund_paid', 125_000)],
      { state: 'refunded', balanced: true, outstandingSats: 0 },
    ],
    ['more paid back than owed', [at('invoice_created', 120_000), at('paid', 120_000), at('refund_paid', 1)], { state: 'inconsistent', balanced: false }],
    ['more owed back than received', [at('invoice_created', 120_000), at('under', 10), at('refund_due', 20)], { state: 'inconsistent', balanced: false }],
    ['kept more than due without a refund', [at('invoice_created', 120_000), at('over', 150_000)], { state: 'inconsistent', balanced: false }],
  ];
  it.each(cases)('%s', (_name, movements, expected) => {
    expect(balanceOf(movements)).toMatchObject(expected);
    // The order of the rows does not matter.
    expect(balanceOf([...movements].reverse())).toMatchObject(expected);
  });

  it('adds the fiat side at the invoice rate', () => {
    const b = balanceOf([at('invoice_created', 120_000), at('over', 150_000), at('refund_due', 30_000), at('refund_paid', 10_000)]);
    expect(b.fiat).toEqual({ dueMinor: 12_000, receivedMinor: 15_000, refundDueMinor: 3_000, refundPaidMinor: 1_000, keptMinor: 12_000, outstandingMinor: 2_000 });
  });
});
