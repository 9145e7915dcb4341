import { DateTime } from 'luxon';
import { DomainError } from './errors';
import type { Schedule, WeeklyRule } from './schedule';
import { computeSlots, isBookableSlot, nextAvailable, republishAt, upcomingAvailable, type Interval, type Slot, type SlotQuery } from './slots';

const MONDAY_9_TO_12: WeeklyRule = { weekday: 1, start: '09:00', end: '12:00' };

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    professionalId: 'pro-1',
    timeZone: 'Europe/Zurich',
    rules: [MONDAY_9_TO_12],
    slotMinutes: 30,
    bufferMinutes: 10,
    minimumNoticeMinutes: 0,
    horizonDays: 365,
    ...overrides,
  };
}

const at = (iso: string) => new Date(iso);
const between = (startIso: string, endIso: string): Interval => ({ startAt: at(startIso), endAt: at(endIso) });

function slots(query: Partial<Omit<SlotQuery, 'from' | 'to' | 'now'>> & { from: string; to: string; now?: string }): Slot[] {
  return computeSlots({
    schedule: schedule(),
    timeOff: [],
    busy: [],
    ...query,
    from: at(query.from),
    to: at(query.to),
    now: at(query.now ?? '2026-01-01T00:00:00Z'),
  });
}
const starts = (list: Slot[]) => list.map((s) => s.startAt.toISOString());
/** The local clock reading of each slot's start, to check what the professional sees. */
const localStarts = (list: Slot[], zone: string) =>
  list.map((s) => DateTime.fromJSDate(s.startAt, { zone }).toFormat('HH:mm'));

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

describe('computeSlots: weekly rules in the professional’s zone', () => {
  it('Zurich Monday 09:00–12:00, 30 min + 10 min buffer, in January (UTC+1)', () => {
    const result = slots({ from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z' });
    expect(result.map((s) => [s.startAt.toISOString(), s.endAt.toISOString()])).toEqual([
      ['2026-01-05T08:00:00.000Z', '2026-01-05T08:30:00.000Z'],
      ['2026-01-05T08:40:00.000Z', '2026-01-05T09:10:00.000Z'],
      ['2026-01-05T09:20:00.000Z', '2026-01-05T09:50:00.000Z'],
      ['2026-01-05T10:00:00.000Z', '2026-01-05T10:30:00.000Z'],
      // 11:40 local would end at 12:10, after the rule's end
    ]);
  });

  it('the same rule in July (UTC+2)', () => {
    expect(starts(slots({ from: '2026-07-06T00:00:00Z', to: '2026-07-07T00:00:00Z' }))).toEqual([
      '2026-07-06T07:00:00.000Z',
      '2026-07-06T07:40:00.000Z',
      '2026-07-06T08:20:00.000Z',
      '2026-07-06T09:00:00.000Z',
    ]);
  });

  it('only the rule’s weekday has slots, sorted across several rules and days', () => {
    const rules = [MONDAY_9_TO_12, { weekday: 3, start: '14:00', end: '15:10' }, { weekday: 1, start: '07:00', end: '07:30' }];
    const result = slots({ schedule: schedule({ rules }), from: '2026-01-05T00:00:00Z', to: '2026-01-12T00:00:00Z' });
    expect(localStarts(result, 'Europe/Zurich')).toEqual(['07:00', '09:00', '09:40', '10:20', '11:00', '14:00', '14:40']);
    expect(starts(result)).toEqual([...starts(result)].sort());
    expect(result[6]!.startAt.toISOString()).toBe('2026-01-07T13:40:00.000Z'); // Wednesday
  });

  it('a rule until 24:00 runs to local midnight', () => {
    const late = schedule({ rules: [{ weekday: 1, start: '23:00', end: '24:00' }], bufferMinutes: 0 });
    expect(starts(slots({ schedule: late, from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z' }))).toEqual([
      '2026-01-05T22:00:00.000Z',
      '2026-01-05T22:30:00.000Z',
    ]);
  });
});

describe('computeSlots across daylight-saving changes', () => {
  const sunday = (start: string, end: string, zone = 'Europe/Zurich', bufferMinutes = 0) =>
    schedule({ timeZone: zone, rules: [{ weekday: 7, start, end }], bufferMinutes });

  it('Zurich spring forward (2026-03-29, 02:00 → 03:00): no slot at a local time that does not exist', () => {
    const result = slots({ schedule: sunday('01:30', '03:30'), from: '2026-03-28T12:00:00Z', to: '2026-03-29T12:00:00Z' });
    expect(starts(result)).toEqual(['2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z']);
    expect(localStarts(result, 'Europe/Zurich')).toEqual(['01:30', '03:00']);
  });

  it('a rule starting inside the gap opens when the clock jumps; one wholly inside it has no slots', () => {
    const from = '2026-03-28T12:00:00Z';
    const to = '2026-03-29T12:00:00Z';
    expect(localStarts(slots({ schedule: sunday('02:00', '04:00'), from, to }), 'Europe/Zurich')).toEqual(['03:00', '03:30']);
    expect(slots({ schedule: sunday('02:00', '02:45'), from, to })).toEqual([]);
  });

  it('Zurich fall back (2026-10-25, 03:00 → 02:00): each real instant of the repeated hour once', () => {
    const result = slots({ schedule: sunday('01:30', '03:30'), from: '2026-10-24T12:00:00Z', to: '2026-10-25T12:00:00Z' });
    expect(starts(result)).toEqual([
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
    expect(localStarts(result, 'Europe/Zurich')).toEqual(['01:30', '02:00', '02:30', '02:00', '02:30', '03:00']);
  });

  it('fall back with a buffer: slots never overlap and keep the buffer between them', () => {
    const result = slots({ schedule: sunday('01:30', '03:30', 'Europe/Zurich', 10), from: '2026-10-24T12:00:00Z', to: '2026-10-25T12:00:00Z' });
    expect(result).toHaveLength(4); // 3 real hours hold four 30-minute slots 40 minutes apart
    for (let i = 1; i < result.length; i++) {
      expect(result[i]!.startAt.getTime() - result[i - 1]!.endAt.getTime()).toBe(10 * 60_000);
    }
  });

  it('09:00 is 08:00Z the day before spring forward and 07:00Z on the day', () => {
    const rules = [
      { weekday: 6, start: '09:00', end: '09:30' },
      { weekday: 7, start: '09:00', end: '09:30' },
    ];
    expect(starts(slots({ schedule: schedule({ rules }), from: '2026-03-28T00:00:00Z', to: '2026-03-30T00:00:00Z' }))).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
    ]);
  });

  it('Europe/Paris: 09:00 is 08:00Z in winter, 07:00Z in summer, and spring forward skips 02:xx', () => {
    const paris = schedule({ timeZone: 'Europe/Paris', rules: [{ weekday: 1, start: '09:00', end: '09:30' }] });
    expect(starts(slots({ schedule: paris, from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z' }))).toEqual(['2026-01-05T08:00:00.000Z']);
    expect(starts(slots({ schedule: paris, from: '2026-07-06T00:00:00Z', to: '2026-07-07T00:00:00Z' }))).toEqual(['2026-07-06T07:00:00.000Z']);
    const night = slots({ schedule: sunday('01:00', '04:00', 'Europe/Paris'), from: '2026-03-28T12:00:00Z', to: '2026-03-29T12:00:00Z' });
    expect(localStarts(night, 'Europe/Paris')).toEqual(['01:00', '01:30', '03:00', '03:30']);
  });

  it('America/New_York: 09:00 is 14:00Z in winter, 13:00Z in summer', () => {
    const ny = schedule({ timeZone: 'America/New_York', rules: [{ weekday: 1, start: '09:00', end: '09:30' }] });
    expect(starts(slots({ schedule: ny, from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z' }))).toEqual(['2026-01-05T14:00:00.000Z']);
    expect(starts(slots({ schedule: ny, from: '2026-07-06T00:00:00Z', to: '2026-07-07T00:00:00Z' }))).toEqual(['2026-07-06T13:00:00.000Z']);
  });

  it('America/New_York spring forward (2026-03-08) and fall back (2026-11-01)', () => {
    const spring = slots({ schedule: sunday('01:30', '03:30', 'America/New_York'), from: '2026-03-08T00:00:00Z', to: '2026-03-09T00:00:00Z' });
    expect(starts(spring)).toEqual(['2026-03-08T06:30:00.000Z', '2026-03-08T07:00:00.000Z']);
    expect(localStarts(spring, 'America/New_York')).toEqual(['01:30', '03:00']);

    const fall = slots({ schedule: sunday('01:00', '02:00', 'America/New_York'), from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' });
    expect(starts(fall)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
    expect(localStarts(fall, 'America/New_York')).toEqual(['01:00', '01:30', '01:00', '01:30']);
  });

  it('a New York Monday evening is a Tuesday in UTC, and still belongs to Monday’s rule', () => {
    const ny = schedule({ timeZone: 'America/New_York', rules: [{ weekday: 1, start: '20:00', end: '20:30' }] });
    expect(starts(slots({ schedule: ny, from: '2026-01-06T00:00:00Z', to: '2026-01-07T00:00:00Z' }))).toEqual(['2026-01-06T01:00:00.000Z']);
    expect(slots({ schedule: ny, from: '2026-01-07T00:00:00Z', to: '2026-01-08T00:00:00Z' })).toEqual([]);
  });

  it('Australia/Lord_Howe: a 30-minute change (2026-10-04, 02:00 → 02:30)', () => {
    const result = slots({ schedule: sunday('01:30', '03:00', 'Australia/Lord_Howe'), from: '2026-10-03T00:00:00Z', to: '2026-10-04T00:00:00Z' });
    expect(localStarts(result, 'Australia/Lord_Howe')).toEqual(['01:30', '02:30']);
    expect(starts(result)).toEqual(['2026-10-03T15:00:00.000Z', '2026-10-03T15:30:00.000Z']);
    // 02:15 never happens that night: the rule opens at the jump, 02:30.
    const fromGap = slots({ schedule: sunday('02:15', '03:00', 'Australia/Lord_Howe'), from: '2026-10-03T00:00:00Z', to: '2026-10-04T00:00:00Z' });
    expect(starts(fromGap)).toEqual(['2026-10-03T15:30:00.000Z']);
  });
});

describe('computeSlots: what removes a slot', () => {
  const monday = { from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z' };
  // Free Monday slots in Zurich local time: 09:00, 09:40, 10:20, 11:00 (= 08:00Z, 08:40Z, 09:20Z, 10:00Z)

  it('time off removes the slots it overlaps (a slot may end exactly when it starts)', () => {
    const timeOff = [between('2026-01-05T08:30:00Z', '2026-01-05T09:30:00Z')]; // 09:30–10:30 local
    expect(localStarts(slots({ ...monday, timeOff }), 'Europe/Zurich')).toEqual(['09:00', '11:00']);
  });

  it('a busy booking removes its own slot only, when bookings sit on the grid', () => {
    const busy = [between('2026-01-05T08:00:00Z', '2026-01-05T08:30:00Z')];
    expect(localStarts(slots({ ...monday, busy }), 'Europe/Zurich')).toEqual(['09:40', '10:20', '11:00']);
  });

  it('a busy booking also blocks its buffer after it', () => {
    // 09:00–09:35 local (e.g. made under an older, longer slot length): 09:40 is only 5 min after it.
    const busy = [between('2026-01-05T08:00:00Z', '2026-01-05T08:35:00Z')];
    expect(localStarts(slots({ ...monday, busy }), 'Europe/Zurich')).toEqual(['10:20', '11:00']);
    // With no buffer the grid is 09:00, 09:30, 10:00, …: both 09:00 and 09:30 overlap the booking itself.
    const noBuffer = schedule({ bufferMinutes: 0 });
    expect(localStarts(slots({ ...monday, schedule: noBuffer, busy }), 'Europe/Zurich')).toEqual([
      '10:00', '10:30', '11:00', '11:30',
    ]);
  });

  it('a slot must also end a buffer before a busy booking', () => {
    const busy = [between('2026-01-05T09:15:00Z', '2026-01-05T09:45:00Z')]; // 10:15–10:45 local
    // 09:40–10:10 ends only 5 min before; 10:20 overlaps; 11:00 starts 15 min after.
    expect(localStarts(slots({ ...monday, busy }), 'Europe/Zurich')).toEqual(['09:00', '11:00']);
  });

  it('minimum notice: nothing starting before now + notice', () => {
    const noticed = schedule({ minimumNoticeMinutes: 60 });
    // now = 08:40 local: 09:40 is exactly 60 minutes away and still bookable.
    expect(localStarts(slots({ ...monday, schedule: noticed, now: '2026-01-05T07:40:00Z' }), 'Europe/Zurich')).toEqual([
      '09:40', '10:20', '11:00',
    ]);
    expect(localStarts(slots({ ...monday, schedule: noticed, now: '2026-01-05T07:41:00Z' }), 'Europe/Zurich')).toEqual([
      '10:20', '11:00',
    ]);
  });

  it('slots in the past are never offered', () => {
    expect(localStarts(slots({ ...monday, now: '2026-01-05T09:00:00Z' }), 'Europe/Zurich')).toEqual(['10:20', '11:00']);
  });

  it('horizon: nothing starting at or after now + horizonDays', () => {
    const january = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', now: '2026-01-01T00:00:00Z' };
    const days = (list: Slot[]) => [...new Set(list.map((s) => s.startAt.toISOString().slice(0, 10)))];
    expect(days(slots({ ...january, schedule: schedule({ horizonDays: 7 }) }))).toEqual(['2026-01-05']);
    expect(days(slots({ ...january, schedule: schedule({ horizonDays: 12 }) }))).toEqual(['2026-01-05', '2026-01-12']);
  });

  it('only slots starting in [from, to)', () => {
    expect(starts(slots({ from: '2026-01-05T08:40:00Z', to: '2026-01-05T10:00:00Z' }))).toEqual([
      '2026-01-05T08:40:00.000Z',
      '2026-01-05T09:20:00.000Z',
    ]);
  });
});

describe('computeSlots: range checks', () => {
  it('accepts up to 62 days and refuses more with RANGE_TOO_LARGE', () => {
    expect(slots({ from: '2026-01-01T00:00:00Z', to: '2026-03-04T00:00:00Z' })).toHaveLength(9 * 4);
    expectCode(() => slots({ from: '2026-01-01T00:00:00Z', to: '2026-03-04T00:00:00.001Z' }), 'RANGE_TOO_LARGE');
    expectCode(() => slots({ from: '2026-01-01T00:00:00Z', to: '2036-01-01T00:00:00Z' }), 'RANGE_TOO_LARGE');
  });

  it('refuses a reversed or unreadable range with INVALID_RANGE', () => {
    expectCode(() => slots({ from: '2026-01-10T00:00:00Z', to: '2026-01-01T00:00:00Z' }), 'INVALID_RANGE');
    expectCode(() => slots({ from: 'yesterday', to: '2026-01-01T00:00:00Z' }), 'INVALID_RANGE');
  });
});

describe('nextAvailable', () => {
  const base = { schedule: schedule(), timeOff: [], busy: [], now: at('2026-01-01T00:00:00Z') };

  it('is the earliest free slot', () => {
    expect(nextAvailable(base)).toEqual({ startAt: at('2026-01-05T08:00:00Z'), endAt: at('2026-01-05T08:30:00Z') });
    const busy = [between('2026-01-05T08:00:00Z', '2026-01-05T08:30:00Z')];
    expect(nextAvailable({ ...base, busy })?.startAt).toEqual(at('2026-01-05T08:40:00Z'));
  });

  it('looks beyond one 62-day range, up to the horizon', () => {
    const timeOff = [between('2026-01-01T00:00:00Z', '2026-05-01T00:00:00Z')];
    expect(nextAvailable({ ...base, timeOff })?.startAt).toEqual(at('2026-05-04T07:00:00Z')); // Monday 09:00 CEST
    expect(nextAvailable({ ...base, timeOff, schedule: schedule({ horizonDays: 100 }) })).toBeNull();
  });

  it('is null for a schedule without rules', () => {
    expect(nextAvailable({ ...base, schedule: schedule({ rules: [] }) })).toBeNull();
  });
});

describe('upcomingAvailable and republishAt', () => {
  const base = { schedule: schedule(), timeOff: [], busy: [], now: at('2026-01-01T00:00:00Z') };
  const starts = (found: Slot[]) => found.map((slot) => slot.startAt.toISOString());

  it('are the first free slots, soonest first, past busy ones and across 62-day ranges', () => {
    // Mondays 09:00-12:00 Zurich, 30 minutes and a 10-minute buffer: four a Monday.
    expect(starts(upcomingAvailable(base, 6))).toEqual([
      '2026-01-05T08:00:00.000Z', '2026-01-05T08:40:00.000Z', '2026-01-05T09:20:00.000Z', '2026-01-05T10:00:00.000Z',
      '2026-01-12T08:00:00.000Z', '2026-01-12T08:40:00.000Z',
    ]);
    const busy = [between('2026-01-05T08:40:00Z', '2026-01-05T09:10:00Z')];
    expect(starts(upcomingAvailable({ ...base, busy }, 3))).toEqual(['2026-01-05T08:00:00.000Z', '2026-01-05T09:20:00.000Z', '2026-01-05T10:00:00.000Z']);
    const timeOff = [between('2026-01-01T00:00:00Z', '2026-05-01T00:00:00Z')];
    expect(starts(upcomingAvailable({ ...base, timeOff }, 5))).toEqual([
      '2026-05-04T07:00:00.000Z', '2026-05-04T07:40:00.000Z', '2026-05-04T08:20:00.000Z', '2026-05-04T09:00:00.000Z', '2026-05-11T07:00:00.000Z',
    ]);
  });

  it('are fewer when the horizon holds fewer', () => {
    expect(starts(upcomingAvailable({ ...base, schedule: schedule({ horizonDays: 6 }) }, 8))).toHaveLength(4);
    expect(upcomingAvailable({ ...base, schedule: schedule({ horizonDays: 3 }) }, 8)).toEqual([]);
  });

  it('republish once the one before the last can no longer be booked, or the only one', () => {
    const found = upcomingAvailable(base, 6);
    expect(republishAt(found, 60)).toEqual(at('2026-01-12T07:00:00Z'));
    expect(republishAt(found.slice(0, 1), 60)).toEqual(at('2026-01-05T07:00:00Z'));
    expect(republishAt([], 60)).toBeNull();
  });
});

describe('isBookableSlot', () => {
  const base = { schedule: schedule(), timeOff: [], busy: [], now: at('2026-01-01T00:00:00Z') };

  it('accepts exactly the start of a free slot', () => {
    expect(isBookableSlot({ ...base, startAt: at('2026-01-05T08:40:00Z') })).toBe(true);
  });

  it('refuses a start off the grid, outside the rules, taken, or too soon', () => {
    expect(isBookableSlot({ ...base, startAt: at('2026-01-05T08:45:00Z') })).toBe(false);
    expect(isBookableSlot({ ...base, startAt: at('2026-01-05T11:00:00Z') })).toBe(false); // 12:00 local
    expect(isBookableSlot({ ...base, startAt: at('2026-01-06T08:00:00Z') })).toBe(false); // a Tuesday
    const busy = [between('2026-01-05T08:40:00Z', '2026-01-05T09:10:00Z')];
    expect(isBookableSlot({ ...base, busy, startAt: at('2026-01-05T08:40:00Z') })).toBe(false);
    expect(isBookableSlot({ ...base, now: at('2026-01-05T08:41:00Z'), startAt: at('2026-01-05T08:40:00Z') })).toBe(false);
    expect(isBookableSlot({ ...base, startAt: at('not a date') })).toBe(false);
  });
});
