// The rules of a professional's profile. Pure: the reference lists come in as data.
import { IANAZone } from 'luxon';
import { normaliseLanguage } from './languages';
import { formatCents, MAX_PRICE_CENTS, parseCents } from './money';

export interface ReferenceData {
  /** Known specialty codes. */
  specialties: ReadonlySet<string>;
  /** Country code → the currency prices there are in. */
  currencyOf: ReadonlyMap<string, string>;
}

/** What a professional submits (the proto Profile's writable part). */
export interface ProfileInput {
  id: string;
  displayName: string;
  specialties: string[];
  languages: string[];
  country: string;
  city: string;
  latitude: number;
  longitude: number;
  price?: { amount: string; currency: string } | undefined;
  consultationMinutes: number;
  timeZone: string;
  bio: string;
}

/** A profile that passed every rule, normalised (codes in canonical case, price "120.00"). */
export interface ValidProfile {
  id: string;
  displayName: string;
  specialties: string[];
  languages: string[];
  country: string;
  city: string;
  latitude: number;
  longitude: number;
  priceAmount: string;
  priceCurrency: string;
  consultationMinutes: number;
  timeZone: string;
  bio: string;
}

export interface Problem {
  code: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem };

const problem = (code: string, message: string): { ok: false; problem: Problem } => ({ ok: false, problem: { code, message } });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const LIMITS = {
  displayName: 100,
  city: 100,
  bio: 2000,
  specialties: 10,
  languages: 20,
  consultationMinutes: { min: 10, max: 180 },
} as const;

/** Length in characters as a reader counts them (code points, not UTF-16 units). */
const length = (text: string) => [...text].length;

/** Canonical spelling of a valid IANA zone ("europe/zurich" → "Europe/Zurich"), else undefined. */
export function canonicalTimeZone(zone: string): string | undefined {
  const trimmed = zone.trim();
  if (!trimmed || !IANAZone.isValidZone(trimmed)) return undefined;
  return new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
}

export function checkProfile(input: ProfileInput, reference: ReferenceData): Checked<ValidProfile> {
  if (!UUID.test(input.id)) return problem('INVALID_PROFESSIONAL_ID', 'id must be the professional’s user id (a UUID)');

  const displayName = input.displayName.trim();
  if (length(displayName) < 1 || length(displayName) > LIMITS.displayName) {
    return problem('INVALID_DISPLAY_NAME', `display name must be 1 to ${LIMITS.displayName} characters`);
  }

  const specialties = unique(input.specialties.map((s) => s.trim().toLowerCase()));
  if (specialties.length === 0) return problem('UNKNOWN_SPECIALTY', 'at least one specialty is required');
  if (specialties.length > LIMITS.specialties) return problem('TOO_MANY_SPECIALTIES', `at most ${LIMITS.specialties} specialties`);
  const unknownSpecialty = specialties.find((s) => !reference.specialties.has(s));
  if (unknownSpecialty !== undefined) return problem('UNKNOWN_SPECIALTY', `unknown specialty "${unknownSpecialty}"`);

  const languages: string[] = [];
  for (const raw of input.languages) {
    const language = normaliseLanguage(raw);
    if (!language) return problem('INVALID_LANGUAGE', `"${raw}" is not an ISO 639-1 language code`);
    if (!languages.includes(language)) languages.push(language);
  }
  if (languages.length === 0) return problem('INVALID_LANGUAGE', 'at least one language (ISO 639-1) is required');
  if (languages.length > LIMITS.languages) return problem('TOO_MANY_LANGUAGES', `at most ${LIMITS.languages} languages`);

  const country = input.country.trim().toUpperCase();
  const currency = reference.currencyOf.get(country);
  if (!currency) return problem('UNKNOWN_COUNTRY', `country "${input.country}" is not served`);

  const city = input.city.trim();
  if (length(city) < 1 || length(city) > LIMITS.city) return problem('INVALID_CITY', `city must be 1 to ${LIMITS.city} characters`);

  if (!validCoordinates(input.latitude, input.longitude)) {
    return problem('INVALID_COORDINATES', 'latitude must be within [-90, 90] and longitude within [-180, 180]');
  }

  const cents = input.price ? parseCents(input.price.amount) : undefined;
  if (cents === undefined || cents <= 0 || cents > MAX_PRICE_CENTS) {
    return problem('INVALID_PRICE', 'price must be a decimal amount above 0 and at most 10000, with at most 2 decimals');
  }
  const priceCurrency = input.price!.currency.trim().toUpperCase();
  if (priceCurrency !== currency) return problem('CURRENCY_MISMATCH', `prices in ${country} are in ${currency}`);

  const minutes = input.consultationMinutes;
  const { min, max } = LIMITS.consultationMinutes;
  if (!Number.isInteger(minutes) || minutes < min || minutes > max) {
    return problem('INVALID_CONSULTATION_LENGTH', `consultation length must be ${min} to ${max} minutes`);
  }

  const timeZone = canonicalTimeZone(input.timeZone);
  if (!timeZone) return problem('INVALID_TIME_ZONE', `"${input.timeZone}" is not an IANA time zone`);

  const bio = input.bio.trim();
  if (length(bio) > LIMITS.bio) return problem('BIO_TOO_LONG', `bio must be at most ${LIMITS.bio} characters`);

  return {
    ok: true,
    value: {
      id: input.id.toLowerCase(),
      displayName,
      specialties,
      languages,
      country,
      city,
      latitude: input.latitude,
      longitude: input.longitude,
      priceAmount: formatCents(cents),
      priceCurrency,
      consultationMinutes: minutes,
      timeZone,
      bio,
    },
  };
}

export function validCoordinates(latitude: number, longitude: number): boolean {
  return Number.isFinite(latitude) && Number.isFinite(longitude) && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
