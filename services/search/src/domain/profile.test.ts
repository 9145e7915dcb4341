import { checkProfile, type ProfileInput, type ReferenceData } from './profile';

const reference: ReferenceData = {
  specialties: new Set(['general-practice', 'cardiology']),
  currencyOf: new Map([
    ['CH', 'CHF'],
    ['FR', 'EUR'],
  ]),
};

const valid: ProfileInput = {
  id: '0192f0a4-6f1e-7cc0-8a3e-0d7b6f2f9a11',
  displayName: ' Dr. Anna Keller ',
  specialties: ['general-practice'],
  languages: ['de'],
  country: 'CH',
  city: 'Zürich',
  latitude: 47.3769,
  longitude: 8.5417,
  price: { amount: '120', currency: 'CHF' },
  consultationMinutes: 30,
  timeZone: 'Europe/Zurich',
  bio: '',
};

const codeOf = (overrides: Partial<ProfileInput>) => {
  const result = checkProfile({ ...valid, ...overrides }, reference);
  return result.ok ? 'OK' : result.problem.code;
};

describe('profile rules', () => {
  it('normalises a valid profile', () => {
    const result = checkProfile(valid, reference);
    expect(result).toEqual({ ok: true, value: expect.objectContaining({ displayName: 'Dr. Anna Keller', priceAmount: '120.00', priceCurrency: 'CHF' }) });
  });

  it.each([
    ['12.3', 'OK'],
    ['0.01', 'OK'],
    ['10000.00', 'OK'],
    ['10000.001', 'INVALID_PRICE'],
    ['10000.01', 'INVALID_PRICE'],
    ['0.00', 'INVALID_PRICE'],
    ['1e3', 'INVALID_PRICE'],
    ['1,50', 'INVALID_PRICE'],
    ['.5', 'INVALID_PRICE'],
    ['', 'INVALID_PRICE'],
  ])('price %j → %s', (amount, code) => {
    expect(codeOf({ price: { amount, currency: 'CHF' } })).toBe(code);
  });

  it('wants the currency of the country', () => {
    expect(codeOf({ country: 'FR', price: { amount: '60', currency: 'EUR' } })).toBe('OK');
    expect(codeOf({ country: 'FR', price: { amount: '60', currency: 'CHF' } })).toBe('CURRENCY_MISMATCH');
    expect(codeOf({ price: { amount: '60', currency: '' } })).toBe('CURRENCY_MISMATCH');
  });

  it('checks consultation length, time zone, bio and coordinates at their bounds', () => {
    expect(codeOf({ consultationMinutes: 10 })).toBe('OK');
    expect(codeOf({ consultationMinutes: 180 })).toBe('OK');
    expect(codeOf({ consultationMinutes: 30.5 })).toBe('INVALID_CONSULTATION_LENGTH');
    expect(codeOf({ timeZone: 'CET' })).toBe('OK');
    expect(codeOf({ timeZone: 'Mars/Olympus' })).toBe('INVALID_TIME_ZONE');
    expect(codeOf({ bio: '🩺'.repeat(2000) })).toBe('OK'); // characters, not UTF-16 units
    expect(codeOf({ bio: 'a'.repeat(2001) })).toBe('BIO_TOO_LONG');
    expect(codeOf({ latitude: Number.NaN })).toBe('INVALID_COORDINATES');
    expect(codeOf({ longitude: Number.POSITIVE_INFINITY })).toBe('INVALID_COORDINATES');
  });

  it('accepts ISO 639-1 languages only, and at least one', () => {
    expect(codeOf({ languages: ['rm', 'LB'] })).toBe('OK');
    expect(codeOf({ languages: ['deu'] })).toBe('INVALID_LANGUAGE');
    expect(codeOf({ languages: ['bh'] })).toBe('INVALID_LANGUAGE'); // withdrawn
    expect(codeOf({ languages: [] })).toBe('INVALID_LANGUAGE');
  });
});
