import { auditEvent } from '@cryptocare/events';
import { appointment, search } from '@cryptocare/contracts';
import {
  AppError,
  defineService,
  GrpcStatus,
  invalidArgument,
  isUuid,
  notFound,
  unavailable,
  type GrpcClient,
  type Logger,
} from '@cryptocare/platform';
import { canView, computeSlots, DomainError, codeToGrpcStatus, parseLocalDate, validateSchedule, type Caller, type Role } from '../domain';
import type { Bookings } from '../bookings';
import { toBooking, type Appointment, type AppointmentStore } from '../store/appointment-store';

const statusToProto: Record<string, appointment.AppointmentStatus> = {
  held: appointment.AppointmentStatus.APPOINTMENT_STATUS_HELD,
  confirmed: appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED,
  completed: appointment.AppointmentStatus.APPOINTMENT_STATUS_COMPLETED,
  cancelled: appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED,
  expired: appointment.AppointmentStatus.APPOINTMENT_STATUS_EXPIRED,
  no_show: appointment.AppointmentStatus.APPOINTMENT_STATUS_NO_SHOW,
};

export function appointmentMessage(row: Appointment): appointment.Appointment {
  return {
    id: row.id,
    patientId: row.patientId,
    professionalId: row.professionalId,
    startAt: row.startAt.toISOString(),
    endAt: row.endAt.toISOString(),
    status: statusToProto[row.status] ?? appointment.AppointmentStatus.APPOINTMENT_STATUS_UNSPECIFIED,
    holdExpiresAt: row.status === 'held' ? row.holdExpiresAt.toISOString() : '',
    price: { amount: row.priceAmount.toFixed(2), currency: row.priceCurrency },
    meeting: row.meetingJoinUrl ? { joinUrl: row.meetingJoinUrl, provider: row.meetingProvider ?? '', password: row.meetingPassword ?? '' } : undefined,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    cancelReason: row.cancelReason ?? '',
    noShowBy: row.status === 'no_show' ? (row.noShowBy ?? '') : '',
  };
}

/** Domain refusals become gRPC statuses with the same machine code. */
function translate(err: unknown): never {
  if (err instanceof DomainError) {
    const status = GrpcStatus[codeToGrpcStatus[err.code] as keyof typeof GrpcStatus] as GrpcStatus;
    throw new AppError(status, err.code, err.message, err.problems.length ? { problems: err.problems } : undefined);
  }
  throw err;
}

function instant(value: string, field: string): Date {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) throw invalidArgument('INVALID_TIME', `${field} must be an ISO 8601 instant`);
  return date;
}

function caller(c: appointment.Caller | undefined): Caller {
  if (!c || !isUuid(c.userId) || !['patient', 'professional', 'admin'].includes(c.role)) throw invalidArgument('INVALID_CALLER', 'caller is required');
  return { userId: c.userId, role: c.role as Role };
}

function requireUuid(value: string, field: string) {
  if (!isUuid(value)) throw invalidArgument('INVALID_ID', `${field} must be a UUID`);
}

export function appointmentService(deps: {
  store: AppointmentStore;
  bookings: Bookings;
  search: GrpcClient<typeof search, 'SearchService'>;
  logger: Logger;
}) {
  const { store, bookings } = deps;

  async function viewable(id: string, who: Caller): Promise<Appointment> {
    requireUuid(id, 'appointment_id');
    const row = await store.find(id);
    // Someone else's booking is reported as missing: its existence is not disclosed.
    if (!row || !canView(toBooking(row), who)) throw notFound('APPOINTMENT_NOT_FOUND', 'no such appointment');
    return row;
  }

  /** One page of the caller's bookings (a patient's, a professional's calendar, or all for an admin). */
  async function pageOf(req: { caller?: appointment.Caller | undefined; limit: number; cursor: string }): Promise<{ page: Appointment[]; nextCursor: string }> {
    const who = caller(req.caller);
    const limit = Math.min(Math.max(req.limit || 20, 1), 100);
    let cursor: { startAt: Date; id: string } | undefined;
    if (req.cursor) {
      try {
        const [at, id] = JSON.parse(Buffer.from(req.cursor, 'base64url').toString()) as [string, string];
        cursor = { startAt: new Date(at), id };
        if (Number.isNaN(cursor.startAt.getTime()) || !isUuid(id)) throw new Error();
      } catch {
        throw invalidArgument('INVALID_CURSOR', 'cursor is not valid');
      }
    }
    const filter = who.role === 'patient' ? { patientId: who.userId } : who.role === 'professional' ? { professionalId: who.userId } : {};
    const rows = await store.list(filter, limit + 1, cursor);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? Buffer.from(JSON.stringify([last.startAt.toISOString(), last.id])).toString('base64url') : '';
    return { page, nextCursor };
  }

  return defineService(
    appointment,
    'AppointmentService',
    {
      async setSchedule(req) {
        const result = validateSchedule(req.schedule);
        if (!result.ok) {
          const first = result.problems[0]!;
          throw invalidArgument(first.code, `${first.field}: ${first.message}`, { problems: result.problems });
        }
        await store.saveSchedule(result.schedule);
        return { schedule: { ...result.schedule, timeOff: [] } };
      },

      async getSchedule(req) {
        requireUuid(req.professionalId, 'professional_id');
        const schedule = await store.schedule(req.professionalId);
        if (!schedule) throw notFound('SCHEDULE_NOT_FOUND', 'this professional has no schedule');
        const timeOff = await store.timeOff(req.professionalId);
        return { schedule: { ...schedule, timeOff: timeOff.map((t) => ({ id: t.id, startAt: t.startAt.toISOString(), endAt: t.endAt.toISOString(), reason: t.reason ?? '' })) } };
      },

      async addTimeOff(req) {
        requireUuid(req.professionalId, 'professional_id');
        const startAt = instant(req.timeOff?.startAt ?? '', 'start_at');
        const endAt = instant(req.timeOff?.endAt ?? '', 'end_at');
        if (endAt <= startAt) throw invalidArgument('INVALID_RANGE', 'time off must end after it starts');
        const row = await store.addTimeOff(req.professionalId, startAt, endAt, (req.timeOff?.reason ?? '').slice(0, 200));
        return { timeOff: { id: row.id, startAt: row.startAt.toISOString(), endAt: row.endAt.toISOString(), reason: row.reason } };
      },

      async removeTimeOff(req) {
        requireUuid(req.professionalId, 'professional_id');
        requireUuid(req.timeOffId, 'time_off_id');
        if (!(await store.removeTimeOff(req.professionalId, req.timeOffId))) throw notFound('TIME_OFF_NOT_FOUND', 'no such time off');
        return {};
      },

      async listSlots(req) {
        requireUuid(req.professionalId, 'professional_id');
        const from = instant(req.from, 'from');
        const to = instant(req.to, 'to');
        const { schedule, timeOff, busy } = await store.slotInputs(req.professionalId, from, to);
        if (!schedule) return { slots: [], timeZone: '' };
        try {
          const slots = computeSlots({
            schedule,
            timeOff,
            busy,
            from,
            to,
            now: new Date(),
          });
          return { slots: slots.map((s) => ({ startAt: s.startAt.toISOString(), endAt: s.endAt.toISOString() })), timeZone: schedule.timeZone };
        } catch (err) {
          translate(err);
        }
      },

      async listDateOverrides(req) {
        requireUuid(req.professionalId, 'professional_id');
        const found = await store.dateOverrides(req.professionalId);
        if (!found) throw notFound('SCHEDULE_NOT_FOUND', 'this professional has no schedule');
        return { items: found.items, timeZone: found.timeZone };
      },

      async setDateOverride(req) {
        requireUuid(req.professionalId, 'professional_id');
        try {
          return { override: await store.setDateOverride(req.professionalId, { date: req.override?.date, ranges: req.override?.ranges ?? [] }) };
        } catch (err) {
          translate(err);
        }
      },

      async removeDateOverride(req) {
        requireUuid(req.professionalId, 'professional_id');
        if (!parseLocalDate(req.date)) throw invalidArgument('INVALID_DATE', 'date must be a calendar date "YYYY-MM-DD"');
        if (!(await store.removeDateOverride(req.professionalId, req.date))) throw notFound('DATE_OVERRIDE_NOT_FOUND', 'no override on this date');
        return {};
      },

      async book(req) {
        requireUuid(req.patientId, 'patient_id');
        requireUuid(req.professionalId, 'professional_id');
        const startAt = instant(req.startAt, 'start');
        let profile: search.Profile | undefined;
        try {
          profile = (await deps.search.getProfile({ professionalId: req.professionalId, includeUnverified: true }, { deadlineMs: 1_000 })).profile;
        } catch (err) {
          if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) throw notFound('PROFESSIONAL_NOT_FOUND', 'no such professional');
          throw unavailable('SEARCH_UNAVAILABLE', 'the directory is unavailable, try again');
        }
        if (!profile?.price) throw notFound('PROFESSIONAL_NOT_FOUND', 'no such professional');
        try {
          const row = await bookings.book({
            patientId: req.patientId,
            professionalId: req.professionalId,
            startAt,
            terms: { verified: profile.verified, price: { amount: profile.price.amount, currency: profile.price.currency } },
            ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey.slice(0, 200) } : {}),
          });
          return { appointment: appointmentMessage(row) };
        } catch (err) {
          translate(err);
        }
      },

      async getAppointment(req) {
        const who = caller(req.caller);
        const row = await viewable(req.appointmentId, who);
        // A professional or an admin reading a patient's booking learns of a consultation: audited.
        if ((who.role === 'professional' || who.role === 'admin') && row.patientId !== who.userId && row.patientId !== '00000000-0000-0000-0000-000000000000') {
          await store.write((tx) =>
            auditEvent(store.outbox, tx, who.role === 'admin' ? 'booking.read_by_admin' : 'booking.read_by_professional', {
              actorId: who.userId,
              subjectId: row.patientId,
              objectId: row.id,
            }),
          );
        }
        return { appointment: appointmentMessage(row) };
      },

      async listAppointments(req) {
        const { page, nextCursor } = await pageOf(req);
        return { items: page.map(appointmentMessage), nextCursor };
      },

      async exportAppointments(req) {
        const who = caller(req.caller);
        const { page, nextCursor } = await pageOf(req);
        return {
          items: page.map((row) => ({
            appointment: appointmentMessage(row),
            cancelledBy: row.cancelledBy ?? '',
            // The key is what the patient sent; the professional's export does not carry it.
            idempotencyKey: who.role === 'patient' && row.patientId === who.userId ? (row.idempotencyKey ?? '') : '',
          })),
          nextCursor,
        };
      },

      async rescheduleAppointment(req) {
        const who = caller(req.caller);
        const startAt = instant(req.startAt, 'start');
        await viewable(req.appointmentId, who);
        try {
          return { appointment: appointmentMessage(await bookings.reschedule(req.appointmentId, who, startAt)) };
        } catch (err) {
          translate(err);
        }
      },

      async cancelAppointment(req) {
        const who = caller(req.caller);
        await viewable(req.appointmentId, who);
        try {
          return { appointment: appointmentMessage(await bookings.cancel(req.appointmentId, who, req.reason ?? '')) };
        } catch (err) {
          translate(err);
        }
      },
    },
    deps.logger,
  );
}
