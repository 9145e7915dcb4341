import { describeIndexReads, indexReadsBetween } from './index-reads';

describe('index reads during a hold', () => {
  const before = { 'search.professionals_nearest_idx': { walks: 100, entries: 4_000 }, 'search.professionals_pkey': { walks: 50, entries: 50 } };
  const after = {
    'search.professionals_nearest_idx': { walks: 9_542, entries: 457_479_097 },
    'search.professionals_pkey': { walks: 10_050, entries: 10_050 },
    'appointment.schedules_pkey': { walks: 7, entries: 7 },
    'search.professionals_price_amount_idx': { walks: 0, entries: 0 },
  };

  it('gives what the hold read, most entries first, leaving out indexes it did not walk', () => {
    expect(indexReadsBetween(before, after)).toEqual([
      ['search.professionals_nearest_idx', { walks: 9_442, entries: 457_475_097 }],
      ['search.professionals_pkey', { walks: 10_000, entries: 10_000 }],
      ['appointment.schedules_pkey', { walks: 7, entries: 7 }],
    ]);
  });

  it('says how many entries each walk read, so a walk of the whole index stands out', () => {
    expect(describeIndexReads(indexReadsBetween(before, after), 2)).toBe(
      'search.professionals_nearest_idx 9 442 walks, 48 451 entries each; search.professionals_pkey 10 000 walks, 1 entries each',
    );
    expect(describeIndexReads([])).toBe('none');
  });
});
