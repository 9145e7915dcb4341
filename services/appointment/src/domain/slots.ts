// Free slots of a schedule, as UTC instants, correct across daylight-saving changes.
//
// How a weekly rule becomes slots, for each local calendar date in the schedule's zone:
//  - The rule is open from the first instant the local clock reads its start to the first instant it
//    reads its end. Slots of slotMinutes start at the opening and step by slotMinutes + bufferMinutes
//    of real time; a slot must end by the closing. So 09:00 Zurich is 08:00Z in winter, 07:00Z in summer.
//  - Spring forward (Zurich 2026-03-29, 02:00 → 03:00): clock times in the gap never happen, so no slot
//    starts at 02:xx; a rule boundary inside the gap is read when the clock jumps (03:00). A rule
//    01:30–03:30 is open one real hour that day: slots at 01:30 and 03:00 local.
//  - Fall back (Zurich 2026-10-25, 03:00 → 02:00): the rule is open for the real time that passes, so
//    a rule 01:30–03:30 is open three real hours and each real instant of the repeated hour is offered
//    once (02:00 and 02:30 appear twice on the clock, as different instants). A boundary the clock
//    reads twice is its first reading.
// A date override (date-overrides.ts) replaces the weekly rules of its local date with its own
// ranges, read the same way (so DST days behave as above); an override without ranges closes the day.
// Then a slot is dropped if it overlaps time off, comes within bufferMinutes of a busy (held or
// confirmed) booking on either side, starts before now + minimumNotice or at/after now + horizonDays,
// or starts outside [from, to). The database enforces the same buffer rule: each booking blocks
// [start, end + buffer) in the exclusion constraint `bookings_no_overlap`, so two bookings conflict
// exactly when one starts less than the buffer after the other ends (whichever came first).

import { DateTime, IANAZone } from 'luxon';
import { LRUCache } from 'lru-cache';
import { DomainError } from './errors';
import { clockToMinutes, type Schedule } from './schedule';

/** A half-open stretch of time [startAt, endAt). */
export interface Interval {
  startAt: Date;
  endAt: Date;
}

export type Slot = Interval;

export interface SlotQuery {
  /** A schedule that passed validateSchedule. */
  schedule: Schedule;
  timeOff: readonly Interval[];
  /** Held and confirmed bookings of the professional. */
  busy: readonly Interval[];
  from: Date;
  to: Date;
  now: Date;
}

/** The longest [from, to) one call may ask for. */
export const MAX_SLOT_RANGE_DAYS = 62;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function computeSlots(query: SlotQuery): Slot[] {
  const { schedule, from, to, now } = query;
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to < from) {
    throw new DomainError('INVALID_RANGE', '"from" and "to" must be instants with from <= to');
  }
  if (to.getTime() - from.getTime() > MAX_SLOT_RANGE_DAYS * DAY) {
    throw new DomainError('RANGE_TOO_LARGE', `at most ${MAX_SLOT_RANGE_DAYS} days of slots per request`);
  }
  const zone = IANAZone.create(schedule.timeZone);
  if (!zone.isValid) throw new DomainError('INVALID_TIME_ZONE', `unknown time zone ${schedule.timeZone}`);

  const earliestStart = Math.max(from.getTime(), now.getTime() + schedule.minimumNoticeMinutes * MINUTE);
  const endOfStarts = Math.min(to.getTime(), now.getTime() + schedule.horizonDays * DAY); // exclusive
  if (earliestStart >= endOfStarts) return [];

  const buffer = schedule.bufferMinutes * MINUTE;
  const blocked = [
    ...query.timeOff.map((t) => ({ start: t.startAt.getTime(), end: t.endAt.getTime() })),
    ...query.busy.map((b) => ({ start: b.startAt.getTime() - buffer, end: b.endAt.getTime() + buffer })),
  ];
  const length = schedule.slotMinutes * MINUTE;
  const step = length + buffer;

  const overrides = new Map((schedule.dateOverrides ?? []).map((o) => [o.date, o.ranges]));
  const slots: Slot[] = [];
  for (const date of localDates(zone, earliestStart, endOfStarts)) {
    // A date override replaces the weekday's rules (no range: closed that day).
    const openings = overrides.get(isoDate(date)) ?? schedule.rules.filter((rule) => rule.weekday === date.weekday);
    for (const rule of openings) {
      const opens = firstInstantReading(zone, date, clockToMinutes(rule.start)!);
      const closes = firstInstantReading(zone, date, clockToMinutes(rule.end, true)!);
      for (let start = opens; start + length <= closes; start += step) {
        const end = start + length;
        if (start < earliestStart || start >= endOfStarts) continue;
        if (blocked.some((b) => start < b.end && b.start < end)) continue;
        slots.push({ startAt: new Date(start), endAt: new Date(end) });
      }
    }
  }
  return slots.sort((a, b) => a.startAt.getTime() - b.startAt.getTime());
}

/**
 * How many free slots appointment.availability_changed carries: the earliest and those after it.
 * Search moves its nextAvailableAt along them as each stops being bookable, so appointment
 * republishes a professional only when they have all passed (or a booking, the schedule or time off
 * changed them). With one, every slot boundary of a working day republished most of a 50 000
 * directory: thousands of events within a minute, each a transaction in appointment and in search.
 */
export const PUBLISHED_FREE_SLOTS = 8;

/** The first `count` free slots within the schedule's horizon, soonest first (fewer if the horizon holds fewer). */
export function upcomingAvailable(query: Omit<SlotQuery, 'from' | 'to'>, count: number): Slot[] {
  const now = query.now.getTime();
  const horizonEnd = now + query.schedule.horizonDays * DAY;
  const found: Slot[] = [];
  for (let from = now; from < horizonEnd && found.length < count; from += MAX_SLOT_RANGE_DAYS * DAY) {
    const to = Math.min(from + MAX_SLOT_RANGE_DAYS * DAY, horizonEnd);
    found.push(...computeSlots({ ...query, from: new Date(from), to: new Date(to) }).slice(0, count - found.length));
  }
  return found;
}

/**
 * When published free slots (`upcomingAvailable`) need republishing as time passes: once the one
 * before the last can no longer be booked, so search always has a bookable slot to move on to while
 * the new event travels; the only one's own time when there is one. Null when none was published.
 */
export function republishAt(published: readonly Slot[], minimumNoticeMinutes: number): Date | null {
  const due = published.length >= 2 ? published[published.length - 2] : published[0];
  return due ? new Date(due.startAt.getTime() - minimumNoticeMinutes * MINUTE) : null;
}

/** The earliest free slot within the schedule's horizon, or null. */
export function nextAvailable(query: Omit<SlotQuery, 'from' | 'to'>): Slot | null {
  return upcomingAvailable(query, 1)[0] ?? null;
}

/** Whether `startAt` is exactly the start of one of the free slots (Book accepts nothing else).
 *  The slot then ends at startAt + schedule.slotMinutes. */
export function isBookableSlot(query: Omit<SlotQuery, 'from' | 'to'> & { startAt: Date }): boolean {
  const start = query.startAt.getTime();
  if (Number.isNaN(start)) return false;
  const slots = computeSlots({ ...query, from: query.startAt, to: new Date(start + 1) });
  return slots.some((slot) => slot.startAt.getTime() === start);
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
  /** ISO: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const isoDate = (d: Omit<LocalDate, 'weekday'>) => `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

/** Every calendar date, in `zone`, on which an instant of [fromMs, toMs] falls. */
function localDates(zone: IANAZone, fromMs: number, toMs: number): LocalDate[] {
  const first = DateTime.fromMillis(fromMs, { zone });
  const last = DateTime.fromMillis(toMs, { zone });
  const dates: LocalDate[] = [];
  // Plain calendar arithmetic: a UTC date serves as a counter of days, free of any DST.
  for (let d = Date.UTC(first.year, first.month - 1, first.day); d <= Date.UTC(last.year, last.month - 1, last.day); d += DAY) {
    const date = new Date(d);
    dates.push({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), weekday: date.getUTCDay() || 7 });
  }
  return dates;
}

/**
 * The zone's offset (minutes) at an instant, remembered. luxon asks Intl for every instant
 * (formatToParts: the heaviest function of a slot listing under load, bench/results/profile-*), and a
 * directory's schedules ask for the same few instants again and again: the same rule times on the
 * same dates in the same zones, for every professional. An offset is a pure function of zone and
 * instant, so remembering it changes nothing but the cost; the bound keeps the memory small.
 */
const knownOffsets = new LRUCache<string, number>({ max: 100_000 });
function offsetAt(zone: IANAZone, instant: number): number {
  const key = `${zone.name} ${instant}`;
  let offset = knownOffsets.get(key);
  if (offset === undefined) {
    offset = zone.offset(instant);
    knownOffsets.set(key, offset);
  }
  return offset;
}

/**
 * The first instant (epoch ms) at which the clock in `zone` reads `minutes` after midnight of `date`
 * (1440 = the next midnight). A reading the clock skips (spring forward) resolves to the instant of
 * the jump; a reading the clock shows twice (fall back) resolves to its first occurrence.
 */
export function firstInstantReading(zone: IANAZone, date: Omit<LocalDate, 'weekday'>, minutes: number): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minutes); // the reading as if the zone were UTC
  // The zone's offsets (minutes) on either side of any change that day; equal on ordinary days.
  const offsets = [offsetAt(zone, wall - DAY), offsetAt(zone, wall + DAY)];
  const readings = offsets
    .map((offset) => wall - offset * MINUTE)
    .filter((instant) => offsetAt(zone, instant) * MINUTE === wall - instant);
  if (readings.length > 0) return Math.min(...readings);

  // Skipped by spring forward: the jump lies between the two candidates; find it to the minute.
  let before = wall - Math.max(...offsets) * MINUTE; // still on the old offset
  let after = wall - Math.min(...offsets) * MINUTE; // already on the new offset
  const oldOffset = offsetAt(zone, before);
  while (after - before > MINUTE) {
    const middle = before + Math.floor((after - before) / 2 / MINUTE) * MINUTE;
    if (offsetAt(zone, middle) === oldOffset) before = middle;
    else after = middle;
  }
  return after;
}
