// Bulk load of appointment's own tables for the seeded directory (scripts/seed.ts): each
// professional's weekly schedule and a booking load on its slots, and from them the earliest free
// slots (what appointment.availability_changed publishes), computed with the service's own rules.
import type pg from 'pg';
import { table } from '@cryptocare/events';
import { computeSlots, MAX_SLOT_RANGE_DAYS, PUBLISHED_FREE_SLOTS, republishAt, validateSchedule, type Schedule, type Slot } from '../domain';
import { NO_SLOT_RECHECK_MS } from '../store/appointment-store';

export interface SeedScheduleInput {
  rules: Array<{ weekday: number; start: string; end: string }>;
  slotMinutes: number;
  bufferMinutes: number;
  minimumNoticeMinutes: number;
  horizonDays: number;
}

export interface SeedPractice {
  professionalId: string;
  timeZone: string;
  schedule: SeedScheduleInput;
  /** Share of the free slots of the booking window that are booked, 0 to 1. */
  bookingLoad: number;
  price: { amount: string; currency: string };
}

export interface SeedBookingsOptions {
  now: Date;
  /** Days ahead that carry bookings (the rest of the horizon is free). */
  bookingDays: number;
  /** Patients to book as (ids; identity's seeded patients when it has them). */
  patients: readonly string[];
  random: () => number;
}

const DAY = 86_400_000;

/** The free slots of an empty calendar, per schedule shape and zone: computed once, shared. */
class SlotTemplates {
  private readonly cache = new Map<string, Slot[]>();
  constructor(private readonly now: Date) {}

  slots(practice: SeedPractice): { schedule: Schedule; slots: Slot[] } {
    const checked = validateSchedule({ professionalId: practice.professionalId, timeZone: practice.timeZone, ...practice.schedule });
    if (!checked.ok) throw new Error(`seed schedule of ${practice.professionalId} is invalid: ${checked.problems.map((p) => p.message).join(', ')}`);
    const key = JSON.stringify([practice.timeZone, practice.schedule]);
    let slots = this.cache.get(key);
    if (!slots) {
      slots = [];
      const end = this.now.getTime() + checked.schedule.horizonDays * DAY;
      for (let from = this.now.getTime(); from < end; from += MAX_SLOT_RANGE_DAYS * DAY) {
        const to = Math.min(from + MAX_SLOT_RANGE_DAYS * DAY, end);
        slots.push(...computeSlots({ schedule: checked.schedule, timeOff: [], busy: [], from: new Date(from), to: new Date(to), now: this.now }));
      }
      this.cache.set(key, slots);
    }
    return { schedule: checked.schedule, slots };
  }
}

export interface SeededAvailability {
  professionalId: string;
  /** ISO instant of the earliest free slot, null when none within the horizon. */
  nextAvailableAt: string | null;
  /** The free slots after it, as appointment.availability_changed carries them. */
  laterAvailableAt: string[];
  minimumNoticeMinutes: number;
}

const BATCH = 2_000;

/**
 * Writes the schedules and the bookings (confirmed, paid) and returns each professional's earliest
 * free slot. Booked slots of an empty calendar stay valid slots once others are booked as long as
 * no two booked ones are within the buffer of each other: slots are already spaced by the buffer.
 */
export async function writeSeedBookings(db: pg.Pool | pg.PoolClient, schema: string, practices: Iterable<SeedPractice>, options: SeedBookingsOptions): Promise<{ availability: SeededAvailability[]; bookings: number }> {
  const templates = new SlotTemplates(options.now);
  const bookingEnd = options.now.getTime() + options.bookingDays * DAY;
  const availability: SeededAvailability[] = [];
  let schedules: object[] = [];
  let bookings: object[] = [];
  let booked = 0;

  const flushSchedules = async () => {
    if (schedules.length === 0) return;
    await db.query(
      `INSERT INTO ${table(schema, 'schedules')} (professional_id, time_zone, rules, slot_minutes, buffer_minutes, minimum_notice_minutes, horizon_days, availability_stale_at, updated_at)
       SELECT professional_id, time_zone, rules, slot_minutes, buffer_minutes, minimum_notice_minutes, horizon_days, availability_stale_at, now()
         FROM json_to_recordset($1::json) AS r(professional_id uuid, time_zone text, rules jsonb, slot_minutes int, buffer_minutes int,
              minimum_notice_minutes int, horizon_days int, availability_stale_at timestamptz)
       ON CONFLICT (professional_id) DO NOTHING`,
      [JSON.stringify(schedules)],
    );
    schedules = [];
  };
  const flushBookings = async () => {
    if (bookings.length === 0) return;
    const result = await db.query(
      `INSERT INTO ${table(schema, 'appointments')} (id, patient_id, professional_id, start_at, end_at, blocked_until, status, hold_expires_at,
              price_amount, price_currency, confirmed_at, created_at, updated_at)
       SELECT gen_random_uuid(), patient_id, professional_id, start_at, end_at, blocked_until, 'confirmed', $2::timestamptz,
              price_amount, price_currency, $2::timestamptz, $2::timestamptz, now()
         FROM json_to_recordset($1::json) AS r(patient_id uuid, professional_id uuid, start_at timestamptz, end_at timestamptz,
              blocked_until timestamptz, price_amount numeric, price_currency text)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(bookings), options.now.toISOString()],
    );
    booked += result.rowCount ?? 0;
    bookings = [];
  };

  for (const practice of practices) {
    const { schedule, slots } = templates.slots(practice);
    const scheduleRow: Record<string, unknown> = {
      professional_id: practice.professionalId,
      time_zone: schedule.timeZone,
      rules: schedule.rules,
      slot_minutes: schedule.slotMinutes,
      buffer_minutes: schedule.bufferMinutes,
      minimum_notice_minutes: schedule.minimumNoticeMinutes,
      horizon_days: schedule.horizonDays,
    };
    const free: Slot[] = [];
    for (const slot of slots) {
      const start = slot.startAt.getTime();
      // Near slots fill first: the load falls off towards the end of the booking window.
      const load = start < bookingEnd ? practice.bookingLoad * (1 - (0.4 * (start - options.now.getTime())) / (bookingEnd - options.now.getTime())) : 0;
      if (practice.bookingLoad >= 1 && start < bookingEnd) {
        // fully booked in the window
      } else if (options.random() >= load) {
        if (free.length < PUBLISHED_FREE_SLOTS) free.push(slot);
        if (free.length === PUBLISHED_FREE_SLOTS && start >= bookingEnd) break;
        continue;
      }
      bookings.push({
        patient_id: options.patients[Math.floor(options.random() * options.patients.length)],
        professional_id: practice.professionalId,
        start_at: slot.startAt.toISOString(),
        end_at: slot.endAt.toISOString(),
        blocked_until: new Date(slot.endAt.getTime() + schedule.bufferMinutes * 60_000).toISOString(),
        price_amount: practice.price.amount,
        price_currency: practice.price.currency,
      });
    }
    const [next, ...later] = free.map((slot) => slot.startAt.toISOString());
    availability.push({ professionalId: practice.professionalId, nextAvailableAt: next ?? null, laterAvailableAt: later, minimumNoticeMinutes: schedule.minimumNoticeMinutes });
    // As publishAvailability records it: when these slots need republishing as time passes.
    scheduleRow.availability_stale_at = (republishAt(free, schedule.minimumNoticeMinutes) ?? new Date(options.now.getTime() + NO_SLOT_RECHECK_MS)).toISOString();
    schedules.push(scheduleRow);
    if (schedules.length >= BATCH) await flushSchedules();
    if (bookings.length >= BATCH * 5) await flushBookings();
  }
  await flushSchedules();
  await flushBookings();
  await db.query(`ANALYZE ${table(schema, 'schedules')}`);
  await db.query(`ANALYZE ${table(schema, 'appointments')}`);
  return { availability, bookings: booked };
}
