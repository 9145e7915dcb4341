import { payment } from '@cryptocare/contracts';
import { defineService, failedPrecondition, invalidArgument, isUuid, notFound, unauthenticated, unavailable, type Logger } from '@cryptocare/platform';
import { balanceOf, type LedgerKind } from '../domain/ledger';
import { parsePrice } from '../domain/money';
import { AmountOutsideLimitsError, HoldTooShortError, MAX_WEBHOOK_BYTES, ProviderUnavailableError, UnknownProviderError, type Payments } from '../payments';
import { WebhookPayloadError, WebhookSignatureError } from '../providers/provider';
import type { Invoice, LedgerEntry, PaymentStore, Refund } from '../store/payment-store';
import { webhooksReceived } from '../metrics';

const statusToProto: Record<string, payment.InvoiceStatus> = {
  open: payment.InvoiceStatus.INVOICE_STATUS_OPEN,
  paid: payment.InvoiceStatus.INVOICE_STATUS_PAID,
  expired: payment.InvoiceStatus.INVOICE_STATUS_EXPIRED,
  refund_due: payment.InvoiceStatus.INVOICE_STATUS_REFUND_DUE,
};

export function invoiceMessage(invoice: Invoice): payment.Invoice {
  return {
    id: invoice.id,
    appointmentId: invoice.appointmentId,
    status: statusToProto[invoice.status] ?? payment.InvoiceStatus.INVOICE_STATUS_UNSPECIFIED,
    amount: { amount: invoice.amount.toFixed(2), currency: invoice.currency },
    sats: Number(invoice.sats),
    lightningInvoice: invoice.lightningInvoice,
    onchainAddress: invoice.onchainAddress ?? '',
    paymentUri: invoice.paymentUri,
    checkoutUrl: invoice.checkoutUrl,
    expiresAt: invoice.expiresAt.toISOString(),
    provider: invoice.provider,
    paidAt: invoice.paidAt?.toISOString() ?? '',
    kind: invoice.kind,
    paidSats: Number(invoice.paidSats ?? 0n),
  };
}

export function refundMessage(refund: Refund): payment.Refund {
  return {
    id: refund.id,
    invoiceId: refund.invoiceId,
    appointmentId: refund.appointmentId,
    sats: Number(refund.sats),
    reason: refund.reason,
    status: refund.status,
    createdAt: refund.createdAt.toISOString(),
    destinationKind: refund.destinationKind ?? '',
    destination: refund.destination ?? '',
    destinationSetAt: refund.destinationSetAt?.toISOString() ?? '',
    paidAt: refund.paidAt?.toISOString() ?? '',
    txReference: refund.txReference ?? '',
    claimLink: refund.claimLink ?? '',
  };
}

export function ledgerEntryMessage(entry: LedgerEntry): payment.LedgerEntry {
  return {
    id: entry.id,
    invoiceId: entry.invoiceId,
    kind: entry.kind,
    sats: Number(entry.sats),
    fiatMinor: Number(entry.fiatMinor),
    currency: entry.currency,
    rate: entry.rate.toFixed(2),
    provider: entry.provider,
    refundId: entry.refundId ?? '',
    createdAt: entry.createdAt.toISOString(),
  };
}

/** The widest range one reconciliation report covers. */
const MAX_RECONCILIATION_DAYS = 92;
/** Instants a report may name: nothing before the product existed nor far in the future. */
const EARLIEST = Date.UTC(2020, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function reportInstant(raw: string, name: string): Date {
  const at = ISO_INSTANT.test(raw) ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime()) || at.getTime() < EARLIEST || at.getTime() > LATEST) {
    throw invalidArgument('INVALID_RANGE', `${name} must be an ISO 8601 instant between 2020 and 2100`);
  }
  return at;
}

/** A payout's reference: a txid, a payment hash or preimage, a provider's payout id. */
const TX_REFERENCE = /^[\x21-\x7e]{8,200}$/;

/** The queue's cursor: the last row's creation instant and id, opaque to callers. */
function refundCursor(refund: Refund): string {
  return Buffer.from(`${refund.createdAt.toISOString()}|${refund.id}`).toString('base64url');
}

function parseRefundCursor(cursor: string): { createdAt: Date; id: string } | null {
  if (cursor.length > 200) return null;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  return id && isUuid(id) && !Number.isNaN(createdAt.getTime()) ? { createdAt, id } : null;
}

/** How long CreateInvoice waits for another creator of the same invoice, at most. */
const MAX_WAIT_MS = 10_000;

export function paymentService(deps: { payments: Payments; store: PaymentStore; logger: Logger }) {
  const { payments, store } = deps;
  return defineService(
    payment,
    'PaymentService',
    {
      async createInvoice(req, ctx) {
        if (!isUuid(req.appointmentId)) throw invalidArgument('INVALID_APPOINTMENT_ID', 'appointment_id must be a UUID');
        if (!isUuid(req.patientId)) throw invalidArgument('INVALID_PATIENT_ID', 'patient_id must be a UUID');
        const price = parsePrice(req.price?.amount, req.price?.currency);
        if (price === 'INVALID_CURRENCY') throw invalidArgument('INVALID_CURRENCY', 'price currency must be CHF or EUR');
        if (price === 'INVALID_PRICE') throw invalidArgument('INVALID_PRICE', 'price amount must be a positive decimal with at most 2 decimals, e.g. "120.00"');
        const holdExpiresAt = new Date(req.holdExpiresAt);
        if (!req.holdExpiresAt || Number.isNaN(holdExpiresAt.getTime())) throw invalidArgument('INVALID_HOLD_EXPIRY', 'hold_expires_at must be an ISO 8601 instant');
        const waitUntil = Math.min(Date.now() + MAX_WAIT_MS, (ctx.deadline?.getTime() ?? Infinity) - 100);
        try {
          const { invoice } = await payments.createInvoice({ appointmentId: req.appointmentId, patientId: req.patientId, price, holdExpiresAt }, waitUntil);
          return { invoice: invoiceMessage(invoice) };
        } catch (err) {
          if (err instanceof ProviderUnavailableError) {
            throw unavailable('PAYMENT_PROVIDER_UNAVAILABLE', 'the payment provider is unavailable; the invoice will be created as soon as it is back');
          }
          if (err instanceof HoldTooShortError) throw failedPrecondition('HOLD_EXPIRED', 'the booking hold ends too soon to pay it');
          if (err instanceof AmountOutsideLimitsError) throw failedPrecondition('PAYMENT_AMOUNT_OUTSIDE_LIMITS', 'no payment provider accepts this amount');
          throw err;
        }
      },

      async getInvoice(req) {
        if (!isUuid(req.appointmentId)) throw invalidArgument('INVALID_APPOINTMENT_ID', 'appointment_id must be a UUID');
        const invoice = await store.findInvoiceByAppointment(req.appointmentId);
        if (!invoice) throw notFound('INVOICE_NOT_FOUND', 'no invoice for this appointment');
        const [refund, topUp] = await Promise.all([store.findRefund(invoice.id), store.findTopUp(req.appointmentId)]);
        return { invoice: invoiceMessage(invoice), ...(refund ? { refund: refundMessage(refund) } : {}), ...(topUp ? { topUp: invoiceMessage(topUp) } : {}) };
      },

      async setRefundDestination(req) {
        if (!isUuid(req.appointmentId)) throw invalidArgument('INVALID_APPOINTMENT_ID', 'appointment_id must be a UUID');
        if (!isUuid(req.patientId)) throw invalidArgument('INVALID_PATIENT_ID', 'patient_id must be a UUID');
        const result = await store.setRefundDestination(req.appointmentId, req.patientId, req.destination);
        if (typeof result !== 'string') return { refund: refundMessage(result) };
        switch (result) {
          case 'BOOKING_NOT_FOUND':
            throw notFound(result, 'no such booking');
          case 'NO_REFUND_DUE':
            throw notFound(result, 'nothing is owed back for this booking');
          case 'REFUND_IN_PROGRESS':
            throw failedPrecondition(result, 'the refund is already being paid; its destination can no longer change');
          case 'WRONG_NETWORK':
            throw invalidArgument(result, 'the destination is for another Bitcoin network than the payment');
          case 'INVOICE_AMOUNT_MISMATCH':
            throw invalidArgument(result, 'a Lightning invoice for a refund must ask for exactly the sats owed');
          case 'INVOICE_EXPIRED':
            throw invalidArgument(result, 'the Lightning invoice has expired');
          case 'UNSUPPORTED_ADDRESS_TYPE':
            throw invalidArgument(result, 'give a segwit address (bc1…), a Lightning address or a Lightning invoice');
          default:
            throw invalidArgument('INVALID_REFUND_DESTINATION', 'give a Lightning address (user@domain), a Lightning invoice or an on-chain address');
        }
      },

      async listRefunds(req) {
        if (req.status !== 'due' && req.status !== 'paid') throw invalidArgument('INVALID_REFUND_STATUS', 'status must be "due" or "paid"');
        const limit = req.limit === 0 ? 50 : req.limit;
        if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalidArgument('INVALID_LIMIT', 'limit must be 1 to 200');
        const after = req.cursor ? parseRefundCursor(req.cursor) : undefined;
        if (after === null) throw invalidArgument('INVALID_CURSOR', 'cursor is not one this service gave');
        const rows = await store.listRefunds(req.status, limit + 1, after);
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return { refunds: page.map(refundMessage), nextCursor: rows.length > limit && last ? refundCursor(last) : '' };
      },

      async markRefundPaid(req) {
        if (!isUuid(req.refundId)) throw invalidArgument('INVALID_REFUND_ID', 'refund_id must be a UUID');
        if (!isUuid(req.adminId)) throw invalidArgument('INVALID_ADMIN_ID', 'admin_id must be a UUID');
        if (!TX_REFERENCE.test(req.txReference)) throw invalidArgument('INVALID_TX_REFERENCE', 'tx_reference must be 8 to 200 printable ASCII characters (a transaction id or payment hash)');
        const result = await store.markRefundPaid(req.refundId, req.adminId, req.txReference);
        if (typeof result !== 'string') return { refund: refundMessage(result) };
        if (result === 'REFUND_NOT_FOUND') throw notFound(result, 'no such refund');
        if (result === 'REFUND_ALREADY_PAID') throw failedPrecondition(result, 'this refund was already paid with another transaction');
        if (result === 'REFUND_IN_PROGRESS') throw failedPrecondition(result, 'the payment provider pays this refund out (the patient claims it)');
        throw failedPrecondition(result, 'the patient has not said where this refund goes yet');
      },

      async getLedger(req) {
        if (!isUuid(req.appointmentId)) throw invalidArgument('INVALID_APPOINTMENT_ID', 'appointment_id must be a UUID');
        const entries = await store.ledgerOf(req.appointmentId);
        const b = balanceOf(entries.map((e) => ({ kind: e.kind as LedgerKind, sats: Number(e.sats), fiatMinor: Number(e.fiatMinor) })));
        return {
          entries: entries.map(ledgerEntryMessage),
          balance: {
            dueSats: b.dueSats,
            receivedSats: b.receivedSats,
            refundDueSats: b.refundDueSats,
            refundPaidSats: b.refundPaidSats,
            keptSats: b.keptSats,
            outstandingSats: b.outstandingSats,
            dueFiatMinor: b.fiat.dueMinor,
            receivedFiatMinor: b.fiat.receivedMinor,
            keptFiatMinor: b.fiat.keptMinor,
            outstandingFiatMinor: b.fiat.outstandingMinor,
            state: b.state,
            balanced: b.balanced,
            currency: entries[0]?.currency ?? '',
          },
        };
      },

      async getReconciliation(req) {
        const from = reportInstant(req.from, 'from');
        const to = reportInstant(req.to, 'to');
        if (from.getTime() >= to.getTime()) throw invalidArgument('INVALID_RANGE', 'from must be before to');
        if (to.getTime() - from.getTime() > MAX_RECONCILIATION_DAYS * 86_400_000) throw invalidArgument('RANGE_TOO_WIDE', `one report covers at most ${MAX_RECONCILIATION_DAYS} days`);
        const { rows, truncated } = await payments.reconciliationReport(from, to);
        return {
          rows: rows.map((r) => ({
            invoiceId: r.invoice.id,
            appointmentId: r.invoice.appointmentId,
            provider: r.invoice.provider,
            providerInvoiceId: r.invoice.providerInvoiceId,
            createdAt: r.invoice.createdAt.toISOString(),
            currency: r.invoice.currency,
            dueSats: r.dueSats,
            ledgerPaidSats: r.ledgerPaidSats,
            ledgerPaidFiatMinor: r.ledgerPaidFiatMinor,
            providerPaidSats: r.providerPaidSats,
            providerState: r.providerState,
            outcome: r.outcome,
          })),
          mismatches: rows.filter((r) => r.outcome === 'mismatch').length,
          unknown: rows.filter((r) => r.outcome === 'unknown').length,
          truncated,
        };
      },

      async ingestWebhook(req) {
        const provider = req.provider;
        if (req.rawBody.length === 0) throw invalidArgument('EMPTY_WEBHOOK', 'raw_body is empty');
        if (req.rawBody.length > MAX_WEBHOOK_BYTES) throw invalidArgument('WEBHOOK_TOO_LARGE', `raw_body exceeds ${MAX_WEBHOOK_BYTES} bytes`);
        try {
          const result = await payments.ingestWebhook(provider, Buffer.from(req.rawBody), req.headers);
          webhooksReceived.labels(provider, result.accepted ? 'accepted' : 'duplicate').inc();
          return result;
        } catch (err) {
          if (err instanceof UnknownProviderError) throw invalidArgument('UNKNOWN_PROVIDER', err.message);
          if (err instanceof WebhookSignatureError) {
            webhooksReceived.labels(provider, 'invalid_signature').inc();
            throw unauthenticated('INVALID_SIGNATURE', 'the webhook signature is missing or wrong');
          }
          if (err instanceof WebhookPayloadError) throw invalidArgument('INVALID_WEBHOOK_BODY', err.message);
          throw err;
        }
      },
    },
    deps.logger,
  );
}
