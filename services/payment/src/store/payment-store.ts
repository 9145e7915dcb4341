import { currentTraceparent } from '@cryptocare/platform';
import { v7 as uuidv7 } from 'uuid';
import type pg from 'pg';
import { auditEvent, poolDatabase, table, type Outbox, type SqlDatabase, type SqlTx } from '@cryptocare/events';
import type { Invoice, LedgerEntry, PendingInvoiceRequest, Prisma, PrismaClient, Refund, TopUpRequest } from '../generated/prisma';
import {
  decideTransition,
  laterProviderState,
  recordedProviderState,
  type FinalityPolicy,
  type InvoiceStatus,
  type ObservedInvoice,
  type ProviderState,
  type Transition,
} from '../domain/invoice-rules';
import type { Price } from '../domain/money';
import { fiatMinorOf, rateOf, receiptKind, toMinor, type LedgerKind } from '../domain/ledger';
import { endedShort, minorToAmount } from '../domain/top-up';
import { networkOfPaymentRequest, parseRefundDestination, type RefundDestinationError } from '../domain/refund-destination';
import type { ProviderInvoice, VerifiedWebhook } from '../providers/provider';
import { invoiceColumns, invoiceOf, type InvoiceRow } from './invoice-row';

export type { Invoice, LedgerEntry, PendingInvoiceRequest, Refund, TopUpRequest };
export type Tx = Prisma.TransactionClient;
export type MarkPaidRefusal = 'REFUND_NOT_FOUND' | 'REFUND_ALREADY_PAID' | 'NO_REFUND_DESTINATION' | 'REFUND_IN_PROGRESS';
export type SetDestinationRefusal = RefundDestinationError | 'BOOKING_NOT_FOUND' | 'NO_REFUND_DUE' | 'REFUND_IN_PROGRESS';

/** What an invoice is created from: the booking, its locked price and its hold. */
export interface CreationRequest {
  appointmentId: string;
  patientId: string | null;
  price: Price;
  holdExpiresAt: Date;
}

export type CreationClaim =
  | { kind: 'exists'; invoice: Invoice }
  /** This caller may create the invoice now; `attempts` counts the earlier failed tries. */
  | { kind: 'claimed'; attempts: number }
  /** Someone else is creating it right now. */
  | { kind: 'busy' };

export interface AppliedObservation {
  invoice: Invoice;
  transition: Transition;
  /** On a confirmation: when the first webhook not yet processed for this invoice arrived. */
  firstWebhookAt?: Date;
}

const TX = { timeout: 15_000, maxWait: 10_000 };

/** An invoice leased for a look at its provider (reconciliation, the late-payment check). */
export interface InvoiceToCheck {
  id: string;
  provider: string;
  providerInvoiceId: string;
  traceparent: string | null;
}

const bookingInvoice = (appointmentId: string) => ({ appointmentId_kind: { appointmentId, kind: 'booking' } });

const UNDERPAID = 'paid less than due before the invoice ended';

/** payment's tables, through Prisma. */
export class PaymentStore {
  private readonly t: { invoices: string; pending: string; inbox: string; refunds: string; topUps: string; ledger: string };
  /**
   * The pool under `db`, for the booking's CreateInvoice, which every booking waits for: its two
   * transactions on Prisma cost about 2 ms of CPU a statement (query compiler and result mapping);
   * on the pool each is a fraction of a millisecond. CreateInvoice went from 38–40 to 32–33 ms one
   * booking at a time (`make bench-booking-trace`).
   */
  private readonly sql: SqlDatabase;

  constructor(
    private readonly db: PrismaClient,
    pool: pg.Pool,
    private readonly outbox: Outbox,
    schema: string,
  ) {
    this.sql = poolDatabase(pool);
    this.t = {
      invoices: table(schema, 'invoices'),
      pending: table(schema, 'pending_invoice_requests'),
      inbox: table(schema, 'webhook_inbox'),
      refunds: table(schema, 'refunds'),
      topUps: table(schema, 'top_up_requests'),
      ledger: table(schema, 'ledger_entries'),
    };
  }

  /** Runs `fn` in a transaction and wakes the outbox relay after it committed. */
  async transaction<R>(fn: (tx: Tx) => Promise<R>): Promise<R> {
    const result = await this.db.$transaction(fn, TX);
    this.outbox.notifyCommitted();
    return result;
  }

  /** The booking's own invoice (not its top-up). */
  findInvoiceByAppointment(appointmentId: string) {
    return this.db.invoice.findUnique({ where: bookingInvoice(appointmentId) });
  }

  /** The booking's top-up invoice, if one was made. */
  findTopUp(appointmentId: string) {
    return this.db.invoice.findUnique({ where: { appointmentId_kind: { appointmentId, kind: 'top_up' } } });
  }

  findTopUpRequest(appointmentId: string) {
    return this.db.topUpRequest.findUnique({ where: { appointmentId } });
  }

  findInvoice(id: string) {
    return this.db.invoice.findUnique({ where: { id } });
  }

  findPending(appointmentId: string) {
    return this.db.pendingInvoiceRequest.findUnique({ where: { appointmentId } });
  }

  // ---------------------------------------------------------------- creation --

  /**
   * Serialises everything that decides whether an appointment gets an invoice (claims, the insert
   * of the invoice, the held consumer), across replicas, for the rest of the transaction.
   */
  private async lockAppointment(tx: SqlTx, appointmentId: string): Promise<void> {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, `payment.invoice:${appointmentId}`);
  }

  /**
   * The right to call the provider for this appointment, as a lease on its pending request
   * (created here if there is none), so that one provider invoice is made per booking even when
   * the gateway's CreateInvoice, the held consumer and the pending creator race.
   */
  async claimCreation(req: CreationRequest, leaseMs: number): Promise<CreationClaim> {
    return this.sql.$transaction(async (tx) => {
      await this.lockAppointment(tx, req.appointmentId);
      const invoice = await this.bookingInvoiceIn(tx, req.appointmentId);
      if (invoice) return { kind: 'exists' as const, invoice };
      const rows = await tx.$queryRawUnsafe<Array<{ attempts: number }>>(
        `INSERT INTO ${this.t.pending} AS p (appointment_id, patient_id, price_amount, price_currency, hold_expires_at, attempts, next_attempt_at, locked_until)
         VALUES ($1::uuid, $2::uuid, $3::numeric, $4, $5::timestamptz, 0, now(), now() + $6::int * interval '1 millisecond')
         ON CONFLICT (appointment_id) DO UPDATE SET locked_until = EXCLUDED.locked_until
           WHERE p.locked_until IS NULL OR p.locked_until < now()
         RETURNING p.attempts`,
        req.appointmentId,
        req.patientId,
        req.price.amount,
        req.price.currency,
        req.holdExpiresAt.toISOString(),
        leaseMs,
      );
      return rows[0] ? { kind: 'claimed' as const, attempts: Number(rows[0].attempts) } : { kind: 'busy' as const };
    }, TX);
  }

  /**
   * Records the provider's invoice and its `payment.invoice_created` event in one transaction and
   * retires the pending request. If another creator won meanwhile, its invoice is kept.
   */
  /**
   * Stores the invoice a provider made, once per booking. When the invoice made just before it
   * (ids are time-ordered UUIDv7) came from another provider, new invoices have switched provider:
   * `payment.provider_switched` says so, with `switchReason`.
   */
  async finishCreation(req: CreationRequest, provider: string, created: ProviderInvoice, paymentUri: string, switchReason: string): Promise<{ invoice: Invoice; created: boolean }> {
    const result = await this.sql.$transaction(async (tx) => {
      await this.lockAppointment(tx, req.appointmentId);
      await tx.$executeRawUnsafe(`DELETE FROM ${this.t.pending} WHERE appointment_id = $1::uuid`, req.appointmentId);
      const existing = await this.bookingInvoiceIn(tx, req.appointmentId);
      if (existing) return { invoice: existing, created: false };
      const [row] = await tx.$queryRawUnsafe<InvoiceRow[]>(
        `INSERT INTO ${this.t.invoices} (id, appointment_id, kind, patient_id, provider, provider_invoice_id, status, amount, currency, sats,
           lightning_invoice, onchain_address, payment_uri, checkout_url, expires_at, hold_expires_at, traceparent, created_at, updated_at)
         VALUES ($1::uuid, $2::uuid, 'booking', $3::uuid, $4, $5, 'open', $6::numeric, $7, $8::bigint, $9, $10, $11, $12, $13::timestamptz, $14::timestamptz, $15, now(), now())
         RETURNING ${invoiceColumns}`,
        uuidv7(),
        req.appointmentId,
        req.patientId,
        provider,
        created.providerInvoiceId,
        req.price.amount,
        req.price.currency,
        String(created.sats),
        created.lightningInvoice,
        created.onchainAddress ?? null,
        paymentUri,
        created.checkoutUrl,
        created.expiresAt.toISOString(),
        req.holdExpiresAt.toISOString(),
        currentTraceparent() || null,
      );
      const invoice = invoiceOf(row!);
      await this.outbox.add(tx, 'payment.invoice_created', invoice.id, {
        invoiceId: invoice.id,
        appointmentId: invoice.appointmentId,
        amount: { amount: req.price.amount, currency: req.price.currency },
        sats: created.sats,
        expiresAt: invoice.expiresAt.toISOString(),
        provider,
        topUpOf: '',
      });
      await this.recordMovement(tx, invoice, 'invoice_created', Number(invoice.sats));
      const [previous] = await tx.$queryRawUnsafe<Array<{ provider: string }>>(`SELECT provider FROM ${this.t.invoices} WHERE id < $1::uuid ORDER BY id DESC LIMIT 1`, invoice.id);
      if (previous && previous.provider !== provider) {
        await this.outbox.add(tx, 'payment.provider_switched', invoice.id, {
          fromProvider: previous.provider,
          toProvider: provider,
          invoiceId: invoice.id,
          appointmentId: invoice.appointmentId,
          reason: switchReason.slice(0, 500),
        });
      }
      return { invoice, created: true };
    }, TX);
    if (result.created) this.outbox.notifyCommitted();
    return result;
  }

  /** The booking's own invoice, read in a transaction on the pool. */
  private async bookingInvoiceIn(tx: SqlTx, appointmentId: string): Promise<Invoice | undefined> {
    const [row] = await tx.$queryRawUnsafe<InvoiceRow[]>(`SELECT ${invoiceColumns} FROM ${this.t.invoices} WHERE appointment_id = $1::uuid AND kind = 'booking'`, appointmentId);
    return row && invoiceOf(row);
  }

  /** The provider failed: keep the request, release the lease, try again after `delayMs`. */
  async recordCreationFailure(appointmentId: string, error: string, delayMs: number): Promise<void> {
    await this.recordRequestFailure(this.t.pending, appointmentId, error, delayMs);
  }

  /** Pending requests due for another try, leased to this replica (others skip them). */
  async claimDuePending(limit: number, leaseMs: number): Promise<PendingInvoiceRequest[]> {
    const ids = await this.leaseDueRequests(this.t.pending, limit, leaseMs);
    return ids.length === 0 ? [] : this.db.pendingInvoiceRequest.findMany({ where: { appointmentId: { in: ids } } });
  }

  /**
   * Requests of a retry table (pending invoices, top-ups: keyed by appointment, with attempts and a
   * lease) due for another try, leased to this replica (others skip them); their appointment ids.
   */
  private async leaseDueRequests(table: string, limit: number, leaseMs: number): Promise<string[]> {
    const rows = await this.db.$queryRawUnsafe<Array<{ appointment_id: string }>>(
      `UPDATE ${table} SET locked_until = now() + $2::int * interval '1 millisecond'
       WHERE appointment_id IN (
         SELECT appointment_id FROM ${table}
         WHERE next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
         ORDER BY next_attempt_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING appointment_id::text AS appointment_id`,
      limit,
      Math.round(leaseMs),
    );
    return rows.map((r) => r.appointment_id);
  }

  /** A retry table's request failed again: one more attempt counted, its lease released, due after `delayMs`. */
  private async recordRequestFailure(table: string, appointmentId: string, error: string, delayMs: number): Promise<void> {
    await this.db.$executeRawUnsafe(
      `UPDATE ${table}
       SET attempts = attempts + 1, last_error = $2, locked_until = NULL,
           next_attempt_at = now() + $3::int * interval '1 millisecond'
       WHERE appointment_id = $1::uuid`,
      appointmentId,
      error.slice(0, 500),
      Math.round(delayMs),
    );
  }

  /**
   * No provider takes this booking's amount: the pending request goes, and `payment.expired`
   * (without an invoice) tells appointment to release the slot now rather than hold it unpayable.
   */
  async refuseCreation(appointmentId: string): Promise<void> {
    await this.transaction(async (tx) => {
      await this.lockAppointment(tx, appointmentId);
      await tx.pendingInvoiceRequest.deleteMany({ where: { appointmentId } });
      if (await tx.invoice.findUnique({ where: bookingInvoice(appointmentId), select: { id: true } })) return;
      await this.outbox.add(tx, 'payment.expired', appointmentId, { invoiceId: '', appointmentId });
    });
  }

  async dropPending(appointmentId: string): Promise<void> {
    await this.db.pendingInvoiceRequest.deleteMany({ where: { appointmentId } });
  }

  /**
   * `appointment.held`: remembers that this booking needs an invoice, unless it has one or one is
   * already pending (the gateway's CreateInvoice got there first). Due after `graceMs`, so the
   * gateway's own call, which answers the patient, normally makes it.
   */
  async recordHeld(tx: Tx, req: CreationRequest, graceMs: number): Promise<boolean> {
    await this.lockAppointment(tx, req.appointmentId);
    if (await tx.invoice.findUnique({ where: bookingInvoice(req.appointmentId), select: { id: true } })) return false;
    const inserted = await tx.$executeRawUnsafe(
      `INSERT INTO ${this.t.pending} (appointment_id, patient_id, price_amount, price_currency, hold_expires_at, attempts, next_attempt_at)
       VALUES ($1::uuid, $2::uuid, $3::numeric, $4, $5::timestamptz, 0, now() + $6::int * interval '1 millisecond')
       ON CONFLICT (appointment_id) DO NOTHING`,
      req.appointmentId,
      req.patientId,
      req.price.amount,
      req.price.currency,
      req.holdExpiresAt.toISOString(),
      Math.round(graceMs),
    );
    return inserted > 0;
  }

  // ---------------------------------------------------------------- webhooks --

  /**
   * Stores a verified webhook under its provider event id and, in the same transaction, the
   * `payment.webhook_received` work item. A duplicate stores nothing and returns false.
   */
  async insertWebhook(provider: string, verified: VerifiedWebhook, rawBody: Buffer, headers: Record<string, string>): Promise<boolean> {
    const inserted = await this.db.$transaction(async (tx) => {
      const id = uuidv7();
      const { count } = await tx.webhookInbox.createMany({
        data: [{ id, provider, providerEventId: verified.providerEventId, providerInvoiceId: verified.providerInvoiceId, rawBody: new Uint8Array(rawBody), headers }],
        skipDuplicates: true,
      });
      if (count === 0) return false;
      await this.outbox.add(tx, 'payment.webhook_received', id, { inboxId: id, provider, providerEventId: verified.providerEventId });
      return true;
    }, TX);
    if (inserted) this.outbox.notifyCommitted();
    return inserted;
  }

  findInboxRow(tx: Tx, id: string) {
    return tx.webhookInbox.findUnique({ where: { id }, select: { id: true, provider: true, providerInvoiceId: true, processedAt: true } });
  }

  async markInboxProcessed(tx: Tx, id: string): Promise<void> {
    await tx.webhookInbox.updateMany({ where: { id, processedAt: null }, data: { processedAt: new Date() } });
  }

  findInvoiceByProviderId(tx: Tx, provider: string, providerInvoiceId: string) {
    return tx.invoice.findUnique({ where: { provider_providerInvoiceId: { provider, providerInvoiceId } } });
  }

  // ------------------------------------------------------------- transitions --

  private async lockInvoice(tx: Tx, id: string): Promise<Invoice | null> {
    await tx.$queryRawUnsafe(`SELECT 1 AS locked FROM ${this.t.invoices} WHERE id = $1::uuid FOR UPDATE`, id);
    return tx.invoice.findUnique({ where: { id } });
  }

  /**
   * Applies what the provider said of an invoice (webhook processing and reconciliation alike), on
   * the locked row, with its events, in the caller's transaction.
   */
  async applyObservation(tx: Tx, invoiceId: string, observed: ObservedInvoice, policy: FinalityPolicy, now = new Date()): Promise<AppliedObservation | undefined> {
    // The booking's lock first (as its lifecycle takes it): a top-up's change also touches its
    // booking invoice's refund, so the two invoices of one booking change one at a time.
    const found = await tx.invoice.findUnique({ where: { id: invoiceId }, select: { appointmentId: true } });
    if (!found) return undefined;
    await this.lockAppointment(tx, found.appointmentId);
    const invoice = await this.lockInvoice(tx, invoiceId);
    if (!invoice) return undefined;
    const refunded = (await tx.refund.count({ where: { invoiceId: invoice.id } })) > 0 || (await this.refundDueFor(tx, invoice.id)) > 0;
    let transition = decideTransition(
      { status: invoice.status as InvoiceStatus, seen: invoice.seenAt !== null, sats: Number(invoice.sats), refunded },
      observed,
      policy,
      now,
    );
    const data: Prisma.InvoiceUpdateInput = {
      providerState: laterProviderState(invoice.providerState as ProviderState, recordedProviderState(observed, policy)),
      lastCheckedAt: now,
    };
    let firstWebhookAt: Date | undefined;
    const ids = { invoiceId: invoice.id, appointmentId: invoice.appointmentId };
    // Money landing on an invoice that can no longer pay the booking: a booking invoice whose
    // shortfall was carried to a top-up, or a top-up that already ended (the hold is over, what
    // came in for the booking went back). It is recorded and owed back; it confirms nothing.
    if (transition.kind === 'confirm' || transition.kind === 'refund_partial') {
      const carried = invoice.kind === 'booking' && invoice.status === 'expired' && (await this.topUpOf(tx, invoice.appointmentId)) !== null;
      const endedTopUp = invoice.kind === 'top_up' && invoice.status === 'expired';
      if (carried || endedTopUp) {
        const total = transition.kind === 'confirm' ? transition.paidSats : transition.refundSats;
        const keptForBooking = carried && (await this.carryStillCovers(tx, invoice.appointmentId)) ? Number(invoice.paidSats ?? 0n) : 0;
        data.paidSats = BigInt(total);
        await this.recordReceipt(tx, invoice, total);
        await this.addRefund(tx, invoice, carried ? 'paid after the rest moved to a top-up' : UNDERPAID, total - keptForBooking, 'underpaid');
        await this.closeInbox(tx, invoice, now);
        transition = { kind: 'refund_partial', refundSats: total - keptForBooking };
        const updated = await tx.invoice.update({ where: { id: invoice.id }, data });
        return { invoice: updated, transition };
      }
    }
    switch (transition.kind) {
      case 'confirm': {
        Object.assign(data, { status: invoice.cancelledAt ? 'refund_due' : 'paid', paidAt: transition.paidAt, paymentMethod: transition.method, paidSats: BigInt(transition.paidSats) });
        await this.recordReceipt(tx, invoice, transition.paidSats);
        await this.outbox.add(tx, 'payment.confirmed', invoice.id, {
          ...ids,
          sats: Number(invoice.sats),
          method: transition.method,
          paidAt: transition.paidAt.toISOString(),
        });
        // The booking was cancelled before the money arrived: all of it is owed back.
        if (invoice.cancelledAt) await this.addRefund(tx, invoice, 'paid after the booking was cancelled', transition.paidSats, 'paid_after_cancellation');
        // More than due: the booking is paid, the excess goes back.
        else if (transition.excessSats > 0) await this.addRefund(tx, invoice, 'paid more than due', transition.excessSats, 'overpaid');
        firstWebhookAt = await this.closeInbox(tx, invoice, now);
        break;
      }
      case 'seen':
        Object.assign(data, { seenAt: now, ...(transition.method ? { paymentMethod: transition.method } : {}) });
        await this.outbox.add(tx, 'payment.payment_seen', invoice.id, ids);
        break;
      case 'expire': {
        data.status = 'expired';
        if (transition.refundSats > 0) {
          data.paidSats = BigInt(transition.refundSats);
          await this.recordReceipt(tx, invoice, transition.refundSats);
        }
        const next = endedShort(
          {
            kind: invoice.kind as 'booking' | 'top_up',
            amountMinor: toMinor(invoice.amount.toFixed(2)),
            invoiceSats: Number(invoice.sats),
            receivedSats: transition.refundSats,
            holdExpiresAt: invoice.holdExpiresAt,
            cancelled: invoice.cancelledAt !== null,
          },
          now,
        );
        if (next.kind === 'top_up') {
          // Part paid, the booking still held: the slot stays held and a top-up is made for the rest
          // (the top-up creator asks a provider, outside this transaction). Nothing is owed back yet.
          await this.requestTopUp(tx, invoice, next.restMinor, next.shortfallSats, transition.refundSats);
        } else {
          await this.outbox.add(tx, 'payment.expired', invoice.id, ids);
          await this.addRefund(tx, invoice, UNDERPAID, transition.refundSats, 'underpaid');
          // A top-up that ended: what came in on the booking invoice goes back as well.
          if (invoice.kind === 'top_up') await this.refundCarried(tx, invoice.appointmentId, UNDERPAID, 'underpaid');
        }
        await this.closeInbox(tx, invoice, now);
        break;
      }
      case 'refund_partial':
        data.paidSats = BigInt(transition.refundSats);
        await this.recordReceipt(tx, invoice, transition.refundSats);
        await this.addRefund(tx, invoice, UNDERPAID, transition.refundSats, 'underpaid');
        await this.closeInbox(tx, invoice, now);
        break;
      case 'none':
        break;
    }
    const updated = await tx.invoice.update({ where: { id: invoice.id }, data });
    return { invoice: updated, transition, ...(firstWebhookAt ? { firstWebhookAt } : {}) };
  }

  /** Marks the invoice's unprocessed webhooks processed; returns when the first of them arrived. */
  private async closeInbox(tx: Tx, invoice: Invoice, now: Date): Promise<Date | undefined> {
    const where = { provider: invoice.provider, providerInvoiceId: invoice.providerInvoiceId, processedAt: null };
    const first = await tx.webhookInbox.findFirst({ where, orderBy: { receivedAt: 'asc' }, select: { receivedAt: true } });
    if (first) await tx.webhookInbox.updateMany({ where, data: { processedAt: now } });
    return first?.receivedAt;
  }

  /**
   * Invoices the provider may still settle, not checked for `intervalMs / 2` at least, created more
   * than `minAgeMs` ago (webhooks handle the fresh ones), leased to this replica by bumping
   * `last_checked_at` under FOR UPDATE SKIP LOCKED. Includes invoices we expired locally while the
   * provider still takes payment for them, up to a day past their expiry.
   */
  async claimReconcileBatch(limit: number, minAgeMs: number, intervalMs: number): Promise<InvoiceToCheck[]> {
    return this.leaseInvoicesToCheck(
      `provider_state IN ('open', 'seen')
           AND created_at <= now() - $2::int * interval '1 millisecond'
           AND (last_checked_at IS NULL OR last_checked_at <= now() - $3::int * interval '1 millisecond')
           AND expires_at > now() - interval '1 day'`,
      limit,
      Math.round(minAgeMs),
      Math.round(intervalMs / 2),
    );
  }

  /**
   * Invoices matching `where` (its parameters from $2; $1 is the limit), least recently checked
   * first, leased to this replica by bumping `last_checked_at` (others skip them).
   */
  private async leaseInvoicesToCheck(where: string, limit: number, ...params: unknown[]): Promise<InvoiceToCheck[]> {
    const rows = await this.db.$queryRawUnsafe<Array<{ id: string; provider: string; provider_invoice_id: string; traceparent: string | null }>>(
      `UPDATE ${this.t.invoices} SET last_checked_at = now()
       WHERE id IN (
         SELECT id FROM ${this.t.invoices}
         WHERE ${where}
         ORDER BY last_checked_at NULLS FIRST, created_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, provider, provider_invoice_id, traceparent`,
      limit,
      ...params,
    );
    return rows.map((r) => ({ id: r.id, provider: r.provider, providerInvoiceId: r.provider_invoice_id, traceparent: r.traceparent }));
  }

  /**
   * Invoices the provider expired less than `windowMs` ago, of providers that take late payments,
   * not checked for `intervalMs`, leased by bumping `last_checked_at` (the late-payment check).
   */
  async claimLateCheckBatch(limit: number, providers: readonly string[], intervalMs: number, windowMs: number): Promise<InvoiceToCheck[]> {
    if (providers.length === 0) return [];
    return this.leaseInvoicesToCheck(
      `provider_state = 'expired'
           AND provider = ANY($2::text[])
           AND expires_at > now() - $3::int * interval '1 millisecond'
           AND (last_checked_at IS NULL OR last_checked_at <= now() - $4::int * interval '1 millisecond')`,
      limit,
      [...providers],
      Math.round(windowMs),
      Math.round(intervalMs / 2),
    );
  }

  // --------------------------------------------------- appointment lifecycle --

  /**
   * `appointment.expired`: the open invoice expires; nothing is created for it any more. A top-up
   * not made yet is given up, an open one expires, and what came in on the booking invoice (kept
   * for the top-up) is owed back.
   */
  async expireForAppointment(tx: Tx, appointmentId: string): Promise<Invoice | undefined> {
    await this.lockAppointment(tx, appointmentId);
    await tx.pendingInvoiceRequest.deleteMany({ where: { appointmentId } });
    if (await this.endTopUp(tx, appointmentId)) await this.refundCarried(tx, appointmentId, UNDERPAID, 'underpaid');
    const found = await tx.invoice.findUnique({ where: bookingInvoice(appointmentId), select: { id: true } });
    const invoice = found && (await this.lockInvoice(tx, found.id));
    if (!invoice || invoice.status !== 'open') return undefined;
    await this.outbox.add(tx, 'payment.expired', invoice.id, { invoiceId: invoice.id, appointmentId });
    return tx.invoice.update({ where: { id: invoice.id }, data: { status: 'expired' } });
  }

  /**
   * The booking's top-up stops: a request not made yet is dropped, an open top-up invoice expires
   * (`payment.expired`; money landing on it later is owed back). True when there was one to end.
   */
  private async endTopUp(tx: Tx, appointmentId: string, cancelledAt?: Date): Promise<boolean> {
    const { count } = await tx.topUpRequest.deleteMany({ where: { appointmentId } });
    const found = await tx.invoice.findUnique({ where: { appointmentId_kind: { appointmentId, kind: 'top_up' } }, select: { id: true } });
    const topUp = found && (await this.lockInvoice(tx, found.id));
    if (!topUp) return count > 0;
    if (topUp.status === 'open') {
      await this.outbox.add(tx, 'payment.expired', topUp.id, { invoiceId: topUp.id, appointmentId });
      await tx.invoice.update({ where: { id: topUp.id }, data: { status: 'expired', ...(cancelledAt ? { cancelledAt } : {}) } });
      return true;
    }
    if (cancelledAt) await tx.invoice.update({ where: { id: topUp.id }, data: { cancelledAt: topUp.cancelledAt ?? cancelledAt } });
    return count > 0;
  }

  /**
   * `appointment.cancelled`: money received for it is owed back (a refund row and
   * `payment.refund_requested`); an unpaid invoice stops being payable for us (expired), and a
   * payment that still lands later becomes a refund as well. A booking paid through a top-up owes
   * back both invoices' money.
   */
  async cancelForAppointment(tx: Tx, appointmentId: string, reason: string): Promise<{ refund: boolean; invoice?: Invoice }> {
    await this.lockAppointment(tx, appointmentId);
    await tx.pendingInvoiceRequest.deleteMany({ where: { appointmentId } });
    const found = await tx.invoice.findUnique({ where: bookingInvoice(appointmentId), select: { id: true } });
    const invoice = found && (await this.lockInvoice(tx, found.id));
    if (!invoice) return { refund: false };
    const cancelledAt = invoice.cancelledAt ?? new Date();
    const why = reason || 'booking cancelled';
    const topUp = await this.topUpOf(tx, appointmentId);
    if (topUp) {
      // The booking invoice's money was kept for the top-up: it goes back, with the top-up's if paid.
      let refund = false;
      if (topUp.kind === 'invoice' && topUp.invoice.status === 'paid') {
        await this.addRefund(tx, topUp.invoice, why, Number(topUp.invoice.paidSats ?? topUp.invoice.sats), 'booking_cancelled');
        await tx.invoice.update({ where: { id: topUp.invoice.id }, data: { status: 'refund_due', cancelledAt } });
        refund = true;
      } else {
        await this.endTopUp(tx, appointmentId, cancelledAt);
      }
      await this.refundCarried(tx, appointmentId, why, 'booking_cancelled');
      return { refund, invoice: await tx.invoice.update({ where: { id: invoice.id }, data: { cancelledAt } }) };
    }
    if (invoice.status === 'paid') {
      // All that was paid goes back (an over-payment's excess refund grows to the whole).
      await this.addRefund(tx, invoice, why, Number(invoice.paidSats ?? invoice.sats), 'booking_cancelled');
      return { refund: true, invoice: await tx.invoice.update({ where: { id: invoice.id }, data: { status: 'refund_due', cancelledAt } }) };
    }
    if (invoice.status === 'open') {
      await this.outbox.add(tx, 'payment.expired', invoice.id, { invoiceId: invoice.id, appointmentId });
      return { refund: false, invoice: await tx.invoice.update({ where: { id: invoice.id }, data: { status: 'expired', cancelledAt } }) };
    }
    return { refund: false, invoice: await tx.invoice.update({ where: { id: invoice.id }, data: { cancelledAt } }) };
  }

  // ------------------------------------------------------------------ top-ups --

  /** The booking's top-up: its invoice, or its request while the invoice is not made yet. */
  private async topUpOf(tx: Tx, appointmentId: string): Promise<{ kind: 'invoice'; invoice: Invoice } | { kind: 'request'; request: TopUpRequest } | null> {
    const invoice = await tx.invoice.findUnique({ where: { appointmentId_kind: { appointmentId, kind: 'top_up' } } });
    if (invoice) return { kind: 'invoice', invoice };
    const request = await tx.topUpRequest.findUnique({ where: { appointmentId } });
    return request ? { kind: 'request', request } : null;
  }

  /** Whether the booking invoice's money still counts toward the booking (its top-up is to come, open or paid). */
  private async carryStillCovers(tx: Tx, appointmentId: string): Promise<boolean> {
    const topUp = await this.topUpOf(tx, appointmentId);
    if (!topUp) return false;
    return topUp.kind === 'request' || topUp.invoice.status === 'open' || topUp.invoice.status === 'paid';
  }

  /**
   * The booking invoice ended under-paid while the booking is held: a top-up request for the rest
   * (`payment.top_up_requested`), once per booking (its primary key).
   */
  private async requestTopUp(tx: Tx, invoice: Invoice, restMinor: number, shortfallSats: number, receivedSats: number): Promise<void> {
    const rest = minorToAmount(restMinor);
    const { count } = await tx.topUpRequest.createMany({
      data: [{ appointmentId: invoice.appointmentId, invoiceId: invoice.id, amount: rest, currency: invoice.currency, shortfallSats: BigInt(shortfallSats), holdExpiresAt: invoice.holdExpiresAt!, nextAttemptAt: new Date() }],
      skipDuplicates: true,
    });
    if (count === 0) return;
    await this.outbox.add(tx, 'payment.top_up_requested', invoice.id, {
      invoiceId: invoice.id,
      appointmentId: invoice.appointmentId,
      paidSats: receivedSats,
      shortfallSats,
      rest: { amount: rest, currency: invoice.currency },
    });
  }

  /** What came in on the booking invoice (kept for its top-up) is owed back: the top-up ended or the booking was cancelled. */
  private async refundCarried(tx: Tx, appointmentId: string, reason: string, cause: 'booking_cancelled' | 'underpaid'): Promise<void> {
    const found = await tx.invoice.findUnique({ where: bookingInvoice(appointmentId), select: { id: true } });
    const invoice = found && (await this.lockInvoice(tx, found.id));
    if (!invoice || invoice.status !== 'expired') return;
    await this.addRefund(tx, invoice, reason, await this.receivedFor(tx, invoice.id), cause);
  }

  /** Top-up requests due for another try, leased to this replica (others skip them). */
  async claimDueTopUps(limit: number, leaseMs: number): Promise<TopUpRequest[]> {
    const ids = await this.leaseDueRequests(this.t.topUps, limit, leaseMs);
    return ids.length === 0 ? [] : this.db.topUpRequest.findMany({ where: { appointmentId: { in: ids } } });
  }

  /** No provider could make the top-up: the request stays, tried again after `delayMs`. */
  async recordTopUpFailure(appointmentId: string, error: string, delayMs: number): Promise<void> {
    await this.recordRequestFailure(this.t.topUps, appointmentId, error, delayMs);
  }

  /**
   * The top-up cannot be made (the hold ends, or no provider takes the amount): the request goes,
   * what came in is owed back and `payment.expired` releases the slot now.
   */
  async giveUpTopUp(appointmentId: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      await this.lockAppointment(tx, appointmentId);
      const request = await tx.topUpRequest.findUnique({ where: { appointmentId } });
      if (!request) return false;
      await tx.topUpRequest.delete({ where: { appointmentId } });
      if (await tx.invoice.findUnique({ where: { appointmentId_kind: { appointmentId, kind: 'top_up' } }, select: { id: true } })) return false;
      await this.outbox.add(tx, 'payment.expired', request.invoiceId, { invoiceId: request.invoiceId, appointmentId });
      await this.refundCarried(tx, appointmentId, UNDERPAID, 'underpaid');
      return true;
    });
  }

  /**
   * Stores the top-up a provider made, once per booking (the unique (appointment, kind) and the
   * appointment's lock): `payment.invoice_created` naming the invoice it tops up, and in the
   * ledger what the booking invoice was short by moving to the top-up. A request that is gone (the
   * hold ended, the booking was cancelled meanwhile) stores nothing: the provider invoice is left unused.
   */
  async finishTopUp(request: TopUpRequest, provider: string, created: ProviderInvoice, paymentUri: string): Promise<{ invoice: Invoice | null; created: boolean }> {
    return this.transaction(async (tx) => {
      await this.lockAppointment(tx, request.appointmentId);
      const existing = await tx.invoice.findUnique({ where: { appointmentId_kind: { appointmentId: request.appointmentId, kind: 'top_up' } } });
      if (existing) return { invoice: existing, created: false };
      const { count } = await tx.topUpRequest.deleteMany({ where: { appointmentId: request.appointmentId } });
      const base = await this.lockInvoice(tx, request.invoiceId);
      if (count === 0 || !base) return { invoice: null, created: false };
      const invoice = await tx.invoice.create({
        data: {
          id: uuidv7(),
          appointmentId: request.appointmentId,
          kind: 'top_up',
          patientId: base.patientId,
          provider,
          providerInvoiceId: created.providerInvoiceId,
          status: 'open',
          amount: request.amount,
          currency: request.currency,
          sats: BigInt(created.sats),
          lightningInvoice: created.lightningInvoice,
          onchainAddress: created.onchainAddress ?? null,
          paymentUri,
          checkoutUrl: created.checkoutUrl,
          expiresAt: created.expiresAt,
          holdExpiresAt: request.holdExpiresAt,
          traceparent: base.traceparent,
        },
      });
      await this.outbox.add(tx, 'payment.invoice_created', invoice.id, {
        invoiceId: invoice.id,
        appointmentId: invoice.appointmentId,
        amount: { amount: request.amount.toFixed(2), currency: request.currency },
        sats: created.sats,
        expiresAt: invoice.expiresAt.toISOString(),
        provider,
        topUpOf: base.id,
      });
      await this.recordMovement(tx, base, 'shortfall_carried', Number(request.shortfallSats));
      await this.recordMovement(tx, invoice, 'top_up_created', created.sats);
      return { invoice, created: true };
    });
  }

  /**
   * Records that `sats` in all are owed back of the money `invoice` received. A booking's refunds
   * live on its booking invoice (a top-up's money owed back joins them). What is new (the ledger's
   * refund_due movements of this invoice say what was already owed of it) raises the refund that
   * is due, or, when the last one was already sent or paid, is a further refund for exactly the new
   * money (its destination kept unless it was a Lightning invoice for the old amount). Each change
   * is a `payment.refund_requested` event carrying that refund's total, and an audit entry.
   */
  private async addRefund(tx: Tx, invoice: Invoice, reason: string, sats: number, cause: 'booking_cancelled' | 'paid_after_cancellation' | 'overpaid' | 'underpaid'): Promise<void> {
    if (!(sats > 0)) return;
    const holder = invoice.kind === 'top_up' ? await tx.invoice.findUnique({ where: bookingInvoice(invoice.appointmentId) }) : invoice;
    if (!holder) return;
    const rows = await tx.refund.findMany({ where: { invoiceId: holder.id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    let owedBefore = await this.refundDueFor(tx, invoice.id);
    if (rows.length > 0 && holder.id === invoice.id) {
      // Rows recorded before the ledger have no movement: their sats, less what other invoices
      // (its top-up) added, are what this invoice already owed.
      const others = await tx.ledgerEntry.aggregate({ where: { refundId: { in: rows.map((r) => r.id) }, kind: 'refund_due', invoiceId: { not: invoice.id } }, _sum: { sats: true } });
      owedBefore = Math.max(owedBefore, rows.reduce((n, r) => n + Number(r.sats), 0) - Number(others._sum.sats ?? 0n));
    }
    const more = sats - owedBefore;
    if (more <= 0) return;
    const last = rows[rows.length - 1];
    let refundId: string;
    let total: number;
    if (last?.status === 'due') {
      refundId = last.id;
      total = Number(last.sats) + more;
      // A Lightning invoice given for the old amount can no longer pay this one: the patient gives another.
      const staleInvoice = last.destinationKind === 'bolt11' ? { destinationKind: null, destination: null, destinationSetAt: null } : {};
      await tx.refund.update({ where: { id: last.id }, data: { sats: BigInt(total), reason: reason.slice(0, 500), ...staleInvoice } });
    } else {
      // None yet, or the last one was already sent or paid for its amount (never edited then): a
      // further refund for the new money only. A reusable destination (not a BOLT11) carries over.
      refundId = uuidv7();
      total = more;
      const carried = last?.destination && last.destinationKind !== 'bolt11' ? { destinationKind: last.destinationKind, destination: last.destination, destinationSetAt: new Date() } : {};
      const { count } = await tx.refund.createMany({
        data: [{ id: refundId, invoiceId: holder.id, appointmentId: holder.appointmentId, sats: BigInt(more), reason: reason.slice(0, 500), status: 'due', ...carried }],
        skipDuplicates: true,
      });
      if (count === 0) return;
    }
    // The ledger records the movement: only what is new, at the rate of the invoice that received it.
    await this.recordMovement(tx, invoice, 'refund_due', more, refundId);
    await this.outbox.add(tx, 'payment.refund_requested', holder.id, {
      invoiceId: holder.id,
      appointmentId: holder.appointmentId,
      reason: reason.slice(0, 500),
      sats: total,
    });
    // The decision, in the audit trail: ids and a cause code, never the reason's text.
    await auditEvent(this.outbox, tx, 'payment.refund_due', {
      subjectId: holder.patientId,
      objectId: refundId,
      details: { invoice: invoice.id, cause, ...(last && last.status !== 'due' ? { after: last.id } : {}) },
    });
  }

  /** Sats the ledger records as owed back of the money this invoice received. */
  private async refundDueFor(tx: Tx, invoiceId: string): Promise<number> {
    const owed = await tx.ledgerEntry.aggregate({ where: { invoiceId, kind: 'refund_due' }, _sum: { sats: true } });
    return Number(owed._sum.sats ?? 0n);
  }

  /** Sats the ledger records as received for this invoice. */
  private async receivedFor(tx: Tx, invoiceId: string): Promise<number> {
    const received = await tx.ledgerEntry.aggregate({ where: { invoiceId, kind: { in: ['paid', 'over', 'under'] } }, _sum: { sats: true } });
    return Number(received._sum.sats ?? 0n);
  }

  /**
   * The patient's refund destination, checked against the invoice (its network, the sats owed) on
   * the locked invoice row, so it cannot change under a payout that starts at the same moment.
   */
  async setRefundDestination(appointmentId: string, patientId: string, raw: string, now = new Date()): Promise<Refund | SetDestinationRefusal> {
    const result = await this.db.$transaction(async (tx) => {
      const found = await tx.invoice.findUnique({ where: bookingInvoice(appointmentId), select: { id: true } });
      const invoice = found && (await this.lockInvoice(tx, found.id));
      // Another patient's booking answers exactly as a booking that does not exist.
      if (!invoice || invoice.patientId !== patientId) return 'BOOKING_NOT_FOUND' as const;
      const refund = await tx.refund.findFirst({ where: { invoiceId: invoice.id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
      if (!refund) return 'NO_REFUND_DUE' as const;
      if (refund.status !== 'due') return 'REFUND_IN_PROGRESS' as const;
      const network = networkOfPaymentRequest(invoice.lightningInvoice) ?? 'mainnet';
      const destination = parseRefundDestination(raw, { network, owedSats: refund.sats, now });
      if (typeof destination === 'string') return destination;
      const updated = await tx.refund.update({
        where: { id: refund.id },
        data: { destinationKind: destination.kind, destination: destination.value, destinationSetAt: now },
      });
      await this.outbox.add(tx, 'payment.refund_destination_set', invoice.id, {
        refundId: refund.id,
        invoiceId: invoice.id,
        appointmentId,
        destinationKind: destination.kind,
      });
      await auditEvent(this.outbox, tx, 'payment.refund_destination_set', {
        subjectId: patientId,
        objectId: refund.id,
        details: { invoice: invoice.id, kind: destination.kind },
      });
      return updated;
    });
    if (typeof result !== 'string') this.outbox.notifyCommitted();
    return result;
  }

  /** The admin queue: refunds of one status, oldest first, after the cursor (createdAt, id). */
  listRefunds(status: 'due' | 'paid', limit: number, after?: { createdAt: Date; id: string }) {
    return this.db.refund.findMany({
      where: {
        status,
        ...(after ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
    });
  }

  /**
   * An admin paid the refund out by hand. On the locked refund row: recorded once; the same
   * reference again answers the recorded refund (a retried request), another one is refused.
   */
  async markRefundPaid(refundId: string, adminId: string, txReference: string, now = new Date()): Promise<Refund | MarkPaidRefusal> {
    const result = await this.db.$transaction(async (tx) => {
      const found = await tx.refund.findUnique({ where: { id: refundId }, select: { invoiceId: true } });
      // The invoice row is the lock every refund change takes (setRefundDestination too).
      const invoice = found && (await this.lockInvoice(tx, found.invoiceId));
      const refund = invoice && (await tx.refund.findUnique({ where: { id: refundId } }));
      if (!invoice || !refund) return 'REFUND_NOT_FOUND' as const;
      if (refund.status === 'paid') return refund.txReference === txReference ? { unchanged: refund } : ('REFUND_ALREADY_PAID' as const);
      // The provider pays this one out (the patient claims it): not an admin's to pay by hand.
      if (refund.status === 'sent') return 'REFUND_IN_PROGRESS' as const;
      if (!refund.destination) return 'NO_REFUND_DESTINATION' as const;
      const paid = await tx.refund.update({ where: { id: refund.id }, data: { status: 'paid', paidAt: now, txReference, paidBy: adminId } });
      await this.recordRefundPaid(tx, invoice, refund, now, { actorId: adminId, details: { invoice: invoice.id } });
      return paid;
    });
    if (typeof result === 'string') return result;
    if ('unchanged' in result) return result.unchanged;
    this.outbox.notifyCommitted();
    return result;
  }

  // ------------------------------------------------------------------ ledger --

  /**
   * Appends one money movement of the invoice's booking, in the caller's transaction (the one of the
   * state change it records), in the invoice's fiat at its locked rate.
   */
  private async recordMovement(tx: SqlTx, invoice: Invoice, kind: LedgerKind, sats: number, refundId?: string): Promise<void> {
    if (!(sats > 0)) return;
    const amountMinor = toMinor(invoice.amount.toFixed(2));
    const invoiceSats = Number(invoice.sats);
    // Raw SQL, not Prisma's create: it runs in Prisma's transactions and in finishCreation's on the pool.
    await tx.$executeRawUnsafe(
      `INSERT INTO ${this.t.ledger} (id, appointment_id, invoice_id, kind, sats, fiat_minor, currency, rate, provider, provider_invoice_id, refund_id, created_at)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::bigint, $6::bigint, $7, $8::numeric, $9, $10, $11::uuid, now())`,
      uuidv7(),
      invoice.appointmentId,
      invoice.id,
      kind,
      String(sats),
      String(fiatMinorOf(sats, amountMinor, invoiceSats)),
      invoice.currency,
      rateOf(amountMinor, invoiceSats),
      invoice.provider,
      invoice.providerInvoiceId,
      refundId ?? null,
    );
  }

  /**
   * Money received for the invoice, `totalSats` in all as the provider reports it: the ledger gets
   * what is new since its last receipt for this invoice (a provider reporting the total twice
   * records it once), named by how the total compares with what was due.
   */
  private async recordReceipt(tx: Tx, invoice: Invoice, totalSats: number): Promise<void> {
    const before = await tx.ledgerEntry.aggregate({ where: { invoiceId: invoice.id, kind: { in: ['paid', 'over', 'under'] } }, _sum: { sats: true } });
    const delta = totalSats - Number(before._sum.sats ?? 0n);
    await this.recordMovement(tx, invoice, receiptKind(totalSats, Number(invoice.sats)), delta);
  }

  /** A booking's movements, oldest first. */
  ledgerOf(appointmentId: string): Promise<LedgerEntry[]> {
    return this.db.ledgerEntry.findMany({ where: { appointmentId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Receipts per invoice created in [from, to), for the reconciliation report (at most `limit` invoices). */
  async reconciliationRows(from: Date, to: Date, limit: number) {
    const invoices = await this.db.invoice.findMany({
      where: { createdAt: { gte: from, lt: to } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      select: { id: true, appointmentId: true, provider: true, providerInvoiceId: true, currency: true, amount: true, sats: true, status: true, createdAt: true },
    });
    if (invoices.length === 0) return [];
    const sums = await this.db.ledgerEntry.groupBy({
      by: ['invoiceId', 'kind'],
      where: { invoiceId: { in: invoices.map((i) => i.id) } },
      _sum: { sats: true, fiatMinor: true },
    });
    return invoices.map((invoice) => {
      const of = (...kinds: LedgerKind[]) => sums.filter((s) => s.invoiceId === invoice.id && (kinds as string[]).includes(s.kind));
      const total = (rows: typeof sums, key: 'sats' | 'fiatMinor') => rows.reduce((n, r) => n + Number(r._sum[key] ?? 0n), 0);
      const receipts = of('paid', 'over', 'under');
      return { invoice, ledgerPaidSats: total(receipts, 'sats'), ledgerPaidFiatMinor: total(receipts, 'fiatMinor'), ledgerRefundedSats: total(of('refund_paid'), 'sats') };
    });
  }

  // ------------------------------------------------- refunds the provider pays --

  /**
   * Due refunds of invoices made by `providers` (those that pay refunds out), leased to this replica
   * for `leaseMs` so that one payout is asked for per refund, oldest first.
   */
  async claimRefundsToSend(providers: string[], limit: number, leaseMs: number): Promise<Array<{ refund: Refund; invoice: Invoice }>> {
    if (providers.length === 0) return [];
    const rows = await this.db.$queryRawUnsafe<Array<{ id: string }>>(
      `UPDATE ${this.t.refunds} SET payout_locked_until = now() + $3::int * interval '1 millisecond'
       WHERE id IN (
         SELECT r.id FROM ${this.t.refunds} r JOIN ${this.t.invoices} i ON i.id = r.invoice_id
         WHERE r.status = 'due' AND i.provider = ANY($1::text[]) AND (r.payout_locked_until IS NULL OR r.payout_locked_until < now())
         ORDER BY r.created_at
         LIMIT $2
         FOR UPDATE OF r SKIP LOCKED)
       RETURNING id::text AS id`,
      providers,
      limit,
      Math.round(leaseMs),
    );
    return this.refundsWithInvoices(rows.map((r) => r.id));
  }

  /** Sent refunds whose payout was not checked for `intervalMs`, leased the same way. */
  async claimSentRefunds(limit: number, intervalMs: number): Promise<Array<{ refund: Refund; invoice: Invoice }>> {
    const rows = await this.db.$queryRawUnsafe<Array<{ id: string }>>(
      `UPDATE ${this.t.refunds} SET payout_locked_until = now() + $2::int * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM ${this.t.refunds}
         WHERE status = 'sent' AND (payout_locked_until IS NULL OR payout_locked_until < now())
         ORDER BY sent_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id`,
      limit,
      Math.round(intervalMs),
    );
    return this.refundsWithInvoices(rows.map((r) => r.id));
  }

  private async refundsWithInvoices(ids: string[]) {
    if (ids.length === 0) return [];
    const refunds = await this.db.refund.findMany({ where: { id: { in: ids } }, include: { invoice: true } });
    return refunds.map(({ invoice, ...refund }) => ({ refund: refund as Refund, invoice }));
  }

  /** The provider's payout failed: the refund stays due, tried again after `delayMs`. */
  async releaseRefundPayout(refundId: string, delayMs: number): Promise<void> {
    await this.db.$executeRawUnsafe(`UPDATE ${this.t.refunds} SET payout_locked_until = now() + $2::int * interval '1 millisecond' WHERE id = $1::uuid`, refundId, Math.round(delayMs));
  }

  /**
   * The provider took the refund (a pull payment the patient claims at `claimLink`): recorded once,
   * on the locked invoice row, with `payment.refund_sent`. A refund that is no longer due is left.
   */
  async recordRefundSent(refundId: string, provider: string, payoutId: string, claimLink: string, now = new Date()): Promise<Refund | undefined> {
    const result = await this.db.$transaction(async (tx) => {
      const found = await tx.refund.findUnique({ where: { id: refundId }, select: { invoiceId: true } });
      const invoice = found && (await this.lockInvoice(tx, found.invoiceId));
      const refund = invoice && (await tx.refund.findUnique({ where: { id: refundId } }));
      if (!invoice || !refund || refund.status !== 'due') return undefined;
      const sent = await tx.refund.update({ where: { id: refund.id }, data: { status: 'sent', payoutId, claimLink: claimLink.slice(0, 2048), sentAt: now, payoutLockedUntil: null } });
      await this.outbox.add(tx, 'payment.refund_sent', invoice.id, {
        refundId: refund.id,
        invoiceId: invoice.id,
        appointmentId: refund.appointmentId,
        sats: Number(refund.sats),
        provider,
        sentAt: now.toISOString(),
      });
      return sent;
    }, TX);
    if (result) this.outbox.notifyCommitted();
    return result;
  }

  /** A refund paid, by an admin or through the provider: its ledger row, `payment.refund_paid` and the audit entry. */
  private async recordRefundPaid(
    tx: Tx,
    invoice: Invoice,
    refund: { id: string; appointmentId: string; sats: bigint | number },
    now: Date,
    audit: { actorId?: string; details: Record<string, string> },
  ): Promise<void> {
    await this.recordMovement(tx, invoice, 'refund_paid', Number(refund.sats), refund.id);
    await this.outbox.add(tx, 'payment.refund_paid', invoice.id, {
      refundId: refund.id,
      invoiceId: invoice.id,
      appointmentId: refund.appointmentId,
      sats: Number(refund.sats),
      paidAt: now.toISOString(),
    });
    await auditEvent(this.outbox, tx, 'payment.refund_paid', { ...audit, subjectId: invoice.patientId, objectId: refund.id });
  }

  /**
   * The provider's payout of a sent refund completed: the refund is paid (its reference recorded),
   * the ledger gets the movement and `payment.refund_paid` goes out, in one transaction, once.
   */
  async settleSentRefund(refundId: string, reference: string, now = new Date()): Promise<Refund | undefined> {
    const result = await this.db.$transaction(async (tx) => {
      const found = await tx.refund.findUnique({ where: { id: refundId }, select: { invoiceId: true } });
      const invoice = found && (await this.lockInvoice(tx, found.invoiceId));
      const refund = invoice && (await tx.refund.findUnique({ where: { id: refundId } }));
      if (!invoice || !refund || refund.status !== 'sent') return undefined;
      const paid = await tx.refund.update({ where: { id: refund.id }, data: { status: 'paid', paidAt: now, txReference: reference.slice(0, 200), payoutLockedUntil: null } });
      await this.recordRefundPaid(tx, invoice, refund, now, { details: { invoice: invoice.id, via: invoice.provider } });
      return paid;
    }, TX);
    if (result) this.outbox.notifyCommitted();
    return result;
  }

  /** The booking invoice's latest refund (the one due, if any: a further refund follows a paid one). */
  findRefund(invoiceId: string) {
    return this.db.refund.findFirst({ where: { invoiceId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /** `identity.user_erased`: the accounting stays, the link to the person goes. */
  async anonymisePatient(tx: Tx, userId: string): Promise<void> {
    // A refund destination (a Lightning address names its owner) is the person's data: it goes too;
    // the kind stays for the accounting.
    await tx.refund.updateMany({ where: { invoice: { patientId: userId }, destination: { not: null } }, data: { destination: null } });
    await tx.invoice.updateMany({ where: { patientId: userId }, data: { patientId: null } });
    await tx.pendingInvoiceRequest.updateMany({ where: { patientId: userId }, data: { patientId: null } });
  }
}
