// A booking and its lifecycle (ARCHITECTURE section 4):
//
//   held ──payment──▶ confirmed ──after its end──▶ completed
//     │                  │  └──meeting ended, one side absent──▶ no_show   (video's webhooks)
//     │                  │
//     ├──▶ cancelled ◀───┘   (by the patient or the professional, before the start)
//     └──▶ expired ──▶ confirmed   (hold lapsed unpaid; a late payment may still confirm, section 4.4)
//
// Functions are pure: they take a booking and return the next one (or throw a DomainError);
// the store persists it and the service publishes the matching event.

import { DomainError } from './errors';

export type BookingStatus = 'held' | 'confirmed' | 'completed' | 'no_show' | 'cancelled' | 'expired';

/** Who never joined a meeting that ended. */
export type NoShowBy = 'patient' | 'professional' | 'both';

export interface Booking {
  id: string;
  patientId: string;
  professionalId: string;
  startAt: Date;
  endAt: Date;
  status: BookingStatus;
  /** While held: when the slot is released if unpaid. */
  holdExpiresAt: Date;
  /** Set once cancelled: by one of its parties, or by the platform (e.g. the professional left). */
  cancelledBy?: 'patient' | 'professional' | 'system';
  /** Set once no_show. */
  noShowBy?: NoShowBy;
}

export type Role = 'patient' | 'professional' | 'admin';

export interface Caller {
  userId: string;
  role: Role;
}

const NEXT: Readonly<Record<BookingStatus, readonly BookingStatus[]>> = {
  held: ['confirmed', 'cancelled', 'expired'],
  confirmed: ['completed', 'no_show', 'cancelled'],
  // Only by what the meeting's provider reports (recordConsultationOutcome): the clock completes a
  // booking whose meeting reported nothing, and a later report of who joined is believed over it.
  completed: ['no_show'],
  no_show: ['completed'],
  cancelled: [],
  expired: ['confirmed'], // only by a late payment, see confirmBooking
};

export function canTransition(from: BookingStatus, to: BookingStatus): boolean {
  return NEXT[from].includes(to);
}

function moveTo(booking: Booking, to: BookingStatus): Booking {
  if (!canTransition(booking.status, to)) {
    throw new DomainError('INVALID_TRANSITION', `a ${booking.status} booking cannot become ${to}`);
  }
  return { ...booking, status: to };
}

/** Minutes an invoice stays payable, and the extra time a hold waits for an on-chain payment to confirm. */
export const DEFAULT_INVOICE_TTL_MINUTES = 15;
export const DEFAULT_ONCHAIN_MARGIN_MINUTES = 45;

/** When a new hold lapses: it outlasts the invoice (invoice expiry + margin for on-chain confirmation),
 *  so a payment sent just before the invoice expires still finds its slot held. Default: now + 60 min. */
export function holdExpiry(
  now: Date,
  invoiceTtlMinutes = DEFAULT_INVOICE_TTL_MINUTES,
  onchainMarginMinutes = DEFAULT_ONCHAIN_MARGIN_MINUTES,
): Date {
  return new Date(now.getTime() + (invoiceTtlMinutes + onchainMarginMinutes) * 60_000);
}

export type ConfirmResult =
  /** Now confirmed; `late` when the payment landed after the hold had lapsed. */
  | { outcome: 'confirmed'; booking: Booking; late: boolean }
  /** A redelivered payment for a booking already confirmed (or completed): nothing to do. */
  | { outcome: 'already-confirmed'; booking: Booking }
  /** The money must go back; the booking is (now) expired or cancelled. */
  | { outcome: 'refund-needed'; booking: Booking; reason: 'SLOT_TAKEN' | 'SLOT_STARTED' | 'BOOKING_CANCELLED' };

/**
 * A payment has landed for this booking (section 4.4). Paid within the hold: confirmed. Paid after the
 * hold lapsed: confirmed if the slot is still free (`slotStillFree`: no other held or confirmed booking
 * overlaps it) and has not started yet; otherwise the booking stays (or becomes) expired and the
 * payment needs a refund. A payment for a cancelled booking is refunded too.
 */
export function confirmBooking(booking: Booking, now: Date, slotStillFree: boolean): ConfirmResult {
  switch (booking.status) {
    case 'confirmed':
    case 'completed':
      return { outcome: 'already-confirmed', booking };
    case 'cancelled':
      return { outcome: 'refund-needed', booking, reason: 'BOOKING_CANCELLED' };
    case 'held':
      if (now < booking.holdExpiresAt) return { outcome: 'confirmed', booking: moveTo(booking, 'confirmed'), late: false };
      break;
    case 'expired':
      break;
  }
  // Late payment: the hold lapsed (whether or not expireHold has run yet).
  const expired = booking.status === 'held' ? moveTo(booking, 'expired') : booking;
  if (now >= booking.startAt) return { outcome: 'refund-needed', booking: expired, reason: 'SLOT_STARTED' };
  if (!slotStillFree) return { outcome: 'refund-needed', booking: expired, reason: 'SLOT_TAKEN' };
  return { outcome: 'confirmed', booking: moveTo(booking, 'confirmed'), late: true };
}

export interface CancelResult {
  booking: Booking;
  /** True when it had been paid (confirmed): payment records a refund due. */
  refundDue: boolean;
}

/** Only the booking's patient or its professional may cancel, and only before the start. */
export function cancelBooking(booking: Booking, by: Caller, now: Date): CancelResult {
  const party = partyOf(booking, by);
  if (party === null) throw new DomainError('NOT_ALLOWED', 'only the patient or the professional of a booking may cancel it');
  const cancelled = moveTo(booking, 'cancelled');
  if (now >= booking.startAt) throw new DomainError('CANCEL_TOO_LATE', 'the appointment has already started');
  return { booking: { ...cancelled, cancelledBy: party }, refundDue: booking.status === 'confirmed' };
}

/**
 * Moves a paid booking to `startAt`..`endAt` (a free slot of the same professional: the caller
 * checks that). Only its patient or its professional, only a confirmed booking (an unpaid hold is
 * cancelled and booked again), only before it starts and only to a time still ahead. Returns who moved it.
 */
export function rescheduleBooking(booking: Booking, by: Caller, startAt: Date, endAt: Date, now: Date): { booking: Booking; by: 'patient' | 'professional' } {
  const party = partyOf(booking, by);
  if (party === null) throw new DomainError('NOT_ALLOWED', 'only the patient or the professional of a booking may move it');
  if (booking.status !== 'confirmed') throw new DomainError('NOT_RESCHEDULABLE', `a ${booking.status} booking cannot be moved; only a paid one can (cancel an unpaid one and book again)`);
  if (now >= booking.startAt) throw new DomainError('RESCHEDULE_TOO_LATE', 'the appointment has already started');
  if (startAt <= now) throw new DomainError('SLOT_NOT_AVAILABLE', 'the new time has passed');
  return { booking: { ...booking, startAt, endAt }, by: party };
}

/** The reason recorded on bookings cancelled because their professional erased their account. */
export const PROFESSIONAL_LEFT = 'professional left';

export type DepartureResult =
  /** Cancelled by the platform; `refundDue` when it had been paid. */
  | { outcome: 'cancelled'; booking: Booking; refundDue: boolean }
  /** A paid consultation that has already ended: it took place. */
  | { outcome: 'completed'; booking: Booking }
  /** Nothing to do: already over (completed, cancelled, expired). */
  | { outcome: 'unchanged'; booking: Booking };

/**
 * The professional erased their account: every booking still open with them ends. A hold or a
 * paid consultation that has not ended is cancelled by the platform (a paid one is owed back);
 * a paid one that has ended is completed. So none of their bookings keeps a slot.
 */
export function closeForDeparture(booking: Booking, now: Date): DepartureResult {
  if (booking.status === 'confirmed' && now >= booking.endAt) return { outcome: 'completed', booking: moveTo(booking, 'completed') };
  if (booking.status === 'held' || booking.status === 'confirmed') {
    return { outcome: 'cancelled', booking: { ...moveTo(booking, 'cancelled'), cancelledBy: 'system' }, refundDue: booking.status === 'confirmed' };
  }
  return { outcome: 'unchanged', booking };
}

/** Releases an unpaid hold once its expiry has passed. */
export function expireHold(booking: Booking, now: Date): Booking {
  const expired = moveTo(booking, 'expired');
  if (now < booking.holdExpiresAt) throw new DomainError('HOLD_NOT_EXPIRED', `the hold lasts until ${booking.holdExpiresAt.toISOString()}`);
  return expired;
}

/**
 * The booking's invoice can no longer be paid (it expired at the provider or was invalidated): the
 * hold is released at once rather than blocking the slot with nothing to pay until it ends.
 */
export function releaseUnpayableHold(booking: Booking): Booking {
  return moveTo(booking, 'expired');
}

export interface Attendance {
  /** The professional (the meeting's host) joined. */
  professionalJoined: boolean;
  patientJoined: boolean;
}

/**
 * The booking's meeting ended (video's `video.consultation_ended`): completed when both joined,
 * no_show (saying who never came) otherwise. The report is evidence and wins over the clock's
 * completion; a later report (a join Zoom told late) may change no_show to completed or the side.
 * Returns undefined when nothing changes (a cancelled or expired booking, or the same outcome).
 */
export function recordConsultationOutcome(booking: Booking, attendance: Attendance): Booking | undefined {
  if (booking.status !== 'confirmed' && booking.status !== 'completed' && booking.status !== 'no_show') return undefined;
  const noShowBy: NoShowBy | undefined =
    attendance.patientJoined && attendance.professionalJoined ? undefined : !attendance.patientJoined && !attendance.professionalJoined ? 'both' : attendance.patientJoined ? 'professional' : 'patient';
  if (!noShowBy) return booking.status === 'completed' ? undefined : { ...moveTo(booking, 'completed'), noShowBy: undefined };
  if (booking.status === 'no_show' && booking.noShowBy === noShowBy) return undefined;
  return { ...(booking.status === 'no_show' ? booking : moveTo(booking, 'no_show')), noShowBy };
}

/** A confirmed appointment is completed once its end has passed. */
export function completeBooking(booking: Booking, now: Date): Booking {
  const completed = moveTo(booking, 'completed');
  if (now < booking.endAt) throw new DomainError('INVALID_TRANSITION', 'the appointment has not ended yet');
  return completed;
}

/** A patient sees only their own bookings, a professional only their own calendar, an admin all. */
export function canView(booking: Booking, caller: Caller): boolean {
  return caller.role === 'admin' || partyOf(booking, caller) !== null;
}

function partyOf(booking: Booking, caller: Caller): 'patient' | 'professional' | null {
  if (caller.role === 'patient' && caller.userId === booking.patientId) return 'patient';
  if (caller.role === 'professional' && caller.userId === booking.professionalId) return 'professional';
  return null;
}
