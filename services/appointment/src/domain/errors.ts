// Errors of the appointment domain: a stable machine code and a human message.
// The domain knows nothing of gRPC; `codeToGrpcStatus` names the status the rpc layer should use.

import type { ScheduleProblem, ScheduleProblemCode } from './schedule';
import type { DateOverrideProblem, DateOverrideProblemCode } from './date-overrides';

export type DomainErrorCode =
  | ScheduleProblemCode
  | DateOverrideProblemCode
  | 'SCHEDULE_REQUIRED' // a date override needs the weekly schedule (its zone and horizon)
  | 'INVALID_SCHEDULE' // validateSchedule failed; `problems` lists why
  | 'INVALID_RANGE' // slot query with an unreadable or reversed [from, to)
  | 'RANGE_TOO_LARGE' // slot query longer than MAX_SLOT_RANGE_DAYS
  | 'SLOT_NOT_AVAILABLE' // the requested start is not one of the free slots
  | 'SLOT_TAKEN' // the database refused an overlapping booking (raised by the store)
  | 'NOT_FOUND' // raised by the store
  | 'NOT_ALLOWED' // the caller may not see or change this booking
  | 'INVALID_TRANSITION' // the booking's status does not allow this step
  | 'CANCEL_TOO_LATE' // the appointment has already started
  | 'NOT_RESCHEDULABLE' // only a confirmed (paid) booking can be moved
  | 'RESCHEDULE_TOO_LATE' // the appointment has already started
  | 'HOLD_NOT_EXPIRED'; // expireHold called before the hold's expiry

export type GrpcStatusName =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** For invalid schedules and date overrides: every problem found. */
    readonly problems: Array<ScheduleProblem | DateOverrideProblem> = [],
  ) {
    super(message);
  }
}

export const codeToGrpcStatus: Readonly<Record<DomainErrorCode, GrpcStatusName>> = {
  INVALID_PROFESSIONAL_ID: 'INVALID_ARGUMENT',
  INVALID_TIME_ZONE: 'INVALID_ARGUMENT',
  INVALID_RULES: 'INVALID_ARGUMENT',
  INVALID_WEEKDAY: 'INVALID_ARGUMENT',
  INVALID_TIME: 'INVALID_ARGUMENT',
  RULE_END_BEFORE_START: 'INVALID_ARGUMENT',
  RULES_OVERLAP: 'INVALID_ARGUMENT',
  INVALID_SLOT_LENGTH: 'INVALID_ARGUMENT',
  INVALID_BUFFER: 'INVALID_ARGUMENT',
  INVALID_NOTICE: 'INVALID_ARGUMENT',
  INVALID_HORIZON: 'INVALID_ARGUMENT',
  INVALID_SCHEDULE: 'INVALID_ARGUMENT',
  INVALID_RANGE: 'INVALID_ARGUMENT',
  RANGE_TOO_LARGE: 'INVALID_ARGUMENT',
  SLOT_NOT_AVAILABLE: 'FAILED_PRECONDITION',
  SLOT_TAKEN: 'ALREADY_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  NOT_ALLOWED: 'PERMISSION_DENIED',
  INVALID_TRANSITION: 'FAILED_PRECONDITION',
  CANCEL_TOO_LATE: 'FAILED_PRECONDITION',
  NOT_RESCHEDULABLE: 'FAILED_PRECONDITION',
  RESCHEDULE_TOO_LATE: 'FAILED_PRECONDITION',
  HOLD_NOT_EXPIRED: 'FAILED_PRECONDITION',
  INVALID_DATE: 'INVALID_ARGUMENT',
  DATE_OUTSIDE_HORIZON: 'INVALID_ARGUMENT',
  INVALID_RANGES: 'INVALID_ARGUMENT',
  RANGE_END_BEFORE_START: 'INVALID_ARGUMENT',
  RANGES_NOT_ORDERED: 'INVALID_ARGUMENT',
  RANGES_OVERLAP: 'INVALID_ARGUMENT',
  SCHEDULE_REQUIRED: 'FAILED_PRECONDITION',
};
