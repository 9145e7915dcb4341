import { validateSchedule, type ScheduleProblem } from './schedule';

const valid = {
  professionalId: 'pro-1',
  timeZone: 'Europe/Zurich',
  rules: [
    { weekday: 3, start: '14:00', end: '18:00' },
    { weekday: 1, start: '13:00', end: '17:00' },
    { weekday: 1, start: '09:00', end: '12:30' },
  ],
  slotMinutes: 30,
  bufferMinutes: 10,
  minimumNoticeMinutes: 120,
  horizonDays: 60,
};

function problemsOf(input: unknown): ScheduleProblem[] {
  const result = validateSchedule(input);
  return result.ok ? [] : result.problems;
}
const codesOf = (input: unknown) => problemsOf(input).map((p) => p.code);

describe('validateSchedule', () => {
  it('accepts a valid schedule and sorts its rules by weekday then start', () => {
    const result = validateSchedule(valid);
    expect(result).toEqual({
      ok: true,
      schedule: {
        ...valid,
        rules: [
          { weekday: 1, start: '09:00', end: '12:30' },
          { weekday: 1, start: '13:00', end: '17:00' },
          { weekday: 3, start: '14:00', end: '18:00' },
        ],
      },
    });
  });

  it('stores the canonical spelling of the time zone', () => {
    const result = validateSchedule({ ...valid, timeZone: 'europe/zurich' });
    expect(result.ok && result.schedule.timeZone).toBe('Europe/Zurich');
  });

  it('accepts a schedule without rules (closed) and a rule until midnight', () => {
    expect(validateSchedule({ ...valid, rules: [] }).ok).toBe(true);
    expect(validateSchedule({ ...valid, rules: [{ weekday: 5, start: '20:00', end: '24:00' }] }).ok).toBe(true);
  });

  it.each(['Mars/Olympus', '+01:00', 'CET+1', '', 42, undefined])('rejects time zone %p', (timeZone) => {
    expect(problemsOf({ ...valid, timeZone })).toEqual([
      expect.objectContaining({ field: 'timeZone', code: 'INVALID_TIME_ZONE' }),
    ]);
  });

  it('rejects a missing professional id', () => {
    expect(codesOf({ ...valid, professionalId: ' ' })).toEqual(['INVALID_PROFESSIONAL_ID']);
  });

  it.each([0, 8, 1.5, '1', null])('rejects weekday %p', (weekday) => {
    expect(problemsOf({ ...valid, rules: [{ weekday, start: '09:00', end: '10:00' }] })).toEqual([
      expect.objectContaining({ field: 'rules[0].weekday', code: 'INVALID_WEEKDAY' }),
    ]);
  });

  it.each([
    ['9:00', '10:00', 'rules[0].start'],
    ['24:00', '24:00', 'rules[0].start'], // 24:00 is only an end
    ['09:00', '12:60', 'rules[0].end'],
    ['09:00', '24:01', 'rules[0].end'],
    ['09:00', 900, 'rules[0].end'],
  ])('rejects times %p–%p', (start, end, field) => {
    expect(problemsOf({ ...valid, rules: [{ weekday: 1, start, end }] })).toEqual([
      expect.objectContaining({ field, code: 'INVALID_TIME' }),
    ]);
  });

  it.each([
    ['12:00', '09:00'],
    ['09:00', '09:00'],
  ])('rejects a rule %s–%s whose end is not after its start', (start, end) => {
    expect(problemsOf({ ...valid, rules: [{ weekday: 1, start, end }] })).toEqual([
      expect.objectContaining({ field: 'rules[0].end', code: 'RULE_END_BEFORE_START' }),
    ]);
  });

  it('rejects overlapping rules on the same weekday, but not touching ones or other weekdays', () => {
    const rules = [
      { weekday: 2, start: '09:00', end: '12:00' },
      { weekday: 2, start: '12:00', end: '13:00' }, // touches: fine
      { weekday: 4, start: '11:00', end: '13:00' }, // other weekday: fine
      { weekday: 2, start: '11:30', end: '12:15' }, // overlaps both Tuesday rules
    ];
    const problems = problemsOf({ ...valid, rules });
    expect(problems.map((p) => p.code)).toEqual(['RULES_OVERLAP', 'RULES_OVERLAP']);
    expect(problems.map((p) => p.field).sort()).toEqual(['rules[1]', 'rules[3]']);
    expect(validateSchedule({ ...valid, rules: rules.slice(0, 3) }).ok).toBe(true);
  });

  it('rejects a rule inside a longer one even when it does not touch its neighbour', () => {
    const rules = [
      { weekday: 5, start: '08:00', end: '18:00' },
      { weekday: 5, start: '10:00', end: '11:00' },
      { weekday: 5, start: '12:00', end: '13:00' },
    ];
    expect(problemsOf({ ...valid, rules })).toEqual([
      expect.objectContaining({ field: 'rules[1]', code: 'RULES_OVERLAP' }),
      expect.objectContaining({ field: 'rules[2]', code: 'RULES_OVERLAP' }),
    ]);
  });

  it('rejects rules that are not a list', () => {
    expect(codesOf({ ...valid, rules: 'Mon 9-12' })).toEqual(['INVALID_RULES']);
  });

  it.each([
    ['slotMinutes', 4, 'INVALID_SLOT_LENGTH'],
    ['slotMinutes', 241, 'INVALID_SLOT_LENGTH'],
    ['slotMinutes', 29.5, 'INVALID_SLOT_LENGTH'],
    ['bufferMinutes', -1, 'INVALID_BUFFER'],
    ['bufferMinutes', 121, 'INVALID_BUFFER'],
    ['minimumNoticeMinutes', -5, 'INVALID_NOTICE'],
    ['minimumNoticeMinutes', '60', 'INVALID_NOTICE'],
    ['horizonDays', 0, 'INVALID_HORIZON'],
    ['horizonDays', 366, 'INVALID_HORIZON'],
  ])('rejects %s = %p with %s', (field, value, code) => {
    expect(problemsOf({ ...valid, [field]: value })).toEqual([expect.objectContaining({ field, code })]);
  });

  it.each([
    ['slotMinutes', 5],
    ['slotMinutes', 240],
    ['bufferMinutes', 0],
    ['bufferMinutes', 120],
    ['minimumNoticeMinutes', 0],
    ['horizonDays', 1],
    ['horizonDays', 365],
  ])('accepts %s = %p at the edge of its range', (field, value) => {
    expect(validateSchedule({ ...valid, [field]: value }).ok).toBe(true);
  });

  it('reports every problem at once, each with a message', () => {
    const problems = problemsOf(null);
    expect(problems.map((p) => p.code).sort()).toEqual(
      [
        'INVALID_BUFFER',
        'INVALID_HORIZON',
        'INVALID_NOTICE',
        'INVALID_PROFESSIONAL_ID',
        'INVALID_RULES',
        'INVALID_SLOT_LENGTH',
        'INVALID_TIME_ZONE',
      ].sort(),
    );
    for (const p of problems) expect(p.message).not.toBe('');
  });
});
