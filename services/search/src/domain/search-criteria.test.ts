import { checkSearch, decodeCursor, encodeCursor, type SearchRequestInput } from './search-criteria';
import type { ReferenceData } from './profile';

const reference: ReferenceData = { specialties: new Set(['cardiology']), currencyOf: new Map([['CH', 'CHF']]) };
const empty: SearchRequestInput = { query: '', specialty: '', country: '', language: '', availableBefore: '', limit: 0, cursor: '' };
const check = (overrides: Partial<SearchRequestInput>) => checkSearch({ ...empty, ...overrides }, reference);

describe('search criteria', () => {
  it('defaults to 20 results, radius 50 km when searched by place', () => {
    expect(check({})).toEqual({ ok: true, value: { limit: 20 } });
    expect(check({ latitude: 47, longitude: 8 })).toMatchObject({ ok: true, value: { place: { latitude: 47, longitude: 8, radiusKm: 50 } } });
  });

  it('normalises instants to UTC and prices to two decimals', () => {
    expect(check({ availableBefore: '2030-01-01T10:00:00+01:00', maxPrice: '80' })).toMatchObject({
      ok: true,
      value: { availableBefore: '2030-01-01T09:00:00.000Z', maxPrice: '80.00' },
    });
  });

  it('round-trips cursors and refuses anything else', () => {
    const id = '0192f0a4-6f1e-7cc0-8a3e-0d7b6f2f9a11';
    for (const key of [
      { by: 'distance' as const, chordKm: 3.3358524070061133, id },
      { by: 'availability' as const, nextAvailableAt: '2030-01-01T09:00:00.000Z', id },
      { by: 'availability' as const, nextAvailableAt: null, id },
    ]) {
      expect(decodeCursor(encodeCursor(key))).toEqual(key);
    }
    const forged = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64url');
    for (const bad of ['', '!!', forged({ v: 1, d: 1, i: id }), forged({ v: 2, c: -1, i: id }), forged({ v: 2, c: '1', i: id }), forged({ v: 2, t: null, i: id }), forged({ v: 1, t: 'x', i: id }), forged({ v: 1, t: null, i: 'x' }), forged([1])]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
    const distanceCursor = encodeCursor({ by: 'distance', chordKm: 1, id });
    expect(check({ cursor: distanceCursor })).toMatchObject({ ok: false, problem: { code: 'INVALID_CURSOR' } });
    expect(check({ cursor: distanceCursor, latitude: 1, longitude: 1 })).toMatchObject({ ok: true });
  });
});
