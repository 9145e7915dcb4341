import { DateTime } from 'luxon';
import type { Schedule } from './schedule';
import { computeSlots, isBookableSlot, nextAvailable, type Slot } from './slots';
import { localDate, overrideWindow, parseLocalDate, validateDateOverride, type DateOverride } from './date-overrides';

const ZURICH = 'Europe/Zurich';

/** Monday 09:00–12:00 and Tuesday 14:00–16:00, Zurich, 60-minute slots, no buffer. */
function schedule(dateOverrides: DateOverride[] = [], more: Partial<Schedule> = {}): Schedule {
  return {
    professionalId: 'pro-1',
    timeZone: ZURICH,
    rules: [
      { weekday: 1, start: '09:00', end: '12:00' },
      { weekday: 2, start: '14:00', end: '16:00' },
    ],
    slotMinutes: 60,
    bufferMinutes: 0,
    minimumNoticeMinutes: 0,
    horizonDays: 365,
    dateOverrides,
    ...more,
  };
}

const slots = (s: Schedule, from: string, to: string, now = '2026-01-01T00:00:00Z') =>
  computeSlots({ schedule: s, timeOff: [], busy: [], from: new Date(from), to: new Date(to), now: new Date(now) });
const local = (list: Slot[], zone = ZURICH) => list.map((s) => DateTime.fromJSDate(s.startAt, { zone }).toFormat('yyyy-MM-dd HH:mm'));

describe('computeSlots with date overrides', () => {
  it('a closed date offers nothing that day and leaves the other days to the weekly rules', () => {
    // Monday 2026-01-05 closed; Tuesday 2026-01-06 and Monday 2026-01-12 as every week.
    const result = slots(schedule([{ date: '2026-01-05', ranges: [] }]), '2026-01-05T00:00:00Z', '2026-01-13T00:00:00Z');
    expect(local(result)).toEqual(['2026-01-06 14:00', '2026-01-06 15:00', '2026-01-12 09:00', '2026-01-12 10:00', '2026-01-12 11:00']);
  });

  it('a date with its own ranges (several that day) replaces the weekday\'s rules', () => {
    const override = { date: '2026-01-05', ranges: [{ start: '07:00', end: '08:00' }, { start: '13:00', end: '15:00' }] };
    const result = slots(schedule([override]), '2026-01-05T00:00:00Z', '2026-01-06T00:00:00Z');
    expect(local(result)).toEqual(['2026-01-05 07:00', '2026-01-05 13:00', '2026-01-05 14:00']);
  });

  it('opens a date the weekly rules leave closed (a Saturday)', () => {
    const result = slots(schedule([{ date: '2026-01-10', ranges: [{ start: '10:00', end: '12:00' }] }]), '2026-01-10T00:00:00Z', '2026-01-11T00:00:00Z');
    expect(result.map((s) => s.startAt.toISOString())).toEqual(['2026-01-10T09:00:00.000Z', '2026-01-10T10:00:00.000Z']);
  });

  it('reads the date in the professional\'s zone, not in UTC', () => {
    // Tokyo 2026-01-06 starts at 2026-01-05T15:00Z: a UTC reading would put the 09:00 slot on the 5th.
    const tokyo = schedule([{ date: '2026-01-06', ranges: [{ start: '09:00', end: '10:00' }] }], { timeZone: 'Asia/Tokyo', rules: [] });
    const result = slots(tokyo, '2026-01-05T00:00:00Z', '2026-01-07T00:00:00Z');
    expect(result.map((s) => s.startAt.toISOString())).toEqual(['2026-01-06T00:00:00.000Z']);
  });

  it('spring forward (Zurich 2026-03-29): a range across the skipped hour is open one real hour less', () => {
    // 01:00–04:00 on the clock is two real hours: 01:00 then 03:00 (02:xx never happens).
    const result = slots(schedule([{ date: '2026-03-29', ranges: [{ start: '01:00', end: '04:00' }] }]), '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z');
    expect(result.map((s) => s.startAt.toISOString())).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
    expect(local(result)).toEqual(['2026-03-29 01:00', '2026-03-29 03:00']);
  });

  it('fall back (Zurich 2026-10-25): a range across the repeated hour is open one real hour more, each instant once', () => {
    const result = slots(schedule([{ date: '2026-10-25', ranges: [{ start: '01:00', end: '04:00' }] }]), '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z');
    // 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET: four real hours.
    expect(result.map((s) => s.startAt.toISOString())).toEqual(['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
  });

  it('a range until 24:00 ends at the next local midnight, also on a DST day', () => {
    const result = slots(schedule([{ date: '2026-03-29', ranges: [{ start: '22:00', end: '24:00' }] }]), '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z');
    expect(local(result)).toEqual(['2026-03-29 22:00', '2026-03-29 23:00']);
  });

  it('booking and the next free slot follow the overrides', () => {
    const closedMonday = schedule([{ date: '2026-01-05', ranges: [] }]);
    const now = new Date('2026-01-05T00:00:00Z');
    expect(isBookableSlot({ schedule: closedMonday, timeOff: [], busy: [], now, startAt: new Date('2026-01-05T08:00:00Z') })).toBe(false);
    expect(isBookableSlot({ schedule: schedule(), timeOff: [], busy: [], now, startAt: new Date('2026-01-05T08:00:00Z') })).toBe(true);
    expect(nextAvailable({ schedule: closedMonday, timeOff: [], busy: [], now })?.startAt.toISOString()).toBe('2026-01-06T13:00:00.000Z');
  });

  it('time off and bookings still apply inside an override\'s ranges', () => {
    const open = schedule([{ date: '2026-01-10', ranges: [{ start: '10:00', end: '13:00' }] }]);
    const result = computeSlots({
      schedule: open,
      timeOff: [{ startAt: new Date('2026-01-10T09:00:00Z'), endAt: new Date('2026-01-10T10:00:00Z') }],
      busy: [{ startAt: new Date('2026-01-10T10:00:00Z'), endAt: new Date('2026-01-10T11:00:00Z') }],
      from: new Date('2026-01-10T00:00:00Z'),
      to: new Date('2026-01-11T00:00:00Z'),
      now: new Date('2026-01-01T00:00:00Z'),
    });
    expect(result.map((s) => s.startAt.toISOString())).toEqual(['2026-01-10T11:00:00.000Z']);
  });
});

describe('validateDateOverride', () => {
  const now = new Date('2026-01-05T23:30:00Z'); // already Tuesday 2026-01-06 in Zurich
  const zurich = { timeZone: ZURICH, horizonDays: 30 };
  const codes = (input: { date: unknown; ranges: unknown }) => {
    const result = validateDateOverride(input, zurich, now);
    return result.ok ? [] : result.problems.map((p) => `${p.field}:${p.code}`);
  };

  it('accepts a closed date and ordered ranges, touching ones included', () => {
    expect(validateDateOverride({ date: '2026-01-06', ranges: [] }, zurich, now)).toEqual({ ok: true, override: { date: '2026-01-06', ranges: [] } });
    const ranges = [{ start: '08:00', end: '12:00' }, { start: '12:00', end: '13:00' }, { start: '18:00', end: '24:00' }];
    expect(validateDateOverride({ date: '2026-02-04', ranges }, zurich, now)).toEqual({ ok: true, override: { date: '2026-02-04', ranges } });
  });

  it('the window is today to the end of the horizon, in the professional\'s zone', () => {
    // The horizon ends 30 days after now, at 2026-02-05 00:30 in Zurich: that date still has instants within it.
    expect(overrideWindow(zurich, now)).toEqual({ first: '2026-01-06', last: '2026-02-05' });
    expect(localDate(ZURICH, now)).toBe('2026-01-06');
    expect(codes({ date: '2026-01-05', ranges: [] })).toEqual(['date:DATE_OUTSIDE_HORIZON']); // yesterday there, though still today in UTC
    expect(codes({ date: '2026-02-05', ranges: [] })).toEqual([]);
    expect(codes({ date: '2026-02-06', ranges: [] })).toEqual(['date:DATE_OUTSIDE_HORIZON']);
    expect(codes({ date: '9999-12-31', ranges: [] })).toEqual(['date:DATE_OUTSIDE_HORIZON']);
  });

  it('refuses dates that are not calendar dates', () => {
    for (const date of ['2026-02-30', '2026-13-01', '2026-1-6', '2026-01-06T00:00', '2026-01-06\u0000', '', '0000-01-01', 20260106, null]) {
      expect(codes({ date, ranges: [] })).toEqual(['date:INVALID_DATE']);
    }
    expect(parseLocalDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
  });

  it('refuses malformed, reversed, unordered and overlapping ranges', () => {
    const date = '2026-01-10';
    expect(codes({ date, ranges: [{ start: '9:00', end: '10:00' }] })).toEqual(['ranges[0].start:INVALID_TIME']);
    expect(codes({ date, ranges: [{ start: '24:00', end: '24:00' }] })).toEqual(['ranges[0].start:INVALID_TIME']);
    expect(codes({ date, ranges: [{ start: '10:00', end: '24:01' }] })).toEqual(['ranges[0].end:INVALID_TIME']);
    expect(codes({ date, ranges: [{ start: '10:00', end: '10:00' }] })).toEqual(['ranges[0].end:RANGE_END_BEFORE_START']);
    expect(codes({ date, ranges: [{ start: '14:00', end: '15:00' }, { start: '09:00', end: '10:00' }] })).toEqual(['ranges[1]:RANGES_NOT_ORDERED']);
    expect(codes({ date, ranges: [{ start: '09:00', end: '11:00' }, { start: '10:30', end: '12:00' }] })).toEqual(['ranges[1]:RANGES_OVERLAP']);
    expect(codes({ date, ranges: 'closed' })).toEqual(['ranges:INVALID_RANGES']);
    expect(codes({ date, ranges: Array.from({ length: 13 }, (_, i) => ({ start: `${String(i).padStart(2, '0')}:00`, end: `${String(i).padStart(2, '0')}:30` })) })).toEqual(['ranges:INVALID_RANGES']);
    expect(codes({ date, ranges: [null] })).toEqual(['ranges[0].start:INVALID_TIME', 'ranges[0].end:INVALID_TIME']);
  });
});
