// The reconciliation report as CSV for the accountant: one line per invoice, a header line first.
// csv-stringify quotes what needs it (commas, quotes, line breaks) and neutralises nothing else, so
// cells an spreadsheet would run as formulas (=, +, -, @ first) are prefixed with a quote here.
import { stringify } from 'csv-stringify/sync';
import type { payment } from '@cryptocare/contracts';

export const RECONCILIATION_COLUMNS = [
  'invoice_id',
  'appointment_id',
  'provider',
  'provider_invoice_id',
  'created_at',
  'currency',
  'due_sats',
  'ledger_paid_sats',
  'ledger_paid_fiat',
  'provider_paid_sats',
  'provider_state',
  'outcome',
] as const;

/** A cell a spreadsheet would read as a formula starts with a quote instead (OWASP CSV injection). */
const inert = (cell: string) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell);

/** Minor units as a decimal amount ("12000" → "120.00"). */
const major = (minor: number) => `${minor < 0 ? '-' : ''}${Math.trunc(Math.abs(minor) / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;

export function reconciliationCsv(rows: readonly payment.ReconciliationRow[]): string {
  return stringify(
    rows.map((r) => [
      r.invoiceId,
      r.appointmentId,
      inert(r.provider),
      inert(r.providerInvoiceId),
      r.createdAt,
      r.currency,
      String(r.dueSats),
      String(r.ledgerPaidSats),
      major(r.ledgerPaidFiatMinor),
      r.providerPaidSats < 0 ? '' : String(r.providerPaidSats),
      inert(r.providerState),
      r.outcome,
    ]),
    { header: true, columns: [...RECONCILIATION_COLUMNS], record_delimiter: '\r\n' },
  );
}
