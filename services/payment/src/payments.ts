// payment's use cases: invoices for bookings, webhooks, reconciliation, and the reactions to the
// booking's lifecycle. Provider calls happen here, never inside a database transaction of ours
// that holds a lock (the webhook consumer's own transaction is the one exception: see there).
import { continueTrace, type Logger } from '@cryptocare/platform';
import type { DomainEvent } from '@cryptocare/events';
import { invoiceExpiry, MIN_INVOICE_LIFETIME_MS, retryDelayMs, type FinalityPolicy } from './domain/invoice-rules';
import { paymentUri } from './domain/payment-uri';
import { classifyPayment } from './domain/payment-class';
import { refundReason } from './domain/refund-reason';
import type { Price } from './domain/money';
import { invoiceCreationSeconds, invoiceProvider, invoiceTransitions, pendingInvoicesAbandoned, providerFailovers, webhookToConfirmationSeconds } from './metrics';
import { PROVIDER_NAMES, type PaymentProvider, type ProviderName } from './providers/provider';
import type { AppliedObservation, CreationRequest, Invoice, InvoiceToCheck, PaymentStore, Tx } from './store/payment-store';

/** What the payer's wallet shows: never the specialty or the reason (ARCHITECTURE section 4). */
export const INVOICE_TITLE = 'CryptoCare consultation';
export const invoiceDescription = (appointmentId: string) => `Booking ${appointmentId}`;

/** Larger raw bodies are refused before any work. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export interface PaymentsConfig {
  invoiceTtlMinutes: number;
  finality: FinalityPolicy;
  /** Where providers reach the gateway: webhooks go to `${publicBaseUrl}/webhooks/<provider>`. */
  publicBaseUrl: string;
  /** How long one creator may hold the right to call the provider for one booking. */
  creationLeaseMs: number;
  pendingRetryBaseMs: number;
  pendingRetryMaxMs: number;
  /** `appointment.held` leaves the gateway this long to create the invoice itself. */
  heldGraceMs: number;
  reconcileEveryMs: number;
  reconcileMinAgeMs: number;
  /** How often an invoice the provider expired is polled for a late payment, and for how long after its expiry. */
  latePaymentCheckEveryMs: number;
  latePaymentWindowMs: number;
}

export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}
export class HoldTooShortError extends Error {
  override name = 'HoldTooShortError';
}
export class UnknownProviderError extends Error {
  override name = 'UnknownProviderError';
}
/** Every configured provider refuses this amount (its transaction limits): retrying will not help. */
export class AmountOutsideLimitsError extends Error {
  override name = 'AmountOutsideLimitsError';
}

/** One report covers this many invoices at most (the range is narrowed for more). */
export const RECONCILIATION_MAX_INVOICES = 2_000;
const RECONCILIATION_CONCURRENCY = 8;

export interface ReconciliationLine {
  invoice: { id: string; appointmentId: string; provider: string; providerInvoiceId: string; currency: string; createdAt: Date };
  dueSats: number;
  ledgerPaidSats: number;
  ledgerPaidFiatMinor: number;
  /** -1: the provider could not be read. */
  providerPaidSats: number;
  providerState: string;
  outcome: 'match' | 'mismatch' | 'pending' | 'unknown';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A provider error as one log-safe line (status and a short excerpt; never request headers). */
const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 300);

export class Payments {
  constructor(
    private readonly store: PaymentStore,
    private readonly providers: ReadonlyMap<ProviderName, PaymentProvider>,
    /**
     * Who makes new invoices, in order: the primary, then the fallbacks taking over while the ones
     * before them are unavailable (breaker open, or the call failed). An invoice is always served
     * (status, webhooks, reconciliation) by the provider that made it.
     */
    private readonly order: readonly PaymentProvider[],
    private readonly config: PaymentsConfig,
    private readonly logger: Logger,
  ) {
    if (order.length === 0) throw new Error('Payments needs at least one provider');
    for (const p of order) invoiceProvider.labels(p.name).set(p === order[0] ? 1 : 0);
  }

  /** The provider the next invoice is tried with first: the first one whose breaker is not open. */
  get activeProvider(): ProviderName {
    return (this.order.find((p) => p.available()) ?? this.order[0]!).name;
  }

  // ---------------------------------------------------------------- creation --

  /**
   * The gateway's CreateInvoice: idempotent per appointment. When another creator (the pending
   * creator after `appointment.held`) is calling the provider for this booking right now, waits
   * for its result until `waitUntil`.
   */
  async createInvoice(req: CreationRequest, waitUntil: number): Promise<{ invoice: Invoice; outcome: 'created' | 'existing' }> {
    const started = process.hrtime.bigint();
    const observe = (outcome: string, provider: string = this.activeProvider) =>
      invoiceCreationSeconds.labels(provider, outcome).observe(Number(process.hrtime.bigint() - started) / 1e9);
    try {
      if (req.holdExpiresAt.getTime() - Date.now() < MIN_INVOICE_LIFETIME_MS) {
        // A hold that short may still have its invoice (a call repeated late): that one is the answer.
        const existing = await this.store.findInvoiceByAppointment(req.appointmentId);
        if (existing) {
          observe('existing');
          return { invoice: existing, outcome: 'existing' };
        }
        throw new HoldTooShortError('the booking hold ends too soon to pay');
      }
      // An invoice made already is found by the claim (in its transaction): no read before it, as
      // every booking waits for this call (booking + QR p95 < 200 ms).
      for (;;) {
        const claim = await this.store.claimCreation(req, this.config.creationLeaseMs);
        if (claim.kind === 'exists') {
          observe('existing');
          return { invoice: claim.invoice, outcome: 'existing' };
        }
        if (claim.kind === 'claimed') {
          const { invoice, created } = await this.createClaimed(req, claim.attempts);
          observe(created ? 'created' : 'existing', invoice.provider);
          return { invoice, outcome: created ? 'created' : 'existing' };
        }
        const left = waitUntil - Date.now();
        if (left <= 0) throw new ProviderUnavailableError('the invoice is being created; try again shortly');
        await sleep(Math.min(100, left));
      }
    } catch (err) {
      if (err instanceof ProviderUnavailableError) observe('failed');
      throw err;
    }
  }

  /**
   * Calls the provider for a request this caller holds the lease of. On failure (after the
   * provider policy's retries) the pending request keeps it for a later try.
   */
  private async createClaimed(req: CreationRequest, attempts: number): Promise<{ invoice: Invoice; created: boolean }> {
    const now = new Date();
    const expiresAt = invoiceExpiry(now, this.config.invoiceTtlMinutes, req.holdExpiresAt);
    const asked = await this.askProviders({ orderId: req.appointmentId, price: req.price, description: invoiceDescription(req.appointmentId), expiresInMinutes: (expiresAt.getTime() - now.getTime()) / 60_000 });
    if (asked.kind === 'created') {
      const { provider, created, failures } = asked;
      // Said only if this invoice's provider differs from the previous invoice's (finishCreation).
      const switchReason =
        failures.length > 0 ? failures.join('; ') : provider !== this.order[0] ? `${this.order[0]!.name}: unavailable (its circuit is open)` : `${provider.name} answered again`;
      const result = await this.store.finishCreation(req, provider.name, created, paymentUri(created), switchReason);
      if (!result.created) {
        this.logger.warn({ appointmentId: req.appointmentId, providerInvoiceId: created.providerInvoiceId }, 'another creator won; the provider invoice made here is left unused');
      }
      return result;
    }
    if (asked.kind === 'refused') {
      await this.store.refuseCreation(req.appointmentId);
      this.logger.warn({ appointmentId: req.appointmentId, errors: asked.failures }, 'no provider takes this amount; not retried');
      throw new AmountOutsideLimitsError(`no payment provider accepts ${req.price.amount} ${req.price.currency}`);
    }
    const delay = retryDelayMs(attempts + 1, this.config.pendingRetryBaseMs, this.config.pendingRetryMaxMs);
    await this.store.recordCreationFailure(req.appointmentId, asked.failures.join('; '), delay);
    this.logger.warn({ appointmentId: req.appointmentId, attempts: attempts + 1, errors: asked.failures }, 'no provider could create the invoice; kept pending');
    throw new ProviderUnavailableError(`no payment provider is available (${this.order.map((p) => p.name).join(', ')})`);
  }

  /**
   * Asks the providers for an invoice, in the failover order: those whose breaker is open are
   * skipped (tried last, in case every one is): a provider known to be down costs the patient no
   * time; it is tried again once its breaker half-opens. An amount a provider's limits refuse goes
   * to the next one.
   */
  private async askProviders(order: { orderId: string; price: Price; description: string; expiresInMinutes: number }): Promise<
    | { kind: 'created'; provider: PaymentProvider; created: Awaited<ReturnType<PaymentProvider['createInvoice']>>; failures: string[] }
    | { kind: 'refused' | 'failed'; failures: string[] }
  > {
    const candidates = [...this.order.filter((p) => p.available()), ...this.order.filter((p) => !p.available())];
    const failures: string[] = [];
    let refusedByLimits = 0;
    for (const provider of candidates) {
      const limits = await provider.limits?.(order.price.currency);
      const amount = Number(order.price.amount);
      if (limits && ((limits.min !== undefined && amount < limits.min) || (limits.max !== undefined && amount > limits.max))) {
        refusedByLimits++;
        failures.push(`${provider.name}: ${order.price.amount} ${order.price.currency} is outside its limits (${limits.min ?? '-'}..${limits.max ?? '-'})`);
        continue;
      }
      let created;
      try {
        created = await provider.createInvoice({
          orderId: order.orderId,
          amount: order.price.amount,
          currency: order.price.currency,
          title: INVOICE_TITLE,
          description: order.description,
          expiresInMinutes: order.expiresInMinutes,
          webhookUrl: `${this.config.publicBaseUrl}/webhooks/${provider.name}`,
        });
      } catch (err) {
        failures.push(`${provider.name}: ${describe(err)}`);
        this.logger.warn({ provider: provider.name, orderId: order.orderId, error: describe(err) }, 'provider could not create the invoice; trying the next one');
        continue;
      }
      if (provider !== this.order[0]) {
        providerFailovers.labels(this.order[0]!.name, provider.name).inc();
        this.logger.warn({ provider: provider.name, primary: this.order[0]!.name, orderId: order.orderId }, 'invoice created by the fallback provider');
      }
      for (const p of this.order) invoiceProvider.labels(p.name).set(p === provider ? 1 : 0);
      return { kind: 'created', provider, created, failures };
    }
    return { kind: refusedByLimits === candidates.length ? 'refused' : 'failed', failures };
  }

  /**
   * Background: makes the top-ups that are due (a booking invoice ended under-paid while the
   * booking is held): an invoice for the rest from the provider that is available now (failover
   * rules apply; it then serves that invoice). Retried with backoff; given up (what came in owed
   * back, the slot released) when the hold leaves too little time or no provider takes the amount.
   */
  async createDueTopUps(batch = 10): Promise<boolean> {
    const rows = await this.store.claimDueTopUps(batch, this.config.creationLeaseMs);
    await Promise.all(
      rows.map(async (row) => {
        const now = new Date();
        if (row.holdExpiresAt.getTime() - now.getTime() < MIN_INVOICE_LIFETIME_MS) {
          if (await this.store.giveUpTopUp(row.appointmentId)) this.logger.warn({ appointmentId: row.appointmentId, attempts: row.attempts, lastError: row.lastError }, 'gave up the top-up: the hold ends; what came in is owed back');
          return;
        }
        const expiresAt = invoiceExpiry(now, this.config.invoiceTtlMinutes, row.holdExpiresAt);
        const asked = await this.askProviders({
          // The booking's own invoice used the appointment id: the top-up's order id differs, for providers that look orders up.
          orderId: `${row.appointmentId}-top-up`,
          price: { amount: row.amount.toFixed(2), currency: row.currency as Price['currency'] },
          description: invoiceDescription(row.appointmentId),
          expiresInMinutes: (expiresAt.getTime() - now.getTime()) / 60_000,
        });
        if (asked.kind === 'created') {
          const { invoice, created } = await this.store.finishTopUp(row, asked.provider.name, asked.created, paymentUri(asked.created));
          if (created) this.logger.info({ appointmentId: row.appointmentId, invoiceId: invoice!.id, provider: asked.provider.name }, 'top-up created');
          else this.logger.warn({ appointmentId: row.appointmentId, providerInvoiceId: asked.created.providerInvoiceId }, 'the top-up was made or given up meanwhile; the provider invoice made here is left unused');
          return;
        }
        if (asked.kind === 'refused') {
          await this.store.giveUpTopUp(row.appointmentId);
          this.logger.warn({ appointmentId: row.appointmentId, errors: asked.failures }, 'no provider takes the top-up amount; what came in is owed back');
          return;
        }
        const delay = retryDelayMs(row.attempts + 1, this.config.pendingRetryBaseMs, this.config.pendingRetryMaxMs);
        await this.store.recordTopUpFailure(row.appointmentId, asked.failures.join('; '), delay);
        this.logger.warn({ appointmentId: row.appointmentId, attempts: row.attempts + 1, errors: asked.failures }, 'no provider could create the top-up; tried again');
      }),
    );
    return rows.length === batch;
  }

  /** Background: retries the pending requests that are due; gives up on those whose hold ended. */
  async createDuePending(batch = 10): Promise<boolean> {
    const rows = await this.store.claimDuePending(batch, this.config.creationLeaseMs);
    await Promise.all(
      rows.map(async (row) => {
        const req: CreationRequest = {
          appointmentId: row.appointmentId,
          patientId: row.patientId,
          price: { amount: row.priceAmount.toFixed(2), currency: row.priceCurrency as Price['currency'] },
          holdExpiresAt: row.holdExpiresAt,
        };
        if (req.holdExpiresAt.getTime() - Date.now() < MIN_INVOICE_LIFETIME_MS) {
          await this.store.dropPending(req.appointmentId);
          pendingInvoicesAbandoned.inc();
          this.logger.warn({ appointmentId: req.appointmentId, attempts: row.attempts, lastError: row.lastError }, 'gave up creating the invoice: the hold ended');
          return;
        }
        if (await this.store.findInvoiceByAppointment(req.appointmentId)) {
          await this.store.dropPending(req.appointmentId);
          return;
        }
        try {
          const { invoice, created } = await this.createClaimed(req, row.attempts);
          if (created) this.logger.info({ appointmentId: req.appointmentId, invoiceId: invoice.id, attempts: row.attempts + 1 }, 'pending invoice created');
        } catch (err) {
          if (!(err instanceof ProviderUnavailableError) && !(err instanceof AmountOutsideLimitsError)) this.logger.error({ err, appointmentId: req.appointmentId }, 'pending invoice creation failed');
        }
      }),
    );
    return rows.length === batch;
  }

  // ---------------------------------------------------------------- webhooks --

  provider(name: string): PaymentProvider {
    const provider = (PROVIDER_NAMES as readonly string[]).includes(name) ? this.providers.get(name as ProviderName) : undefined;
    if (!provider) throw new UnknownProviderError(`no payment provider "${name}" is configured`);
    return provider;
  }

  /**
   * IngestWebhook: verify, then store raw under the provider's event id with its work item, in
   * one transaction. No provider call here: the gateway answers the provider at once.
   */
  async ingestWebhook(providerName: string, rawBody: Buffer, headers: Record<string, string>): Promise<{ accepted: boolean; eventId: string }> {
    const provider = this.provider(providerName);
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
    const verified = provider.verifyWebhook(rawBody, lower);
    // Credentials a proxy may have forwarded are not kept.
    delete lower.authorization;
    delete lower.cookie;
    const accepted = await this.store.insertWebhook(provider.name, verified, rawBody, lower);
    return { accepted, eventId: verified.providerEventId };
  }

  /**
   * `payment.webhook_received`: re-reads the invoice from the provider (the webhook body is only
   * a hint) and applies what it says. This runs in the consumer's transaction, so the provider call
   * holds a pooled connection for its duration (bounded by the provider policy); no row lock is
   * held during it. If the provider cannot be read, the inbox row stays unprocessed and the
   * reconciliation loop settles the invoice later.
   */
  async processWebhook(event: DomainEvent<'payment.webhook_received'>, tx: Tx): Promise<void> {
    const row = await this.store.findInboxRow(tx, event.data.inboxId);
    if (!row || row.processedAt) return;
    const provider = this.providers.get(row.provider as ProviderName);
    const invoice = provider && row.providerInvoiceId ? await this.store.findInvoiceByProviderId(tx, row.provider, row.providerInvoiceId) : null;
    if (!provider || !invoice) {
      this.logger.info({ provider: row.provider, providerInvoiceId: row.providerInvoiceId }, 'webhook for no invoice of ours; ignored');
      await this.store.markInboxProcessed(tx, row.id);
      return;
    }
    if (invoice.status === 'paid' || invoice.status === 'refund_due') {
      await this.store.markInboxProcessed(tx, row.id);
      return;
    }
    let observed;
    try {
      observed = await provider.getInvoice(invoice.providerInvoiceId);
    } catch (err) {
      this.logger.warn({ provider: provider.name, invoiceId: invoice.id, error: describe(err) }, 'could not re-read the invoice after a webhook; reconciliation will');
      return;
    }
    // The confirmation belongs to the booking's trace (linked to the webhook's, which is active).
    await continueTrace('payment.apply_provider_state', invoice.traceparent, async () => {
      const applied = await this.store.applyObservation(tx, invoice.id, observed, this.config.finality);
      await this.store.markInboxProcessed(tx, row.id);
      this.record(applied, 'webhook');
    });
  }

  // ---------------------------------------------------------- reconciliation --

  /** One pass: polls the provider for the invoices it may still settle (lost webhooks). */
  async reconcileOnce(batch = 50): Promise<boolean> {
    const rows = await this.store.claimReconcileBatch(batch, this.config.reconcileMinAgeMs, this.config.reconcileEveryMs);
    await Promise.all(rows.map((row) => this.reconcileInvoice(row)));
    return rows.length === batch;
  }

  /**
   * One pass of the late-payment check: invoices the provider expired recently, of providers where
   * money can still land afterwards (BTCPay's PaidLate), polled in case that payment's webhook was
   * lost. A late payment then confirms the booking or is owed back, as through the webhook.
   */
  async checkLatePaymentsOnce(batch = 50): Promise<boolean> {
    const providers = [...this.providers.values()].filter((p) => p.takesLatePayments).map((p) => p.name);
    const rows = await this.store.claimLateCheckBatch(batch, providers, this.config.latePaymentCheckEveryMs, this.config.latePaymentWindowMs);
    await Promise.all(rows.map((row) => this.reconcileInvoice(row)));
    return rows.length === batch;
  }

  private async reconcileInvoice(row: InvoiceToCheck): Promise<void> {
    const provider = this.providers.get(row.provider as ProviderName);
    if (!provider) {
      this.logger.warn({ provider: row.provider, invoiceId: row.id }, 'invoice of a provider that is not configured; cannot reconcile');
      return;
    }
    let observed;
    try {
      observed = await provider.getInvoice(row.providerInvoiceId);
    } catch (err) {
      this.logger.warn({ provider: provider.name, invoiceId: row.id, error: describe(err) }, 'reconciliation could not read the invoice');
      return;
    }
    const applied = await continueTrace('payment.apply_provider_state', row.traceparent, () =>
      this.store.transaction((tx) => this.store.applyObservation(tx, row.id, observed!, this.config.finality)),
    );
    if (applied && applied.transition.kind !== 'none') {
      this.logger.info({ invoiceId: row.id, transition: applied.transition.kind }, 'reconciliation applied a provider change');
    }
    this.record(applied, 'reconciliation');
  }

  private record(applied: AppliedObservation | undefined, via: 'webhook' | 'reconciliation'): void {
    if (!applied || applied.transition.kind === 'none') return;
    invoiceTransitions.labels(applied.transition.kind, via).inc();
    if (applied.transition.kind === 'confirm' && applied.firstWebhookAt) {
      webhookToConfirmationSeconds.labels(applied.invoice.provider).observe(Math.max(0, Date.now() - applied.firstWebhookAt.getTime()) / 1000);
    }
  }

  // ------------------------------------------------ refunds paid by provider --

  /**
   * One pass of the payout task: due refunds of invoices whose provider pays refunds out (BTCPay)
   * are sent to it (a pull payment the patient claims); sent ones are checked, and recorded paid
   * once the provider's payout completed. Others (Swiss Bitcoin Pay) stay in the admin queue.
   */
  async payOutRefundsOnce(batch = 20): Promise<boolean> {
    const payers = [...this.providers.values()].filter((p) => p.refund && p.payoutState);
    if (payers.length === 0) return false;
    const lease = this.config.creationLeaseMs;
    const toSend = await this.store.claimRefundsToSend(payers.map((p) => p.name), batch, lease);
    for (const { refund, invoice } of toSend) {
      const provider = this.providers.get(invoice.provider as ProviderName)!;
      try {
        const sent = await provider.refund!(invoice.providerInvoiceId, { sats: Number(refund.sats), name: refund.id, description: `CryptoCare refund ${refund.id}` });
        await this.store.recordRefundSent(refund.id, provider.name, sent.payoutId, sent.claimLink);
        this.logger.info({ refundId: refund.id, invoiceId: invoice.id, provider: provider.name }, 'refund sent through the provider');
      } catch (err) {
        this.logger.warn({ refundId: refund.id, provider: provider.name, error: describe(err) }, 'the provider could not take the refund; tried again later');
        await this.store.releaseRefundPayout(refund.id, this.config.reconcileEveryMs);
      }
    }
    const toCheck = await this.store.claimSentRefunds(batch, this.config.reconcileEveryMs / 2);
    for (const { refund, invoice } of toCheck) {
      const provider = this.providers.get(invoice.provider as ProviderName);
      if (!provider?.payoutState || !refund.payoutId) continue;
      try {
        const state = await provider.payoutState(refund.payoutId);
        if (state.paid) await this.store.settleSentRefund(refund.id, state.reference ?? refund.payoutId);
      } catch (err) {
        this.logger.warn({ refundId: refund.id, provider: provider.name, error: describe(err) }, 'could not read the refund payout');
      }
    }
    return toSend.length === batch || toCheck.length === batch;
  }

  // ------------------------------------------------- ledger reconciliation --

  /**
   * The accountant's report: per invoice created in [from, to), what our ledger received against
   * what its provider says now (asked a few at a time). A provider that cannot be read leaves its
   * rows "unknown"; an invoice the provider still takes payment for is "pending", not a mismatch.
   */
  async reconciliationReport(from: Date, to: Date, limit = RECONCILIATION_MAX_INVOICES): Promise<{ rows: ReconciliationLine[]; truncated: boolean }> {
    const found = await this.store.reconciliationRows(from, to, limit + 1);
    const rows = found.slice(0, limit);
    const lines: ReconciliationLine[] = new Array(rows.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < rows.length; i = next++) {
        const { invoice, ledgerPaidSats, ledgerPaidFiatMinor } = rows[i]!;
        const base = { invoice, dueSats: Number(invoice.sats), ledgerPaidSats, ledgerPaidFiatMinor };
        const provider = this.providers.get(invoice.provider as ProviderName);
        let observed;
        try {
          if (!provider) throw new UnknownProviderError(`provider ${invoice.provider} is not configured`);
          observed = await provider.getInvoice(invoice.providerInvoiceId);
        } catch (err) {
          this.logger.warn({ provider: invoice.provider, invoiceId: invoice.id, error: describe(err) }, 'reconciliation report could not read the invoice');
          lines[i] = { ...base, providerPaidSats: -1, providerState: 'unreachable', outcome: 'unknown' };
          continue;
        }
        const providerPaidSats = classifyPayment({ state: observed.state, dueSats: observed.dueSats ?? Number(invoice.sats), ...(observed.paidSats === undefined ? {} : { paidSats: observed.paidSats }) }).paidSats;
        // Money the provider holds for an invoice still payable is recorded once the invoice ends.
        const payable = observed.state === 'open' || observed.state === 'seen' || observed.state === 'partial';
        const outcome = providerPaidSats === ledgerPaidSats ? 'match' : payable && ledgerPaidSats === 0 ? 'pending' : 'mismatch';
        lines[i] = { ...base, providerPaidSats, providerState: observed.state, outcome };
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECONCILIATION_CONCURRENCY, rows.length) }, worker));
    return { rows: lines, truncated: found.length > limit };
  }

  // --------------------------------------------------- appointment lifecycle --

  /** `appointment.held`: make sure the booking gets an invoice even if the gateway's call never comes. */
  async onHeld(req: CreationRequest, tx: Tx): Promise<void> {
    if (req.holdExpiresAt.getTime() - Date.now() < MIN_INVOICE_LIFETIME_MS) return;
    await this.store.recordHeld(tx, req, this.config.heldGraceMs);
  }

  async onExpired(appointmentId: string, tx: Tx): Promise<void> {
    await this.store.expireForAppointment(tx, appointmentId);
  }

  async onCancelled(cancellation: { appointmentId: string; reason: string; cancelledBy: string; wasPaid: boolean }, tx: Tx): Promise<void> {
    const { appointmentId, wasPaid } = cancellation;
    const { refund, invoice } = await this.store.cancelForAppointment(tx, appointmentId, refundReason(cancellation.cancelledBy, cancellation.reason));
    if (wasPaid && !refund && invoice?.status !== 'refund_due') {
      this.logger.warn({ appointmentId, status: invoice?.status }, 'cancelled booking reported paid, but its invoice is not paid here; no refund recorded');
    }
  }
}
