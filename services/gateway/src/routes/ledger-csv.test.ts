import type { payment } from '@cryptocare/contracts';
import { RECONCILIATION_COLUMNS, reconciliationCsv } from './ledger-csv';

const row = (over: Partial<payment.ReconciliationRow> = {}): payment.ReconciliationRow => ({
  invoiceId: '0193a000-0000-7000-8000-000000000001',
  appointmentId: '0193a000-0000-7000-8000-000000000002',
  provider: 'swiss-bitcoin-pay',
  providerInvoiceId: 'abc',
  createdAt: '2026-12-01T10:00:00.000Z',
  currency: 'CHF',
  dueSats: 120_000,
  ledgerPaidSats: 125_000,
  ledgerPaidFiatMinor: 12_505,
  providerPaidSats: 125_000,
  providerState: 'paid',
  outcome: 'match',
  ...over,
});

describe('reconciliationCsv', () => {
  it('writes a header and one CRLF line per invoice, fiat as a decimal amount, an unread provider amount empty', () => {
    const csv = reconciliationCsv([row(), row({ ledgerPaidFiatMinor: 7, providerPaidSats: -1, providerState: 'unreachable', outcome: 'unknown' })]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(RECONCILIATION_COLUMNS.join(','));
    expect(lines[1]).toBe('0193a000-0000-7000-8000-000000000001,0193a000-0000-7000-8000-000000000002,swiss-bitcoin-pay,abc,2026-12-01T10:00:00.000Z,CHF,120000,125000,125.05,125000,paid,match');
    expect(lines[2]).toBe('0193a000-0000-7000-8000-000000000001,0193a000-0000-7000-8000-000000000002,swiss-bitcoin-pay,abc,2026-12-01T10:00:00.000Z,CHF,120000,125000,0.07,,unreachable,unknown');
    expect(lines[3]).toBe('');
    expect(reconciliationCsv([])).toBe(`${RECONCILIATION_COLUMNS.join(',')}\r\n`);
  });

  it("quotes what a provider sends (commas, quotes, line breaks) so the columns hold, and defuses a spreadsheet formula", () => {
    const hostile = 'x","=HYPERLINK(""evil"")\r\nline';
    const csv = reconciliationCsv([row({ providerInvoiceId: hostile }), row({ providerInvoiceId: '=1+2', providerState: '@SUM(A1)' })]);
    const [, first, second] = csv.split(/\r\n(?=0193)/);
    // One quoted cell, its quotes doubled, its line break kept inside the quotes.
    expect(first).toBe('0193a000-0000-7000-8000-000000000001,0193a000-0000-7000-8000-000000000002,swiss-bitcoin-pay,"x"",""=HYPERLINK(""""evil"""")\r\nline",2026-12-01T10:00:00.000Z,CHF,120000,125000,125.05,125000,paid,match');
    expect(second).toBe("0193a000-0000-7000-8000-000000000001,0193a000-0000-7000-8000-000000000002,swiss-bitcoin-pay,'=1+2,2026-12-01T10:00:00.000Z,CHF,120000,125000,125.05,125000,'@SUM(A1),match\r\n");
  });
});
