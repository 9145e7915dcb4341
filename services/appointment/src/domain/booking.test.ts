import {
  canTransition,
  canView,
  cancelBooking,
  closeForDeparture,
  completeBooking,
  confirmBooking,
  expireHold,
  releaseUnpayableHold,
  holdExpiry,
  recordConsultationOutcome,
  rescheduleBooking,
  type Booking,
  type Caller,
} from './booking';
import { DomainError, codeToGrpcStatus } from './errors';

const at = (iso: string) => new Date(iso);

// Booked at 10:00Z, hold until 11:00Z, appointment 14:00Z–14:30Z.
const held: Booking = {
  id: 'appt-1',
  patientId: 'patient-1',
  professionalId: 'pro-1',
  startAt: at('2026-01-05T14:00:00Z'),
  endAt: at('2026-01-05T14:30:00Z'),
  status: 'held',
  holdExpiresAt: at('2026-01-05T11:00:00Z'),
};
const confirmed: Booking = { ...held, status: 'confirmed' };

const patient: Caller = { userId: 'patient-1', role: 'patient' };
const professional: Caller = { userId: 'pro-1', role: 'professional' };
const admin: Caller = { userId: 'admin-1', role: 'admin' };

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(code);
    return;
  }
  throw new Error(`expected DomainError ${code}`);
}

describe('holdExpiry', () => {
  it('outlasts the invoice: 15 min invoice + 45 min on-chain margin by default', () => {
    expect(holdExpiry(at('2026-01-05T10:00:00Z'))).toEqual(at('2026-01-05T11:00:00Z'));
    expect(holdExpiry(at('2026-01-05T10:00:00Z'), 10, 30)).toEqual(at('2026-01-05T10:40:00Z'));
  });
});

describe('lifecycle transitions', () => {
  it.each([
    ['held', 'confirmed', true],
    ['held', 'cancelled', true],
    ['held', 'expired', true],
    ['confirmed', 'completed', true],
    ['confirmed', 'cancelled', true],
    ['expired', 'confirmed', true], // late payment only
    ['held', 'completed', false],
    ['confirmed', 'held', false],
    ['confirmed', 'expired', false],
    ['completed', 'cancelled', false],
    ['cancelled', 'confirmed', false],
    ['expired', 'cancelled', false],
  ] as const)('%s → %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});

describe('confirmBooking (payment landed)', () => {
  it('confirms a payment within the hold, whatever the slot check says (the hold is what occupies it)', () => {
    expect(confirmBooking(held, at('2026-01-05T10:59:00Z'), false)).toEqual({
      outcome: 'confirmed',
      booking: { ...held, status: 'confirmed' },
      late: false,
    });
  });

  it('late payment, slot still free: confirms', () => {
    const late = at('2026-01-05T11:30:00Z');
    expect(confirmBooking(held, late, true)).toEqual({ outcome: 'confirmed', booking: confirmed, late: true });
    const expired: Booking = { ...held, status: 'expired' };
    expect(confirmBooking(expired, late, true)).toEqual({ outcome: 'confirmed', booking: confirmed, late: true });
  });

  it('late payment, slot taken: refund, and the booking is expired', () => {
    const late = at('2026-01-05T11:00:00Z'); // the hold ends at its expiry instant
    const expired: Booking = { ...held, status: 'expired' };
    expect(confirmBooking(held, late, false)).toEqual({ outcome: 'refund-needed', booking: expired, reason: 'SLOT_TAKEN' });
    expect(confirmBooking(expired, late, false)).toEqual({ outcome: 'refund-needed', booking: expired, reason: 'SLOT_TAKEN' });
  });

  it('late payment after the appointment started: refund even if the slot is free', () => {
    const result = confirmBooking({ ...held, status: 'expired' }, at('2026-01-05T14:05:00Z'), true);
    expect(result).toMatchObject({ outcome: 'refund-needed', reason: 'SLOT_STARTED' });
  });

  it('payment for a cancelled booking: refund', () => {
    const cancelled: Booking = { ...held, status: 'cancelled', cancelledBy: 'patient' };
    expect(confirmBooking(cancelled, at('2026-01-05T10:30:00Z'), true)).toEqual({
      outcome: 'refund-needed',
      booking: cancelled,
      reason: 'BOOKING_CANCELLED',
    });
  });

  it('a redelivered payment changes nothing', () => {
    expect(confirmBooking(confirmed, at('2026-01-05T10:30:00Z'), false)).toEqual({ outcome: 'already-confirmed', booking: confirmed });
    const completed: Booking = { ...held, status: 'completed' };
    expect(confirmBooking(completed, at('2026-01-06T10:30:00Z'), false).outcome).toBe('already-confirmed');
  });
});

describe('cancelBooking', () => {
  const before = at('2026-01-05T13:00:00Z');

  it('the patient cancels an unpaid hold: no refund', () => {
    expect(cancelBooking(held, patient, before)).toEqual({
      booking: { ...held, status: 'cancelled', cancelledBy: 'patient' },
      refundDue: false,
    });
  });

  it('the professional cancels a paid booking: refund due', () => {
    expect(cancelBooking(confirmed, professional, before)).toEqual({
      booking: { ...confirmed, status: 'cancelled', cancelledBy: 'professional' },
      refundDue: true,
    });
  });

  it.each([
    ['another patient', { userId: 'patient-2', role: 'patient' }],
    ['another professional', { userId: 'pro-2', role: 'professional' }],
    ['the professional’s id claiming the patient role', { userId: 'pro-1', role: 'patient' }],
    ['an admin', admin],
  ] as [string, Caller][])('%s may not cancel', (_who, caller) => {
    expectCode(() => cancelBooking(confirmed, caller, before), 'NOT_ALLOWED');
  });

  it('is refused once the appointment has started', () => {
    expectCode(() => cancelBooking(confirmed, patient, at('2026-01-05T14:00:00Z')), 'CANCEL_TOO_LATE');
  });

  it.each(['cancelled', 'expired', 'completed'] as const)('a %s booking cannot be cancelled', (status) => {
    expectCode(() => cancelBooking({ ...held, status }, patient, before), 'INVALID_TRANSITION');
  });

  it('a stranger learns nothing about the booking’s state', () => {
    expectCode(() => cancelBooking({ ...held, status: 'expired' }, { userId: 'x', role: 'patient' }, before), 'NOT_ALLOWED');
  });
});

describe('rescheduleBooking', () => {
  const before = at('2026-01-05T13:00:00Z');
  const later = [at('2026-01-07T09:00:00Z'), at('2026-01-07T09:30:00Z')] as const;

  it('either party moves a paid booking before it starts: new times, same status, who moved it', () => {
    expect(rescheduleBooking(confirmed, patient, ...later, before)).toEqual({ booking: { ...confirmed, startAt: later[0], endAt: later[1] }, by: 'patient' });
    expect(rescheduleBooking(confirmed, professional, ...later, before).by).toBe('professional');
  });

  it.each([
    ['another patient', { userId: 'patient-2', role: 'patient' }],
    ['the professional’s id claiming the patient role', { userId: 'pro-1', role: 'patient' }],
    ['an admin', admin],
  ] as [string, Caller][])('%s may not move it', (_who, caller) => {
    expectCode(() => rescheduleBooking(confirmed, caller, ...later, before), 'NOT_ALLOWED');
  });

  it.each(['held', 'cancelled', 'expired', 'completed', 'no_show'] as const)('a %s booking cannot be moved', (status) => {
    expectCode(() => rescheduleBooking({ ...confirmed, status }, patient, ...later, before), 'NOT_RESCHEDULABLE');
  });

  it('is refused once it has started, and to a time already past', () => {
    expectCode(() => rescheduleBooking(confirmed, patient, ...later, at('2026-01-05T14:00:00Z')), 'RESCHEDULE_TOO_LATE');
    expectCode(() => rescheduleBooking(confirmed, patient, at('2026-01-05T12:00:00Z'), at('2026-01-05T12:30:00Z'), before), 'SLOT_NOT_AVAILABLE');
  });
});

describe('expireHold', () => {
  it('expires an unpaid hold at or after its expiry', () => {
    expect(expireHold(held, at('2026-01-05T11:00:00Z'))).toEqual({ ...held, status: 'expired' });
  });

  it('refuses before the expiry, and for a booking that is no longer held', () => {
    expectCode(() => expireHold(held, at('2026-01-05T10:59:59Z')), 'HOLD_NOT_EXPIRED');
    expectCode(() => expireHold(confirmed, at('2026-01-05T12:00:00Z')), 'INVALID_TRANSITION');
  });
});

describe('releaseUnpayableHold', () => {
  it('releases a hold before its end (its invoice can no longer be paid), never a booking past held', () => {
    expect(releaseUnpayableHold(held)).toEqual({ ...held, status: 'expired' });
    expectCode(() => releaseUnpayableHold(confirmed), 'INVALID_TRANSITION');
  });
});

describe('completeBooking', () => {
  it('completes a confirmed appointment once it has ended', () => {
    expect(completeBooking(confirmed, at('2026-01-05T14:30:00Z'))).toEqual({ ...confirmed, status: 'completed' });
    expectCode(() => completeBooking(confirmed, at('2026-01-05T14:29:00Z')), 'INVALID_TRANSITION');
    expectCode(() => completeBooking(held, at('2026-01-05T15:00:00Z')), 'INVALID_TRANSITION');
  });
});

describe('recordConsultationOutcome (the meeting ended, video says who joined)', () => {
  const both = { professionalJoined: true, patientJoined: true };
  const noPatient = { professionalJoined: true, patientJoined: false };
  const noProfessional = { professionalJoined: false, patientJoined: true };

  it('completes a confirmed booking when both joined (before the clock would), no_show saying who otherwise', () => {
    expect(recordConsultationOutcome(confirmed, both)).toEqual({ ...confirmed, status: 'completed' });
    expect(recordConsultationOutcome(confirmed, noPatient)).toEqual({ ...confirmed, status: 'no_show', noShowBy: 'patient' });
    expect(recordConsultationOutcome(confirmed, noProfessional)).toEqual({ ...confirmed, status: 'no_show', noShowBy: 'professional' });
    expect(recordConsultationOutcome(confirmed, { professionalJoined: false, patientJoined: false })).toEqual({ ...confirmed, status: 'no_show', noShowBy: 'both' });
  });

  it('believes the report over the clock’s completion, and a later report (a join told late) over an earlier one', () => {
    const completed: Booking = { ...confirmed, status: 'completed' };
    expect(recordConsultationOutcome(completed, noPatient)).toEqual({ ...confirmed, status: 'no_show', noShowBy: 'patient' });
    expect(recordConsultationOutcome(completed, both)).toBeUndefined();
    const noShow: Booking = { ...confirmed, status: 'no_show', noShowBy: 'patient' };
    expect(recordConsultationOutcome(noShow, both)).toEqual({ ...confirmed, status: 'completed' });
    expect(recordConsultationOutcome(noShow, noPatient)).toBeUndefined();
    expect(recordConsultationOutcome(noShow, noProfessional)).toEqual({ ...noShow, noShowBy: 'professional' });
  });

  it.each(['held', 'cancelled', 'expired'] as const)('leaves a %s booking as it is', (status) => {
    expect(recordConsultationOutcome({ ...held, status }, both)).toBeUndefined();
    expect(recordConsultationOutcome({ ...held, status }, noPatient)).toBeUndefined();
  });
});

describe('closeForDeparture (the professional erased their account)', () => {
  const before = at('2026-01-05T13:00:00Z');

  it('cancels a hold (nothing to refund) and a paid booking (refund due), by the platform', () => {
    expect(closeForDeparture(held, before)).toEqual({ outcome: 'cancelled', booking: { ...held, status: 'cancelled', cancelledBy: 'system' }, refundDue: false });
    expect(closeForDeparture(confirmed, before)).toEqual({ outcome: 'cancelled', booking: { ...confirmed, status: 'cancelled', cancelledBy: 'system' }, refundDue: true });
  });

  it('cancels a paid consultation in progress, completes one that has ended', () => {
    expect(closeForDeparture(confirmed, at('2026-01-05T14:10:00Z'))).toMatchObject({ outcome: 'cancelled', refundDue: true });
    expect(closeForDeparture(confirmed, at('2026-01-05T14:30:00Z'))).toEqual({ outcome: 'completed', booking: { ...confirmed, status: 'completed' } });
  });

  it.each(['completed', 'cancelled', 'expired'] as const)('leaves a %s booking as it is', (status) => {
    expect(closeForDeparture({ ...held, status }, before)).toEqual({ outcome: 'unchanged', booking: { ...held, status } });
  });
});

describe('canView', () => {
  it.each([
    ['its patient', patient, true],
    ['its professional', professional, true],
    ['an admin', admin, true],
    ['another patient', { userId: 'patient-2', role: 'patient' }, false],
    ['another professional', { userId: 'pro-2', role: 'professional' }, false],
    ['its patient’s id with the professional role', { userId: 'patient-1', role: 'professional' }, false],
  ] as [string, Caller, boolean][])('%s: %s', (_who, caller, allowed) => {
    expect(canView(held, caller)).toBe(allowed);
  });
});

describe('codeToGrpcStatus', () => {
  it('maps domain codes to the gRPC status the rpc layer returns', () => {
    expect(codeToGrpcStatus.SLOT_TAKEN).toBe('ALREADY_EXISTS');
    expect(codeToGrpcStatus.SLOT_NOT_AVAILABLE).toBe('FAILED_PRECONDITION');
    expect(codeToGrpcStatus.NOT_ALLOWED).toBe('PERMISSION_DENIED');
    expect(codeToGrpcStatus.NOT_FOUND).toBe('NOT_FOUND');
    expect(codeToGrpcStatus.INVALID_TRANSITION).toBe('FAILED_PRECONDITION');
    expect(codeToGrpcStatus.CANCEL_TOO_LATE).toBe('FAILED_PRECONDITION');
    expect(codeToGrpcStatus.RANGE_TOO_LARGE).toBe('INVALID_ARGUMENT');
    expect(codeToGrpcStatus.RULES_OVERLAP).toBe('INVALID_ARGUMENT');
    expect(codeToGrpcStatus.INVALID_TIME_ZONE).toBe('INVALID_ARGUMENT');
  });
});
