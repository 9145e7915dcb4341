import { balanceOf, fiatMinorOf, type LedgerKind, type LedgerMovement } from './ledger';
import { endedShort, minorToAmount } from './top-up';

const now = new Date('2026-12-01T12:00:00Z');
const inMinutes = (m: number) => new Date(now.getTime() + m * 60_000);
// 120.00 CHF for 120 000 sats; 80 000 came in.
const facts = { kind: 'booking' as const, amountMinor: 12_000, invoiceSats: 120_000, receivedSats: 80_000, holdExpiresAt: inMinutes(30), cancelled: false };

describe('endedShort: a top-up for the rest, or the money back', () => {
  it('the booking invoice, part paid, the hold still running: a top-up for the rest at the locked price', () => {
    expect(endedShort(facts, now)).toEqual({ kind: 'top_up', restMinor: 4_000, shortfallSats: 40_000 });
    // The rest is the price less the received share, rounded as the ledger rounds: never more than the price.
    expect(endedShort({ ...facts, amountMinor: 100, invoiceSats: 3, receivedSats: 1 }, now)).toEqual({ kind: 'top_up', restMinor: 67, shortfallSats: 2 });
  });

  it('refunds instead: a top-up itself, nothing received, nothing missing, cancelled, the hold unknown or ending', () => {
    expect(endedShort({ ...facts, kind: 'top_up' }, now)).toEqual({ kind: 'refund', why: 'second_invoice' });
    expect(endedShort({ ...facts, receivedSats: 0 }, now)).toEqual({ kind: 'refund', why: 'nothing_received' });
    expect(endedShort({ ...facts, receivedSats: 120_000 }, now)).toEqual({ kind: 'refund', why: 'nothing_missing' });
    // 119 999 of 120 000 sats is 120.00 CHF once rounded: nothing left to ask in fiat.
    expect(endedShort({ ...facts, receivedSats: 119_999 }, now)).toEqual({ kind: 'refund', why: 'nothing_missing' });
    expect(endedShort({ ...facts, cancelled: true }, now)).toEqual({ kind: 'refund', why: 'cancelled' });
    expect(endedShort({ ...facts, holdExpiresAt: null }, now)).toEqual({ kind: 'refund', why: 'hold_unknown' });
    expect(endedShort({ ...facts, holdExpiresAt: inMinutes(0.5) }, now)).toEqual({ kind: 'refund', why: 'hold_ending' });
    expect(endedShort({ ...facts, holdExpiresAt: inMinutes(-5) }, now)).toEqual({ kind: 'refund', why: 'hold_ending' });
  });

  it('formats minor units as the invoices store amounts', () => {
    expect(minorToAmount(4_000)).toBe('40.00');
    expect(minorToAmount(67)).toBe('0.67');
    expect(minorToAmount(5)).toBe('0.05');
    expect(() => minorToAmount(-1)).toThrow(RangeError);
    expect(() => minorToAmount(1.5)).toThrow(RangeError);
  });
});

describe('the ledger of a booking topped up', () => {
  // The booking invoice: 120.00 CHF = 120 000 sats. The top-up: 40.00 CHF quoted at another rate (40 400 sats).
  const first = (kind: LedgerKind, sats: number): LedgerMovement => ({ kind, sats, fiatMinor: fiatMinorOf(sats, 12_000, 120_000) });
  const topUp = (kind: LedgerKind, sats: number): LedgerMovement => ({ kind, sats, fiatMinor: fiatMinorOf(sats, 4_000, 40_400) });
  const carried = [first('invoice_created', 120_000), first('under', 80_000), first('shortfall_carried', 40_000), topUp('top_up_created', 40_400)];

  it('is short while the top-up is open, paid once it is paid: due is the first less the shortfall plus the top-up', () => {
    expect(balanceOf(carried)).toMatchObject({ state: 'short', balanced: false, dueSats: 120_400, keptSats: 80_000 });
    const paid = balanceOf([...carried, topUp('paid', 40_400)]);
    expect(paid).toMatchObject({ state: 'paid', balanced: true, dueSats: 120_400, keptSats: 120_400 });
    expect(paid.fiat).toMatchObject({ dueMinor: 12_000, keptMinor: 12_000 });
  });

  it('an over-paid top-up balances once its excess is paid back', () => {
    const over = [...carried, topUp('over', 50_400), topUp('refund_due', 10_000)];
    expect(balanceOf(over)).toMatchObject({ state: 'refund_outstanding', balanced: false, outstandingSats: 10_000 });
    expect(balanceOf([...over, topUp('refund_paid', 10_000)])).toMatchObject({ state: 'paid', balanced: true });
  });

  it('a top-up that ended unpaid: everything received (both invoices) owed back, then refunded', () => {
    const ended = [...carried, topUp('under', 10_000), first('refund_due', 80_000), topUp('refund_due', 10_000)];
    expect(balanceOf(ended)).toMatchObject({ state: 'refund_outstanding', outstandingSats: 90_000 });
    expect(balanceOf([...ended, first('refund_paid', 90_000)])).toMatchObject({ state: 'refunded', balanced: true, keptSats: 0 });
  });
});
