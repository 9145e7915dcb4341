import { counter, gauge, histogram, sloBuckets } from '@cryptocare/platform';

/** SLI: Bitcoin QR code < 2 s — how long CreateInvoice takes, by provider and outcome. */
export const invoiceCreationSeconds = histogram(
  'invoice_creation_seconds',
  'CreateInvoice duration (booking to QR code), by provider and outcome (created, existing, failed)',
  ['provider', 'outcome'],
  sloBuckets,
);

/** SLI: payment confirmation < 5 s — from the provider's webhook reaching us to payment.confirmed. */
export const webhookToConfirmationSeconds = histogram(
  'webhook_to_confirmation_seconds',
  'From a provider webhook stored in the inbox to the payment confirmed',
  ['provider'],
  sloBuckets,
);

export const webhooksReceived = counter('payment_webhooks_total', 'Provider webhooks handed to IngestWebhook, by outcome', ['provider', 'outcome']);

export const invoiceTransitions = counter('payment_invoice_transitions_total', 'Invoice transitions, by kind and what noticed them', ['kind', 'via']);

export const pendingInvoicesAbandoned = counter('payment_pending_invoices_abandoned_total', 'Pending invoice requests given up because the hold ended');

/** Failover: new invoices made by a provider other than the primary, by who failed and who took over. */
export const providerFailovers = counter('payment_provider_failovers_total', 'Invoices created by a fallback provider because the one before it was unavailable', ['from', 'to']);

/** Which provider made the last new invoice (1) — the switch and the switch back, as a time series. */
export const invoiceProvider = gauge('payment_invoice_provider', 'The provider new invoices go to: 1 for the one that made the last invoice, 0 for the others', ['provider']);
