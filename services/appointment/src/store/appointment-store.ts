import type pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { DateTime } from 'luxon';
import { poolDatabase, table, type Outbox, type SqlDatabase, type SqlTx } from '@cryptocare/events';
import { Prisma, type PrismaClient, type Appointment } from '../generated/prisma';
import type { SlotInputs, SlotsCache } from './slots-cache';
import { DomainError, LIMITS, PUBLISHED_FREE_SLOTS, republishAt, upcomingAvailable, validateDateOverride, type Booking, type BookingStatus, type DateOverride, type Interval, type Schedule, type TimeOff } from '../domain';

export type { Appointment };
type Tx = Prisma.TransactionClient;

export class SlotTakenError extends Error {}
/** A booking with this patient's Idempotency-Key was recorded meanwhile (a concurrent identical request). */
export class IdempotencyKeyTakenError extends Error {}
/** The professional's schedule is gone (being erased): nothing can be held any more. */
export class NoScheduleError extends Error {}

const ACTIVE: BookingStatus[] = ['held', 'confirmed'];
const DAY_MS = 86_400_000;

/** A PostgreSQL DATE column as Prisma gives it (UTC midnight) ↔ "YYYY-MM-DD". */
const dateColumn = (isoDate: string) => new Date(`${isoDate}T00:00:00Z`);
const isoDateOf = (column: Date) => column.toISOString().slice(0, 10);
const overrideOf = (row: { date: Date; ranges: unknown }): DateOverride => ({ date: isoDateOf(row.date), ranges: row.ranges as DateOverride['ranges'] });

export function toBooking(row: Appointment): Booking {
  return {
    id: row.id,
    patientId: row.patientId,
    professionalId: row.professionalId,
    startAt: row.startAt,
    endAt: row.endAt,
    status: row.status as BookingStatus,
    holdExpiresAt: row.holdExpiresAt,
    ...(row.cancelledBy ? { cancelledBy: row.cancelledBy as NonNullable<Booking['cancelledBy']> } : {}),
    ...(row.noShowBy ? { noShowBy: row.noShowBy as NonNullable<Booking['noShowBy']> } : {}),
  };
}

function isOverlapViolation(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${JSON.stringify((err as { meta?: unknown })?.meta ?? '')}`;
  return text.includes('bookings_no_overlap') || text.includes('23P01');
}

function isIdempotencyKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string; meta?: unknown };
  const text = `${e?.message ?? ''} ${JSON.stringify(e?.meta ?? '')}`;
  return e?.code === 'P2002' || text.includes('idempotency_key') || text.includes('23505');
}

/** Who may have written a booking's cancel reason (the platform's own reasons are not personal). */
const PERSON_WRITTEN_REASON = ['patient', 'professional'];

/** A row of `slotInputsRead`. */
interface SlotInputsRow {
  professional_id: string;
  time_zone: string;
  rules: unknown;
  slot_minutes: number;
  buffer_minutes: number;
  minimum_notice_minutes: number;
  horizon_days: number;
  overrides: Array<{ date: string; ranges: unknown }>;
  time_off: Array<[number, number]>;
  busy: Array<[number, number]>;
}

/** The columns of `appointments` under the names of Prisma's Appointment (the plain reads through the pool). */
const APPOINTMENT_COLUMNS = `id::text AS id, patient_id::text AS "patientId", professional_id::text AS "professionalId", start_at AS "startAt", end_at AS "endAt",
  blocked_until AS "blockedUntil", status, hold_expires_at AS "holdExpiresAt", price_amount::text AS "priceAmount", price_currency AS "priceCurrency",
  invoice_id AS "invoiceId", meeting_join_url AS "meetingJoinUrl", meeting_provider AS "meetingProvider", meeting_password AS "meetingPassword",
  idempotency_key AS "idempotencyKey", cancel_reason AS "cancelReason", cancelled_by AS "cancelledBy", no_show_by AS "noShowBy",
  confirmed_at AS "confirmedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** A row of APPOINTMENT_COLUMNS as node-postgres gives it (the price as text). */
type AppointmentRow = Omit<Appointment, 'priceAmount'> & { priceAmount: string };
const appointmentOf = (row: AppointmentRow): Appointment => ({ ...row, priceAmount: new Prisma.Decimal(row.priceAmount) });

/** appointment's tables, through Prisma; every change writes its events through the outbox. */
export class AppointmentStore {
  /** Transactions on `pool` (writeOnPool). */
  private readonly sql: SqlDatabase;

  constructor(
    private readonly db: PrismaClient,
    /** The pool under `db`, for the slot listing's read (databasePool says why not through Prisma). */
    private readonly pool: pg.Pool,
    readonly outbox: Outbox,
    private readonly schema: string,
    private readonly slotsCache?: SlotsCache,
  ) {
    this.sql = poolDatabase(pool);
  }

  /** Professionals whose availability changed, per transaction of `write` (announced after its commit). */
  private readonly changedIn = new WeakMap<object, Set<string>>();

  /** Runs `fn` in a transaction and wakes the outbox relay once it committed. */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.committed((changed) => this.db.$transaction((tx) => fn(this.tracked(tx, changed)), { timeout: 15_000 }));
  }

  /**
   * The same on the pool, for the booking's hold, which every booking waits for: a statement in an
   * interactive Prisma transaction costs about 2 ms of CPU (query compiler, result mapping), on the
   * pool a fraction of one. Book went from 17–18 to 13 ms one booking at a time (`make bench-booking-trace`).
   */
  private async writeOnPool<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.committed((changed) => this.sql.$transaction((tx) => fn(this.tracked(tx, changed)), { timeout: 15_000 }));
  }

  private tracked<X extends object>(tx: X, changed: Set<string>): X {
    this.changedIn.set(tx, changed);
    return tx;
  }

  private async committed<T>(run: (changed: Set<string>) => Promise<T>): Promise<T> {
    const changed = new Set<string>();
    const result = await run(changed);
    this.outbox.notifyCommitted();
    // After the commit: a reader that sees the new version reads the committed change (read-your-writes).
    if (this.slotsCache) await Promise.all([...changed].map((id) => this.slotsCache!.changed(id)));
    return result;
  }

  /** The professional's slots change with `tx` (schedule, time off, a booking's status). */
  availabilityChanged(tx: SqlTx, professionalId: string): void {
    const changed = this.changedIn.get(tx);
    if (changed) changed.add(professionalId);
    else this.slotsCache?.changedInTransaction(professionalId); // a consumer's transaction, committed by its host
  }

  /**
   * What the slots of [from, to) are computed from, for the whole UTC days that hold the range: a
   * range usually starts "now", and keyed to the millisecond no two requests would share an entry.
   */
  async slotInputs(professionalId: string, from: Date, to: Date): Promise<SlotInputs> {
    const dayFrom = new Date(Math.floor(from.getTime() / DAY_MS) * DAY_MS);
    const dayTo = new Date(Math.ceil(to.getTime() / DAY_MS) * DAY_MS);
    // A day either side: a booking just outside the range still blocks its buffer inside it.
    const load = () => this.slotInputsRead(professionalId, new Date(dayFrom.getTime() - DAY_MS), new Date(dayTo.getTime() + DAY_MS));
    return this.slotsCache ? this.slotsCache.inputs(professionalId, dayFrom, dayTo, load) : load();
  }

  /**
   * What a booking starting at `startAt` is judged on, read now (never from the slots cache: a
   * stale copy could refuse a slot freed a moment ago): the schedule, time off, and the active
   * bookings from a day before to two days after, wider than any slot and its buffer. The window is
   * kept within the booking horizon: only a start inside it can be a slot (judged afterwards), and an
   * absurd instant (year 275760) must not reach the database, where it is out of range.
   */
  bookingInputs(professionalId: string, startAt: Date, now: Date): Promise<SlotInputs> {
    const earliest = now.getTime() - DAY_MS;
    const latest = now.getTime() + (LIMITS.horizonDays.max + 2) * DAY_MS;
    const within = (ms: number) => new Date(Math.min(Math.max(ms, earliest), latest));
    return this.slotInputsRead(professionalId, within(startAt.getTime() - DAY_MS), within(startAt.getTime() + 2 * DAY_MS));
  }

  /**
   * The schedule (with its date overrides), time off and busy times of [busyFrom, busyTo) in one
   * statement: what `schedule`, `timeOff` and `busy` read, the same rows. Why one: a slot listing that
   * misses the cache is the hottest read of a directory at scale, and four Prisma queries (three
   * round trips, each compiled by Prisma's query compiler) were most of its cost (bench/results/load-*).
   * Instants come as epoch milliseconds (exact, whatever the session's time zone).
   */
  private async slotInputsRead(professionalId: string, busyFrom: Date, busyTo: Date, tx?: SqlTx): Promise<SlotInputs> {
    const t = (name: string) => table(this.schema, name);
    const text = `SELECT s.professional_id::text AS professional_id, s.time_zone, s.rules, s.slot_minutes, s.buffer_minutes, s.minimum_notice_minutes, s.horizon_days,
              COALESCE((SELECT json_agg(json_build_object('date', to_char(o.date, 'YYYY-MM-DD'), 'ranges', o.ranges) ORDER BY o.date)
                          FROM ${t('date_overrides')} o WHERE o.professional_id = s.professional_id AND o.date >= $2::date), '[]'::json) AS overrides,
              COALESCE((SELECT json_agg(json_build_array(extract(epoch FROM x.start_at) * 1000, extract(epoch FROM x.end_at) * 1000) ORDER BY x.start_at)
                          FROM ${t('time_off')} x WHERE x.professional_id = s.professional_id AND x.end_at > $3::timestamptz), '[]'::json) AS time_off,
              COALESCE((SELECT json_agg(json_build_array(extract(epoch FROM a.start_at) * 1000, extract(epoch FROM a.end_at) * 1000))
                          FROM ${t('appointments')} a
                         WHERE a.professional_id = s.professional_id AND a.status IN (${ACTIVE.map((status) => `'${status}'`).join(', ')})
                           AND a.start_at < $5::timestamptz AND a.end_at > $4::timestamptz), '[]'::json) AS busy
         FROM ${t('schedules')} s WHERE s.professional_id = $1::uuid`;
    const params = [professionalId, isoDateOf(new Date(Date.now() - DAY_MS)), new Date(Date.now() - DAY_MS).toISOString(), busyFrom.toISOString(), busyTo.toISOString()];
    // Inside a transaction its own writes must show (the booking it is holding); else the pool.
    const rows = tx ? await tx.$queryRawUnsafe<SlotInputsRow[]>(text, ...params) : (await this.pool.query<SlotInputsRow>(text, params)).rows;
    const row = rows[0];
    if (!row) return { schedule: undefined, timeOff: [], busy: [] };
    // json columns come parsed; the guard keeps a driver that hands over text working too.
    const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
    const intervals = (pairs: Array<[number, number]>) => pairs.map(([start, end]) => ({ startAt: new Date(Number(start)), endAt: new Date(Number(end)) }));
    return {
      schedule: {
        dateOverrides: json(row.overrides).map((o) => ({ date: o.date, ranges: o.ranges as DateOverride['ranges'] })),
        professionalId: row.professional_id,
        timeZone: row.time_zone,
        rules: json(row.rules) as Schedule['rules'],
        slotMinutes: Number(row.slot_minutes),
        bufferMinutes: Number(row.buffer_minutes),
        minimumNoticeMinutes: Number(row.minimum_notice_minutes),
        horizonDays: Number(row.horizon_days),
      },
      timeOff: intervals(json(row.time_off)),
      busy: intervals(json(row.busy)),
    };
  }

  /** The schedule with its date overrides from yesterday (UTC) on: whatever the zone, that covers its today. */
  async schedule(professionalId: string): Promise<Schedule | undefined> {
    const [row, overrides] = await Promise.all([
      this.db.schedule.findUnique({ where: { professionalId } }),
      this.db.dateOverride.findMany({ where: { professionalId, date: { gte: dateColumn(isoDateOf(new Date(Date.now() - DAY_MS))) } }, orderBy: { date: 'asc' } }),
    ]);
    if (!row) return undefined;
    return {
      dateOverrides: overrides.map(overrideOf),
      professionalId: row.professionalId,
      timeZone: row.timeZone,
      rules: row.rules as unknown as Schedule['rules'],
      slotMinutes: row.slotMinutes,
      bufferMinutes: row.bufferMinutes,
      minimumNoticeMinutes: row.minimumNoticeMinutes,
      horizonDays: row.horizonDays,
    };
  }

  async timeOff(professionalId: string): Promise<Array<TimeOff & { reason: string }>> {
    const rows = await this.db.timeOff.findMany({ where: { professionalId, endAt: { gt: new Date(Date.now() - 86_400_000) } }, orderBy: { startAt: 'asc' } });
    return rows.map((r) => ({ id: r.id, startAt: r.startAt, endAt: r.endAt, reason: r.reason }));
  }

  /** The active bookings' times of [from, to), but `exceptId`'s (a booking being moved). */
  async busy(professionalId: string, from: Date, to: Date, tx: Tx | PrismaClient = this.db, exceptId?: string): Promise<Interval[]> {
    const rows = await tx.appointment.findMany({
      where: { professionalId, status: { in: ACTIVE }, startAt: { lt: to }, endAt: { gt: from }, ...(exceptId ? { id: { not: exceptId } } : {}) },
      select: { startAt: true, endAt: true },
    });
    return rows;
  }

  async saveSchedule(schedule: Schedule): Promise<void> {
    await this.write(async (tx) => {
      const data = {
        timeZone: schedule.timeZone,
        rules: schedule.rules as unknown as Prisma.InputJsonValue,
        slotMinutes: schedule.slotMinutes,
        bufferMinutes: schedule.bufferMinutes,
        minimumNoticeMinutes: schedule.minimumNoticeMinutes,
        horizonDays: schedule.horizonDays,
      };
      await tx.schedule.upsert({ where: { professionalId: schedule.professionalId }, create: { professionalId: schedule.professionalId, ...data }, update: data });
      await this.publishAvailability(tx, schedule.professionalId);
    });
  }

  async addTimeOff(professionalId: string, startAt: Date, endAt: Date, reason: string) {
    return this.write(async (tx) => {
      const row = await tx.timeOff.create({ data: { id: uuidv7(), professionalId, startAt, endAt, reason } });
      await this.publishAvailability(tx, professionalId);
      return row;
    });
  }

  async removeTimeOff(professionalId: string, id: string): Promise<boolean> {
    return this.write(async (tx) => {
      const { count } = await tx.timeOff.deleteMany({ where: { id, professionalId } });
      if (count > 0) await this.publishAvailability(tx, professionalId);
      return count > 0;
    });
  }

  /** The professional's date overrides from today on (in their zone), by date; undefined without a schedule. */
  async dateOverrides(professionalId: string): Promise<{ timeZone: string; items: DateOverride[] } | undefined> {
    const schedule = await this.schedule(professionalId);
    if (!schedule) return undefined;
    const today = DateTime.fromJSDate(new Date(), { zone: schedule.timeZone }).toISODate()!;
    return { timeZone: schedule.timeZone, items: (schedule.dateOverrides ?? []).filter((o) => o.date >= today) };
  }

  /**
   * Sets (replaces) the override of one date, checked against the schedule it belongs to (its zone
   * and horizon). Under the schedule row's lock: an erasure cannot leave one behind. Not FOR SHARE:
   * publishAvailability updates that row, and two writers each holding a share lock would deadlock.
   */
  async setDateOverride(professionalId: string, input: { date: unknown; ranges: unknown }, now = new Date()): Promise<DateOverride> {
    return this.write(async (tx) => {
      const rows = await tx.$queryRawUnsafe<Array<{ time_zone: string; horizon_days: number }>>(
        `SELECT time_zone, horizon_days FROM ${table(this.schema, 'schedules')} WHERE professional_id = $1::uuid FOR NO KEY UPDATE`,
        professionalId,
      );
      const schedule = rows[0];
      if (!schedule) throw new DomainError('SCHEDULE_REQUIRED', 'set the weekly schedule before overriding dates');
      const result = validateDateOverride(input, { timeZone: schedule.time_zone, horizonDays: schedule.horizon_days }, now);
      if (!result.ok) {
        const first = result.problems[0]!;
        throw new DomainError(first.code, `${first.field}: ${first.message}`, result.problems);
      }
      const { date, ranges } = result.override;
      const data = { ranges: ranges as unknown as Prisma.InputJsonValue };
      await tx.dateOverride.upsert({ where: { professionalId_date: { professionalId, date: dateColumn(date) } }, create: { professionalId, date: dateColumn(date), ...data }, update: data });
      await this.publishAvailability(tx, professionalId, now);
      return result.override;
    });
  }

  /** Back to the weekly rules on that date; false if it had no override. */
  async removeDateOverride(professionalId: string, date: string): Promise<boolean> {
    return this.write(async (tx) => {
      const { count } = await tx.dateOverride.deleteMany({ where: { professionalId, date: dateColumn(date) } });
      if (count > 0) await this.publishAvailability(tx, professionalId);
      return count > 0;
    });
  }

  /** A patient's booking made with this Idempotency-Key (through the pool: every booking asks it first). */
  async findByIdempotencyKey(patientId: string, idempotencyKey: string): Promise<Appointment | null> {
    return (await this.appointmentsRead('patient_id = $1::uuid AND idempotency_key = $2', [patientId, idempotencyKey], 1))[0] ?? null;
  }

  /** Holds a slot: the exclusion constraint refuses it if another active booking is closer than the buffer. */
  async hold(input: {
    patientId: string;
    professionalId: string;
    startAt: Date;
    endAt: Date;
    holdExpiresAt: Date;
    price: { amount: string; currency: string };
    idempotencyKey?: string;
  }): Promise<Appointment> {
    try {
      return await this.writeOnPool(async (tx) => {
        // Locks the schedule's row: an erasure deleting the schedule waits for this hold to commit
        // (and then cancels it), or this hold waits for the erasure and finds no schedule. So no
        // booking of an erased professional is created after the erasure. Not FOR SHARE: the
        // hold's publishAvailability updates that row (availability_stale_at), and two holds each
        // holding a share lock deadlock there (two patients racing for a slot got 500/504).
        const schedule = await tx.$queryRawUnsafe<Array<{ buffer_minutes: number }>>(
          `SELECT buffer_minutes FROM ${table(this.schema, 'schedules')} WHERE professional_id = $1::uuid FOR NO KEY UPDATE`,
          input.professionalId,
        );
        if (schedule.length === 0) throw new NoScheduleError();
        // The buffer after the booking is part of what it blocks: the exclusion constraint then
        // refuses a booking closer than the buffer on either side, as domain/slots.ts computes.
        const blockedUntil = new Date(input.endAt.getTime() + schedule[0]!.buffer_minutes * 60_000);
        const [inserted] = await tx.$queryRawUnsafe<AppointmentRow[]>(
          `INSERT INTO ${table(this.schema, 'appointments')} (id, patient_id, professional_id, start_at, end_at, blocked_until, status, hold_expires_at, price_amount, price_currency, idempotency_key, created_at, updated_at)
           VALUES ($1::uuid, $2::uuid, $3::uuid, $4::timestamptz, $5::timestamptz, $6::timestamptz, 'held', $7::timestamptz, $8::numeric, $9, $10, now(), now())
           RETURNING ${APPOINTMENT_COLUMNS}`,
          uuidv7(),
          input.patientId,
          input.professionalId,
          input.startAt.toISOString(),
          input.endAt.toISOString(),
          blockedUntil.toISOString(),
          input.holdExpiresAt.toISOString(),
          input.price.amount,
          input.price.currency,
          input.idempotencyKey ?? null,
        );
        const row = appointmentOf(inserted!);
        await this.outbox.add(tx, 'appointment.held', row.id, {
          appointmentId: row.id,
          patientId: row.patientId,
          professionalId: row.professionalId,
          startAt: row.startAt.toISOString(),
          endAt: row.endAt.toISOString(),
          price: input.price,
          holdExpiresAt: row.holdExpiresAt.toISOString(),
        });
        await this.publishAvailability(tx, row.professionalId);
        return row;
      });
    } catch (err) {
      if (isOverlapViolation(err)) throw new SlotTakenError();
      if (input.idempotencyKey && isIdempotencyKeyViolation(err)) throw new IdempotencyKeyTakenError();
      throw err;
    }
  }

  /**
   * Moves a booking to new times inside `tx` (its buffer after it, as `hold` computes it). The
   * exclusion constraint refuses a time another active booking blocks: SlotTakenError.
   */
  async move(tx: Tx, id: string, professionalId: string, startAt: Date, endAt: Date): Promise<Appointment> {
    const schedule = await tx.$queryRawUnsafe<Array<{ buffer_minutes: number }>>(
      `SELECT buffer_minutes FROM ${table(this.schema, 'schedules')} WHERE professional_id = $1::uuid FOR NO KEY UPDATE`,
      professionalId,
    );
    if (schedule.length === 0) throw new NoScheduleError();
    const blockedUntil = new Date(endAt.getTime() + schedule[0]!.buffer_minutes * 60_000);
    try {
      return await tx.appointment.update({ where: { id }, data: { startAt, endAt, blockedUntil } });
    } catch (err) {
      // The transaction is lost with it: the caller's answer is SLOT_TAKEN.
      if (isOverlapViolation(err)) throw new SlotTakenError();
      throw err;
    }
  }

  /** A booking by id: in `tx` through Prisma, or else a plain read through the pool (the RPC's GetAppointment). */
  async find(id: string, tx?: Tx): Promise<Appointment | null> {
    if (tx) return tx.appointment.findUnique({ where: { id } });
    return (await this.appointmentsRead('id = $1::uuid', [id], 1))[0] ?? null;
  }

  /** Locks the booking for a state change inside `tx`. */
  async lock(tx: SqlTx, id: string): Promise<void> {
    await tx.$queryRawUnsafe(`SELECT id FROM ${table(this.schema, 'appointments')} WHERE id = $1::uuid FOR UPDATE`, id);
  }

  /**
   * A page of bookings in (start, id) order: a patient's ("my bookings", one of the hottest reads),
   * a professional's calendar, or every booking for an admin. Through the pool, not Prisma
   * (databasePool says why).
   */
  list(filter: { patientId?: string; professionalId?: string }, limit: number, cursor?: { startAt: Date; id: string }): Promise<Appointment[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (filter.patientId) conditions.push(`patient_id = ${param(filter.patientId)}::uuid`);
    if (filter.professionalId) conditions.push(`professional_id = ${param(filter.professionalId)}::uuid`);
    if (cursor) conditions.push(`(start_at, id) > (${param(cursor.startAt.toISOString())}::timestamptz, ${param(cursor.id)}::uuid)`);
    return this.appointmentsRead(conditions.join(' AND ') || 'true', params, limit);
  }

  /** Bookings matching `where` (SQL over this table's columns, its values in `params`), as Prisma's rows. */
  private async appointmentsRead(where: string, params: unknown[], limit: number): Promise<Appointment[]> {
    const { rows } = await this.pool.query<AppointmentRow>(
      `SELECT ${APPOINTMENT_COLUMNS} FROM ${table(this.schema, 'appointments')} WHERE ${where} ORDER BY start_at, id LIMIT ${Number(limit)}`,
      params,
    );
    return rows.map(appointmentOf);
  }

  /** Applies a status change computed by the domain; a confirmation may hit the overlap constraint. */
  async update(tx: Tx, id: string, data: Prisma.AppointmentUpdateInput): Promise<Appointment> {
    return tx.appointment.update({ where: { id }, data });
  }

  isOverlap = isOverlapViolation;

  /** Held bookings whose hold ended, locked so replicas do not expire the same ones. */
  async dueHolds(tx: SqlTx, now: Date, limit = 100): Promise<string[]> {
    const rows = await tx.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT id::text AS id FROM ${table(this.schema, 'appointments')}
       WHERE status = 'held' AND hold_expires_at <= $1 ORDER BY hold_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      now,
      limit,
    );
    return rows.map((r) => r.id);
  }

  /** Confirmed bookings whose consultation has ended, locked like `dueHolds`. */
  async finishedConsultations(tx: SqlTx, now: Date, limit = 100): Promise<string[]> {
    const rows = await tx.$queryRawUnsafe<Array<{ id: string }>>(finishedConsultationsStatement(this.schema), now, limit);
    return rows.map((r) => r.id);
  }

  /**
   * Erasure of a patient: their bookings stay in the professionals' calendars (the slot stays
   * booked) without them: the patient becomes ERASED_USER, and what a person wrote on them goes
   * (the Idempotency-Key, the cancel reason). Nulling the key also keeps the unique
   * (patient_id, idempotency_key) index satisfied when two erased patients had used one key.
   */
  async anonymisePatient(tx: Tx, patientId: string): Promise<void> {
    await tx.appointment.updateMany({ where: { patientId, cancelledBy: { in: PERSON_WRITTEN_REASON } }, data: { cancelReason: null } });
    await tx.appointment.updateMany({ where: { patientId }, data: { patientId: ERASED_USER, idempotencyKey: null } });
  }

  /** Erasure of a professional, first step: the schedule, time off and date overrides go (waits for holds in flight). */
  async removeSchedule(tx: Tx, professionalId: string): Promise<void> {
    await tx.schedule.deleteMany({ where: { professionalId } });
    await tx.timeOff.deleteMany({ where: { professionalId } });
    await tx.dateOverride.deleteMany({ where: { professionalId } });
  }

  /**
   * Locks every booking of the professional for the erasure and returns the open ones (held,
   * confirmed). All of them: a late payment must not confirm an expired one meanwhile.
   */
  async lockBookingsOf(tx: SqlTx, professionalId: string): Promise<string[]> {
    const rows = await tx.$queryRawUnsafe<Array<{ id: string; status: string }>>(
      `SELECT id::text AS id, status FROM ${table(this.schema, 'appointments')} WHERE professional_id = $1::uuid ORDER BY id FOR UPDATE`,
      professionalId,
    );
    return rows.filter((r) => ACTIVE.includes(r.status as BookingStatus)).map((r) => r.id);
  }

  /**
   * Erasure of a professional, last step (none of their bookings is open any more): the bookings
   * stay for their patients without the professional, and the reasons the professional wrote go.
   */
  async anonymiseProfessional(tx: Tx, professionalId: string): Promise<void> {
    await tx.appointment.updateMany({ where: { professionalId, cancelledBy: 'professional' }, data: { cancelReason: null } });
    await tx.appointment.updateMany({ where: { professionalId }, data: { professionalId: ERASED_USER } });
  }

  /** Recomputes the professional's earliest free slot and publishes it for the search read model. */
  async publishAvailability(tx: SqlTx, professionalId: string, now = new Date(), timePassed = false): Promise<void> {
    // Only time passed (the availability sweep): no slot input changed, so the slots cache stays, and
    // the inputs come in one statement through the pool (three Prisma queries cost ~3 ms of CPU, and
    // at 50 000 professionals the sweep republishes up to 20 a second). Otherwise `tx` changed
    // them: they are read inside it, where its own writes show.
    if (!timePassed) this.availabilityChanged(tx, professionalId);
    const { schedule, timeOff, busy } = timePassed
      ? await this.slotInputsRead(professionalId, now, new Date(now.getTime() + LIMITS.horizonDays.max * DAY_MS))
      : await this.slotInputsIn(tx, professionalId, now);
    const free = schedule ? upcomingAvailable({ schedule, timeOff, busy, now }, PUBLISHED_FREE_SLOTS) : [];
    if (schedule) {
      // Time passing makes this answer run out (search moves along the slots itself; new ones only
      // appear at the horizon, after them): republish before it does (republishAt).
      const staleAt = republishAt(free, schedule.minimumNoticeMinutes) ?? new Date(now.getTime() + NO_SLOT_RECHECK_MS);
      await tx.$executeRawUnsafe(
        `UPDATE ${table(this.schema, 'schedules')} SET availability_stale_at = $2::timestamptz WHERE professional_id = $1::uuid`,
        professionalId,
        staleAt.toISOString(),
      );
    }
    const [next, ...later] = free.map((slot) => slot.startAt.toISOString());
    await this.outbox.add(tx, 'appointment.availability_changed', professionalId, {
      professionalId,
      nextAvailableAt: next ?? '',
      laterAvailableAt: later,
      minimumNoticeMinutes: schedule?.minimumNoticeMinutes ?? 0,
    });
  }

  /** What the earliest free slot is computed from (up to the schedule's horizon), read in `tx`. */
  private slotInputsIn(tx: SqlTx, professionalId: string, now: Date): Promise<SlotInputs> {
    // One statement, as slotInputsRead: four Prisma queries here held every booking's transaction ~8 ms longer.
    return this.slotInputsRead(professionalId, now, new Date(now.getTime() + LIMITS.horizonDays.max * DAY_MS), tx);
  }

  /**
   * Professionals whose published earliest free slot has passed, locked (SKIP LOCKED: one replica
   * each). Strictly after: at start minus notice exactly, the slot can still be booked.
   */
  async staleAvailability(tx: SqlTx, now: Date, limit: number): Promise<string[]> {
    const rows = await tx.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT professional_id::text AS id FROM ${table(this.schema, 'schedules')}
        WHERE availability_stale_at < $1::timestamptz
        ORDER BY availability_stale_at LIMIT $2::int FOR UPDATE SKIP LOCKED`,
      now.toISOString(),
      String(limit),
    );
    return rows.map((r) => r.id);
  }
}

/** Confirmed bookings whose consultation ended ($1 now, $2 how many), locked; index appointments_confirmed_by_end. */
export function finishedConsultationsStatement(schema: string): string {
  return `SELECT id::text AS id FROM ${table(schema, 'appointments')}
           WHERE status = 'confirmed' AND end_at <= $1 ORDER BY end_at LIMIT $2 FOR UPDATE SKIP LOCKED`;
}

/** When no slot is free within the horizon, how soon to look again (the horizon moves on). */
export const NO_SLOT_RECHECK_MS = 60 * 60_000;

/** Stands in for an erased patient on the bookings kept for the professional's records. */
export const ERASED_USER = '00000000-0000-0000-0000-000000000000';
