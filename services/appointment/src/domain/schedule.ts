// A professional's schedule: weekly opening rules in their own IANA time zone, plus time off.

import { IANAZone } from 'luxon';
import type { DateOverride } from './date-overrides';

/** One weekly opening, in the schedule's time zone. */
export interface WeeklyRule {
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Local clock time "HH:MM", 00:00–23:59. */
  start: string;
  /** Local clock time "HH:MM", after start; "24:00" means until midnight. */
  end: string;
}

export interface Schedule {
  professionalId: string;
  /** IANA zone name, e.g. "Europe/Zurich" (stored in its canonical spelling). */
  timeZone: string;
  /** Sorted by weekday then start; never overlapping on a weekday. */
  rules: WeeklyRule[];
  slotMinutes: number;
  /** Free time kept after every booking. */
  bufferMinutes: number;
  /** How long before its start a slot can still be booked. */
  minimumNoticeMinutes: number;
  /** How many days ahead slots are offered. */
  horizonDays: number;
  /** Dates whose openings replace the weekly rules of their weekday (date-overrides.ts); loaded by the store, never by validateSchedule. */
  dateOverrides?: DateOverride[];
}

/** An absence: no slot may overlap [startAt, endAt). */
export interface TimeOff {
  id: string;
  startAt: Date;
  endAt: Date;
}

export type ScheduleProblemCode =
  | 'INVALID_PROFESSIONAL_ID'
  | 'INVALID_TIME_ZONE'
  | 'INVALID_RULES'
  | 'INVALID_WEEKDAY'
  | 'INVALID_TIME'
  | 'RULE_END_BEFORE_START'
  | 'RULES_OVERLAP'
  | 'INVALID_SLOT_LENGTH'
  | 'INVALID_BUFFER'
  | 'INVALID_NOTICE'
  | 'INVALID_HORIZON';

export interface ScheduleProblem {
  /** Path of the offending input, e.g. "rules[2].end". */
  field: string;
  code: ScheduleProblemCode;
  message: string;
}

export type ScheduleValidation =
  | { ok: true; schedule: Schedule }
  | { ok: false; problems: ScheduleProblem[] };

export const LIMITS = {
  slotMinutes: { min: 5, max: 240 },
  bufferMinutes: { min: 0, max: 120 },
  minimumNoticeMinutes: { min: 0, max: 7 * 24 * 60 },
  horizonDays: { min: 1, max: 365 },
  maxRules: 70,
} as const;

/** "HH:MM" → minutes after local midnight; "24:00" (1440) only when `allowMidnightEnd`. null if malformed. */
export function clockToMinutes(clock: string, allowMidnightEnd = false): number | null {
  const match = /^(\d\d):([0-5]\d)$/.exec(clock);
  if (!match) return null;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes < 24 * 60 || (allowMidnightEnd && minutes === 24 * 60) ? minutes : null;
}

/** Checks untrusted input (an HTTP body or a gRPC message) and returns a normalised Schedule or every problem found. */
export function validateSchedule(input: unknown): ScheduleValidation {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const problems: ScheduleProblem[] = [];
  const problem = (field: string, code: ScheduleProblemCode, message: string) => problems.push({ field, code, message });

  const professionalId = raw.professionalId;
  if (typeof professionalId !== 'string' || professionalId.trim() === '') {
    problem('professionalId', 'INVALID_PROFESSIONAL_ID', 'professionalId must be a non-empty string');
  }

  const timeZone = raw.timeZone;
  // Newer ICU (Node 24) also accepts UTC offsets such as "+01:00": an offset is no IANA zone (no DST).
  if (typeof timeZone !== 'string' || !/^[A-Za-z]/.test(timeZone) || !IANAZone.isValidZone(timeZone)) {
    problem('timeZone', 'INVALID_TIME_ZONE', 'timeZone must be an IANA time zone such as "Europe/Zurich"');
  }

  const integerIn = (field: keyof typeof LIMITS, code: ScheduleProblemCode) => {
    const value = raw[field];
    const { min, max } = LIMITS[field] as { min: number; max: number };
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problem(field, code, `${field} must be a whole number from ${min} to ${max}`);
    }
  };
  integerIn('slotMinutes', 'INVALID_SLOT_LENGTH');
  integerIn('bufferMinutes', 'INVALID_BUFFER');
  integerIn('minimumNoticeMinutes', 'INVALID_NOTICE');
  integerIn('horizonDays', 'INVALID_HORIZON');

  const rules = validateRules(raw.rules, problem);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    schedule: {
      professionalId: professionalId as string,
      timeZone: canonicalZoneName(timeZone as string),
      rules,
      slotMinutes: raw.slotMinutes as number,
      bufferMinutes: raw.bufferMinutes as number,
      minimumNoticeMinutes: raw.minimumNoticeMinutes as number,
      horizonDays: raw.horizonDays as number,
    },
  };
}

function validateRules(
  input: unknown,
  problem: (field: string, code: ScheduleProblemCode, message: string) => void,
): WeeklyRule[] {
  if (!Array.isArray(input) || input.length > LIMITS.maxRules) {
    problem('rules', 'INVALID_RULES', `rules must be a list of at most ${LIMITS.maxRules} weekly rules`);
    return [];
  }
  const wellFormed: { index: number; rule: WeeklyRule; from: number; to: number }[] = [];
  input.forEach((item: unknown, index) => {
    const field = `rules[${index}]`;
    const rule = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const { weekday, start, end } = rule;
    let ok = true;
    if (typeof weekday !== 'number' || !Number.isInteger(weekday) || weekday < 1 || weekday > 7) {
      problem(`${field}.weekday`, 'INVALID_WEEKDAY', 'weekday must be 1 (Monday) to 7 (Sunday)');
      ok = false;
    }
    const from = typeof start === 'string' ? clockToMinutes(start) : null;
    if (from === null) {
      problem(`${field}.start`, 'INVALID_TIME', 'start must be a time "HH:MM" from 00:00 to 23:59');
      ok = false;
    }
    const to = typeof end === 'string' ? clockToMinutes(end, true) : null;
    if (to === null) {
      problem(`${field}.end`, 'INVALID_TIME', 'end must be a time "HH:MM" from 00:01 to 24:00');
      ok = false;
    }
    if (from !== null && to !== null && to <= from) {
      problem(`${field}.end`, 'RULE_END_BEFORE_START', 'end must be after start');
      ok = false;
    }
    if (ok) wellFormed.push({ index, rule: { weekday: weekday as number, start: start as string, end: end as string }, from: from!, to: to! });
  });

  // Sorted by weekday then start, a rule overlaps an earlier one iff it starts before the latest end so far that day.
  wellFormed.sort((a, b) => a.rule.weekday - b.rule.weekday || a.from - b.from);
  let latest: (typeof wellFormed)[number] | undefined;
  for (const current of wellFormed) {
    if (latest?.rule.weekday !== current.rule.weekday) latest = undefined;
    if (latest && current.from < latest.to) {
      problem(`rules[${current.index}]`, 'RULES_OVERLAP', `overlaps rules[${latest.index}] on the same weekday`);
    }
    if (!latest || current.to > latest.to) latest = current;
  }
  return wellFormed.map((w) => w.rule);
}

/** "europe/zurich" → "Europe/Zurich", so that stored schedules compare equal. */
function canonicalZoneName(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}
