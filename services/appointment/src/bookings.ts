import { Prisma } from './generated/prisma';
import type { DomainEvent } from '@cryptocare/events';
import { counter, histogram, sloBuckets } from '@cryptocare/platform';
import {
  cancelBooking,
  rescheduleBooking,
  closeForDeparture,
  confirmBooking,
  completeBooking,
  recordConsultationOutcome,
  expireHold,
  holdExpiry,
  releaseUnpayableHold,
  isBookableSlot,
  DomainError,
  PROFESSIONAL_LEFT,
  type Caller,
  type Interval,
  type Schedule,
} from './domain';
import { ERASED_USER, IdempotencyKeyTakenError, NoScheduleError, SlotTakenError, toBooking, type Appointment, type AppointmentStore } from './store/appointment-store';

type Tx = Prisma.TransactionClient;

const bookingsByStatus = histogram('booking_transitions_seconds', 'Time from booking creation to each status change', ['status'], sloBuckets);
/**
 * Bookings by status reached (held, confirmed, meeting_ready, cancelled, expired). Transitions
 * made inside a consumer's transaction count when the handler ran, so the rare rollback after it
 * may count one twice (its redelivery counts again).
 */
const bookingsTotal = counter('bookings_total', 'Booking transitions by the status reached', ['status']);
const availabilityRefreshed = counter('availability_refreshed_total', "Professionals republished by the availability sweep: every free slot they had published has passed");

/** A cancelled booking has no meeting any more (video deletes it on `appointment.cancelled`). */
const NO_MEETING = { meetingJoinUrl: null, meetingProvider: null, meetingPassword: null };

export interface ProfessionalTerms {
  verified: boolean;
  price: { amount: string; currency: string };
}

/**
 * Whether [startAt, …) is one of the professional's slots (else SLOT_NOT_AVAILABLE is thrown) and
 * whether one of the `busy` bookings takes it. The exclusion constraint has the last word at the write.
 */
function judgeSlot(query: { schedule: Schedule; timeOff: Interval[]; busy: Interval[]; startAt: Date; now: Date }): 'free' | 'taken' {
  const { busy, ...rest } = query;
  if (!isBookableSlot({ ...rest, busy: [] })) throw new DomainError('SLOT_NOT_AVAILABLE', 'this time is not a free slot of this professional');
  return busy.length === 0 || isBookableSlot(query) ? 'free' : 'taken';
}

/**
 * The booking use cases: each loads what it needs, asks the domain what happens, and persists the
 * result with its events in one transaction.
 */
export class Bookings {
  constructor(
    private readonly store: AppointmentStore,
    private readonly options: { invoiceTtlMinutes: number; onchainMarginMinutes: number },
  ) {}

  async book(input: { patientId: string; professionalId: string; startAt: Date; terms: ProfessionalTerms; idempotencyKey?: string }, now = new Date()): Promise<Appointment> {
    if (input.idempotencyKey) {
      const existing = await this.store.findByIdempotencyKey(input.patientId, input.idempotencyKey);
      if (existing) return existing;
    }
    if (!input.terms.verified) throw new DomainError('SLOT_NOT_AVAILABLE', 'this professional does not take bookings yet');
    // One statement through the pool, not four Prisma queries: the booking's own latency (p95 < 200 ms).
    const { schedule, timeOff, busy } = await this.store.bookingInputs(input.professionalId, input.startAt, now);
    if (!schedule) throw new DomainError('SLOT_NOT_AVAILABLE', 'this professional has no schedule');
    const endAt = new Date(input.startAt.getTime() + schedule.slotMinutes * 60_000);
    if (judgeSlot({ schedule, timeOff, busy, startAt: input.startAt, now }) === 'taken') {
      // The same request sent twice at once, the other one committed between our key lookup and
      // this read: the slot is taken by this very booking, which is the answer.
      const winner = input.idempotencyKey ? await this.store.findByIdempotencyKey(input.patientId, input.idempotencyKey) : null;
      if (winner) return winner;
      throw new DomainError('SLOT_TAKEN', 'this slot is already taken');
    }
    try {
      const held = await this.store.hold({
        patientId: input.patientId,
        professionalId: input.professionalId,
        startAt: input.startAt,
        endAt,
        holdExpiresAt: holdExpiry(now, this.options.invoiceTtlMinutes, this.options.onchainMarginMinutes),
        price: input.terms.price,
        ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      });
      bookingsTotal.labels('held').inc();
      return held;
    } catch (err) {
      // The same request sent twice at once: both missed the key above, one insert won. The loser
      // (refused by the key's unique index or by the slot the winner now holds) answers the winner's booking.
      if (input.idempotencyKey && (err instanceof IdempotencyKeyTakenError || err instanceof SlotTakenError)) {
        const winner = await this.store.findByIdempotencyKey(input.patientId, input.idempotencyKey);
        if (winner) return winner;
      }
      if (err instanceof SlotTakenError) throw new DomainError('SLOT_TAKEN', 'this slot is already taken');
      if (err instanceof NoScheduleError) throw new DomainError('SLOT_NOT_AVAILABLE', 'this professional has no schedule');
      throw err;
    }
  }

  /**
   * Whether [startAt, endAt) is one of the professional's slots (else SLOT_NOT_AVAILABLE is thrown),
   * and whether another active booking than `exceptId` takes it. The exclusion constraint has the
   * last word at the write.
   */
  private async slotState(professionalId: string, schedule: Schedule, startAt: Date, endAt: Date, now: Date, exceptId?: string): Promise<'free' | 'taken'> {
    const timeOff = await this.store.timeOff(professionalId);
    judgeSlot({ schedule, timeOff, busy: [], startAt, now }); // not one of the slots: refused before reading the bookings
    const busy = await this.store.busy(professionalId, new Date(startAt.getTime() - 86_400_000), new Date(endAt.getTime() + 86_400_000), undefined, exceptId);
    return judgeSlot({ schedule, timeOff, busy, startAt, now });
  }

  /** payment.confirmed: confirm, or turn a too-late payment into a refund case. */
  async onPaymentConfirmed(event: DomainEvent<'payment.confirmed'>, tx: Tx, now = new Date()): Promise<void> {
    const { appointmentId, invoiceId } = event.data;
    await this.store.lock(tx, appointmentId);
    const row = await this.store.find(appointmentId, tx);
    if (!row) return;
    // The professional erased their account: their bookings were closed, the money goes back.
    if (row.professionalId === ERASED_USER) {
      await this.refundCase(tx, row, 'PROFESSIONAL_LEFT', now);
      return;
    }
    const booking = toBooking(row);
    const freeNow = async () => (await this.store.busy(row.professionalId, row.startAt, row.endAt, tx)).length === 0;
    const slotStillFree = booking.status === 'held' ? true : await freeNow();
    const result = confirmBooking(booking, now, slotStillFree);
    if (result.outcome === 'already-confirmed') return;
    if (result.outcome === 'refund-needed') {
      await this.refundCase(tx, row, result.reason, now);
      return;
    }
    try {
      // A savepoint: if a late confirmation collides with a newer booking, the refund path still commits.
      await tx.$executeRawUnsafe('SAVEPOINT confirm');
      await this.store.update(tx, row.id, { status: 'confirmed', invoiceId, confirmedAt: now });
      await tx.$executeRawUnsafe('RELEASE SAVEPOINT confirm');
    } catch (err) {
      if (!this.store.isOverlap(err)) throw err;
      await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT confirm');
      await this.refundCase(tx, row, 'SLOT_TAKEN', now);
      return;
    }
    bookingsByStatus.labels('confirmed').observe((now.getTime() - row.createdAt.getTime()) / 1000);
    bookingsTotal.labels('confirmed').inc();
    await this.store.outbox.add(tx, 'appointment.confirmed', row.id, {
      appointmentId: row.id,
      patientId: row.patientId,
      professionalId: row.professionalId,
      startAt: row.startAt.toISOString(),
      endAt: row.endAt.toISOString(),
      invoiceId,
    });
    if (result.late) await this.store.publishAvailability(tx, row.professionalId, now);
  }

  /**
   * payment.expired: the invoice of a booking still held can no longer be paid, so the slot is
   * released now, not when the hold ends. A payment that still lands later (the provider's late
   * payment) takes onPaymentConfirmed's late path: confirmed if the slot is still free, else refunded.
   */
  async onPaymentExpired(event: DomainEvent<'payment.expired'>, tx: Tx, now = new Date()): Promise<void> {
    const { appointmentId } = event.data;
    await this.store.lock(tx, appointmentId);
    const row = await this.store.find(appointmentId, tx);
    if (!row || row.status !== 'held') return;
    releaseUnpayableHold(toBooking(row));
    await this.store.update(tx, row.id, { status: 'expired' });
    await this.store.outbox.add(tx, 'appointment.expired', row.id, { appointmentId: row.id });
    await this.store.publishAvailability(tx, row.professionalId, now);
    bookingsTotal.labels('expired').inc();
  }

  /** video.meeting_created: the join link goes on the booking. */
  async onMeetingCreated(event: DomainEvent<'video.meeting_created'>, tx: Tx): Promise<void> {
    const { appointmentId, joinUrl, provider, password } = event.data;
    await this.store.lock(tx, appointmentId);
    const row = await this.store.find(appointmentId, tx);
    if (!row || row.status !== 'confirmed' || row.meetingJoinUrl === joinUrl) return;
    await this.store.update(tx, row.id, { meetingJoinUrl: joinUrl, meetingProvider: provider, meetingPassword: password || null });
    await this.store.outbox.add(tx, 'appointment.meeting_ready', row.id, { appointmentId: row.id, joinUrl, provider });
    bookingsTotal.labels('meeting_ready').inc();
  }

  /**
   * `video.consultation_ended`: the booking's meeting ended at its provider, with who joined. Both:
   * completed (before the clock would); one side or neither: no_show, saying who. A booking with
   * no such report is completed by the clock (completeFinished), as before.
   */
  async onConsultationEnded(event: DomainEvent<'video.consultation_ended'>, tx: Tx): Promise<void> {
    const { appointmentId, hostJoined, patientJoined } = event.data;
    await this.store.lock(tx, appointmentId);
    const row = await this.store.find(appointmentId, tx);
    if (!row) return;
    const next = recordConsultationOutcome(toBooking(row), { professionalJoined: hostJoined, patientJoined });
    if (!next) return;
    await this.store.update(tx, row.id, { status: next.status, noShowBy: next.noShowBy ?? null });
    const parties = { appointmentId: row.id, patientId: row.patientId, professionalId: row.professionalId };
    if (next.status === 'completed') await this.store.outbox.add(tx, 'appointment.completed', row.id, { ...parties, by: 'meeting' });
    else await this.store.outbox.add(tx, 'appointment.no_show', row.id, { ...parties, noShowBy: next.noShowBy ?? 'both' });
    if (row.status === 'confirmed') this.store.availabilityChanged(tx, row.professionalId);
    bookingsTotal.labels(next.status).inc();
  }

  async cancel(id: string, caller: Caller, reason: string, now = new Date()): Promise<Appointment> {
    const cancelled = await this.store.write(async (tx) => {
      await this.store.lock(tx, id);
      const row = await this.store.find(id, tx);
      if (!row) throw new DomainError('NOT_FOUND', 'no such appointment');
      const { booking, refundDue } = cancelBooking(toBooking(row), caller, now);
      const updated = await this.store.update(tx, id, { status: 'cancelled', cancelReason: reason.slice(0, 500), cancelledBy: booking.cancelledBy ?? caller.role, ...NO_MEETING });
      await this.store.outbox.add(tx, 'appointment.cancelled', id, { appointmentId: id, reason: reason.slice(0, 500), wasPaid: refundDue, cancelledBy: caller.role });
      await this.store.publishAvailability(tx, row.professionalId, now);
      return updated;
    });
    bookingsTotal.labels('cancelled').inc();
    return cancelled;
  }

  /**
   * Moves a confirmed booking to another free slot of its professional, as long as a new booking
   * (the schedule's slot length, notice, horizon, time off, others' bookings and buffers). The
   * database's exclusion constraint settles a race with a booking of that slot. Asking for the time
   * the booking already has answers it unchanged (a retried request).
   */
  async reschedule(id: string, caller: Caller, startAt: Date, now = new Date()): Promise<Appointment> {
    const current = await this.store.find(id);
    if (!current) throw new DomainError('NOT_FOUND', 'no such appointment');
    const schedule = await this.store.schedule(current.professionalId);
    if (!schedule) throw new DomainError('SLOT_NOT_AVAILABLE', 'this professional has no schedule');
    const endAt = new Date(startAt.getTime() + schedule.slotMinutes * 60_000);
    rescheduleBooking(toBooking(current), caller, startAt, endAt, now); // refuses early what the transaction would
    if (current.startAt.getTime() === startAt.getTime()) return current;
    if ((await this.slotState(current.professionalId, schedule, startAt, endAt, now, id)) === 'taken') throw new DomainError('SLOT_TAKEN', 'this slot is already taken');
    try {
      return await this.store.write(async (tx) => {
        await this.store.lock(tx, id);
        const row = (await this.store.find(id, tx))!;
        if (row.startAt.getTime() === startAt.getTime()) return row; // the same move, made by a racing request
        const { by } = rescheduleBooking(toBooking(row), caller, startAt, endAt, now);
        const moved = await this.store.move(tx, id, row.professionalId, startAt, endAt);
        await this.store.outbox.add(tx, 'appointment.rescheduled', id, {
          appointmentId: id,
          patientId: row.patientId,
          professionalId: row.professionalId,
          previousStartAt: row.startAt.toISOString(),
          startAt: startAt.toISOString(),
          endAt: endAt.toISOString(),
          rescheduledBy: by,
        });
        await this.store.publishAvailability(tx, row.professionalId, now);
        bookingsTotal.labels('rescheduled').inc();
        return moved;
      });
    } catch (err) {
      if (err instanceof SlotTakenError) throw new DomainError('SLOT_TAKEN', 'this slot is already taken');
      if (err instanceof NoScheduleError) throw new DomainError('SLOT_NOT_AVAILABLE', 'this professional has no schedule');
      throw err;
    }
  }

  /**
   * Republishes the free slots of professionals whose published ones have all passed (search moves
   * along the earlier ones itself, so its nextAvailableAt stays true as time passes, not only when
   * bookings change). A batch per call;
   * safe with several replicas (SKIP LOCKED). Returns how many were republished.
   */
  async refreshPassedAvailability(now = new Date(), limit = 200): Promise<number> {
    const refreshed = await this.store.write(async (tx) => {
      const ids = await this.store.staleAvailability(tx, now, limit);
      for (const id of ids) await this.store.publishAvailability(tx, id, now, true);
      return ids.length;
    });
    availabilityRefreshed.inc(refreshed);
    return refreshed;
  }

  /** Releases held slots whose hold ended unpaid. Safe with several replicas (SKIP LOCKED). */
  async expireDueHolds(now = new Date()): Promise<number> {
    const expired = await this.store.write(async (tx) => {
      const ids = await this.store.dueHolds(tx, now);
      const professionals = new Set<string>();
      for (const id of ids) {
        const row = (await this.store.find(id, tx))!;
        expireHold(toBooking(row), now);
        await this.store.update(tx, id, { status: 'expired' });
        await this.store.outbox.add(tx, 'appointment.expired', id, { appointmentId: id });
        professionals.add(row.professionalId);
      }
      for (const professionalId of professionals) await this.store.publishAvailability(tx, professionalId, now);
      return ids.length;
    });
    if (expired > 0) bookingsTotal.labels('expired').inc(expired);
    return expired;
  }

  /** Confirmed bookings become completed once their consultation has ended. */
  async completeFinished(now = new Date()): Promise<number> {
    return this.store.write(async (tx) => {
      const ids = await this.store.finishedConsultations(tx, now);
      for (const id of ids) {
        completeBooking(toBooking((await this.store.find(id, tx))!), now);
        const row = await this.store.update(tx, id, { status: 'completed' });
        await this.store.outbox.add(tx, 'appointment.completed', id, { appointmentId: id, patientId: row.patientId, professionalId: row.professionalId, by: 'clock' });
        this.store.availabilityChanged(tx, row.professionalId);
        bookingsTotal.labels('completed').inc();
      }
      return ids.length;
    });
  }

  /**
   * `identity.user_erased` (ARCHITECTURE section 4, compensations), in the consumer's transaction.
   * The user may have been a patient or a professional; both are applied (each is a no-op otherwise).
   * A professional's open bookings end first: each cancelled one tells its patient (SSE), payment
   * (refund due when paid) and video (meeting deleted) through `appointment.cancelled`.
   */
  async onUserErased(userId: string, tx: Tx, now = new Date()): Promise<void> {
    await this.store.removeSchedule(tx, userId);
    for (const id of await this.store.lockBookingsOf(tx, userId)) {
      const row = (await this.store.find(id, tx))!;
      const result = closeForDeparture(toBooking(row), now);
      if (result.outcome === 'completed') {
        await this.store.update(tx, id, { status: 'completed' });
        await this.store.outbox.add(tx, 'appointment.completed', id, { appointmentId: id, patientId: row.patientId, professionalId: row.professionalId, by: 'clock' });
        bookingsTotal.labels('completed').inc();
      } else if (result.outcome === 'cancelled') {
        await this.store.update(tx, id, { status: 'cancelled', cancelReason: PROFESSIONAL_LEFT, cancelledBy: 'system', ...NO_MEETING });
        await this.store.outbox.add(tx, 'appointment.cancelled', id, { appointmentId: id, reason: PROFESSIONAL_LEFT, wasPaid: result.refundDue, cancelledBy: 'system' });
        bookingsTotal.labels('cancelled').inc();
      }
    }
    this.store.availabilityChanged(tx, userId); // the schedule is gone
    await this.store.anonymiseProfessional(tx, userId);
    await this.store.anonymisePatient(tx, userId);
  }

  private async refundCase(tx: Tx, row: Appointment, reason: string, now: Date) {
    this.store.availabilityChanged(tx, row.professionalId);
    await this.store.update(tx, row.id, { status: 'cancelled', cancelReason: `payment arrived too late: ${reason}`, cancelledBy: 'system', ...NO_MEETING });
    await this.store.outbox.add(tx, 'appointment.cancelled', row.id, { appointmentId: row.id, reason: `payment arrived too late: ${reason}`, wasPaid: true, cancelledBy: 'system' });
    bookingsTotal.labels('cancelled').inc();
    void now;
  }
}
