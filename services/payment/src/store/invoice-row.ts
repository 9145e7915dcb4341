import { Prisma, type Invoice } from '../generated/prisma';

/**
 * An invoice read by a statement on the pool (the booking's CreateInvoice runs there: see
 * PaymentStore.claimCreation), shaped as Prisma's `Invoice` so that every caller sees one type.
 * Each field of the model with its column; a field added to the model and not here fails the
 * type check below.
 */
const COLUMNS: { [F in keyof Invoice]-?: string } = {
  id: 'id',
  appointmentId: 'appointment_id',
  kind: 'kind',
  holdExpiresAt: 'hold_expires_at',
  patientId: 'patient_id',
  provider: 'provider',
  providerInvoiceId: 'provider_invoice_id',
  status: 'status',
  amount: 'amount',
  currency: 'currency',
  sats: 'sats',
  lightningInvoice: 'lightning_invoice',
  onchainAddress: 'onchain_address',
  paymentUri: 'payment_uri',
  checkoutUrl: 'checkout_url',
  expiresAt: 'expires_at',
  paidAt: 'paid_at',
  paidSats: 'paid_sats',
  paymentMethod: 'payment_method',
  providerState: 'provider_state',
  seenAt: 'seen_at',
  lastCheckedAt: 'last_checked_at',
  cancelledAt: 'cancelled_at',
  traceparent: 'traceparent',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

/** `SELECT ${invoiceColumns} FROM …`: every column under its field's name. */
export const invoiceColumns = Object.entries(COLUMNS)
  .map(([field, column]) => `"${column}" AS "${field}"`)
  .join(', ');

/** What node-postgres gives for those columns: numeric and int8 as strings, timestamps as Dates. */
export type InvoiceRow = Omit<Invoice, 'amount' | 'sats' | 'paidSats'> & { amount: string; sats: string; paidSats: string | null };

export function invoiceOf(row: InvoiceRow): Invoice {
  return { ...row, amount: new Prisma.Decimal(row.amount), sats: BigInt(row.sats), paidSats: row.paidSats === null ? null : BigInt(row.paidSats) };
}
