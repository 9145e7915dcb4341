// Date overrides: on a given local date the professional opens their own ranges instead of the
// weekly rules of that weekday (several a day), or is closed (no range). The date and the clock
// times are read in the schedule's time zone, exactly as weekly rules are (see slots.ts for DST).

import { DateTime } from 'luxon';
import { clockToMinutes, type Schedule } from './schedule';

/** An opening on one date, local clock times "HH:MM"; end "24:00" means until midnight. */
export interface ClockRange {
  start: string;
  end: string;
}

export interface DateOverride {
  /** The local calendar date "YYYY-MM-DD" in the schedule's time zone. */
  date: string;
  /** Ordered, never overlapping. Empty: closed that day. */
  ranges: ClockRange[];
}

export type DateOverrideProblemCode =
  | 'INVALID_DATE'
  | 'DATE_OUTSIDE_HORIZON'
  | 'INVALID_RANGES'
  | 'INVALID_TIME'
  | 'RANGE_END_BEFORE_START'
  | 'RANGES_NOT_ORDERED'
  | 'RANGES_OVERLAP';

export interface DateOverrideProblem {
  field: string;
  code: DateOverrideProblemCode;
  message: string;
}

export const MAX_RANGES_PER_DATE = 12;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "YYYY-MM-DD" of a real calendar date (no 2026-02-30), or null. */
export function parseLocalDate(value: unknown): { year: number; month: number; day: number } | null {
  if (typeof value !== 'string') return null;
  const match = DATE.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = new Date(Date.UTC(year, month - 1, day));
  if (year < 1970 || utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== day) return null;
  return { year, month, day };
}

/** The local date "YYYY-MM-DD" in `zone` at `now`. */
export function localDate(zone: string, now: Date): string {
  return DateTime.fromJSDate(now, { zone }).toISODate()!;
}

/** The dates an override may be set for: from today to the last date of the booking horizon, in the schedule's zone. */
export function overrideWindow(schedule: Pick<Schedule, 'timeZone' | 'horizonDays'>, now: Date): { first: string; last: string } {
  const today = DateTime.fromJSDate(now, { zone: schedule.timeZone });
  return { first: today.toISODate()!, last: DateTime.fromJSDate(new Date(now.getTime() + schedule.horizonDays * 86_400_000), { zone: schedule.timeZone }).toISODate()! };
}

export type DateOverrideValidation = { ok: true; override: DateOverride } | { ok: false; problems: DateOverrideProblem[] };

/** Checks untrusted input against the professional's schedule (its zone and horizon) at `now`. */
export function validateDateOverride(input: { date: unknown; ranges: unknown }, schedule: Pick<Schedule, 'timeZone' | 'horizonDays'>, now: Date): DateOverrideValidation {
  const problems: DateOverrideProblem[] = [];
  const problem = (field: string, code: DateOverrideProblemCode, message: string) => problems.push({ field, code, message });

  if (!parseLocalDate(input.date)) {
    problem('date', 'INVALID_DATE', 'date must be a calendar date "YYYY-MM-DD"');
  } else {
    // ISO dates compare as strings.
    const { first, last } = overrideWindow(schedule, now);
    const date = input.date as string;
    if (date < first || date > last) problem('date', 'DATE_OUTSIDE_HORIZON', `date must be from ${first} to ${last} (today to the end of the booking horizon, ${schedule.timeZone})`);
  }

  const ranges: ClockRange[] = [];
  if (!Array.isArray(input.ranges) || input.ranges.length > MAX_RANGES_PER_DATE) {
    problem('ranges', 'INVALID_RANGES', `ranges must be a list of at most ${MAX_RANGES_PER_DATE} openings (empty: closed that day)`);
  } else {
    let previous: { from: number; to: number } | undefined;
    input.ranges.forEach((item: unknown, index) => {
      const field = `ranges[${index}]`;
      const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      const from = typeof raw.start === 'string' ? clockToMinutes(raw.start) : null;
      const to = typeof raw.end === 'string' ? clockToMinutes(raw.end, true) : null;
      if (from === null) problem(`${field}.start`, 'INVALID_TIME', 'start must be a time "HH:MM" from 00:00 to 23:59');
      if (to === null) problem(`${field}.end`, 'INVALID_TIME', 'end must be a time "HH:MM" from 00:01 to 24:00');
      if (from === null || to === null) return;
      if (to <= from) return problem(`${field}.end`, 'RANGE_END_BEFORE_START', 'end must be after start');
      if (previous && from < previous.from) problem(field, 'RANGES_NOT_ORDERED', 'ranges must be in order of their start');
      else if (previous && from < previous.to) problem(field, 'RANGES_OVERLAP', `overlaps ranges[${index - 1}]`);
      previous = { from, to };
      ranges.push({ start: raw.start as string, end: raw.end as string });
    });
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, override: { date: input.date as string, ranges } };
}
