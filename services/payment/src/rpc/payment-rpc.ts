import { payment } from '@cryptocare/contracts';
import { defineService, failedPrecondition, invalidArgument, isUuid, notFound, unauthenticated, unavailable, type Logger } from '@cryptocare/platform';
import { parsePrice } from '../domain/money';
import { AmountOutsideLimitsError, HoldTooShortError, MAX_WEBHOOK_BYTES, ProviderUnavailableError, UnknownProviderError, type Payments } from '../payments';
import { WebhookPayloadError, WebhookSignatureError } from '../providers/provider';
import type { Invoice, PaymentStore, Refund } from '../store/payment-store';
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
  };
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
        const refund = await store.findRefund(invoice.id);
        return { invoice: invoiceMessage(invoice), ...(refund ? { refund: refundMessage(refund) } : {}) };
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
