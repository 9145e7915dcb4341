// What a search may ask, checked and normalised; and the opaque cursor of its pages.
import { normaliseLanguage } from './languages';
import { formatCents, parseCents } from './money';
import { validCoordinates, type Checked, type ReferenceData } from './profile';

export const SEARCH_LIMITS = {
  defaultLimit: 20,
  maxLimit: 50,
  defaultRadiusKm: 50,
  maxRadiusKm: 500,
  queryLength: 200,
} as const;

/** Where a page ends: the sort key of its last item. */
export type PageKey =
  /** The chord (straight-line) distance in km: what the spatial index orders by (docs/search.md). */
  | { by: 'distance'; chordKm: number; id: string }
  /** `nextAvailableAt` null sorts last (professionals with no known free slot). */
  | { by: 'availability'; nextAvailableAt: string | null; id: string };

export interface SearchCriteria {
  query?: string;
  specialty?: string;
  country?: string;
  language?: string;
  place?: { latitude: number; longitude: number; radiusKm: number };
  /** ISO instant, UTC. */
  availableBefore?: string;
  /** Two-decimal string, compared with the price in the professional's currency. */
  maxPrice?: string;
  limit: number;
  after?: PageKey;
}

export interface SearchRequestInput {
  query: string;
  specialty: string;
  country: string;
  language: string;
  latitude?: number | undefined;
  longitude?: number | undefined;
  radiusKm?: number | undefined;
  availableBefore: string;
  maxPrice?: string | undefined;
  limit: number;
  cursor: string;
}

const problem = (code: string, message: string) => ({ ok: false as const, problem: { code, message } });

/** An instant with an explicit offset (an ISO date-time without one names no instant). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function parseInstant(value: string): Date | undefined {
  if (!ISO_INSTANT.test(value.trim())) return undefined;
  const date = new Date(value.trim());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function checkSearch(input: SearchRequestInput, reference: ReferenceData): Checked<SearchCriteria> {
  const criteria: SearchCriteria = { limit: SEARCH_LIMITS.defaultLimit };

  const query = input.query.trim();
  // PostgreSQL text cannot hold NUL: refused here rather than failing in the database.
  if (query.includes('\u0000')) return problem('INVALID_QUERY', 'query must not contain NUL characters');
  if ([...query].length > SEARCH_LIMITS.queryLength) return problem('INVALID_QUERY', `query must be at most ${SEARCH_LIMITS.queryLength} characters`);
  if (query) criteria.query = query;

  const specialty = input.specialty.trim().toLowerCase();
  if (specialty) {
    if (!reference.specialties.has(specialty)) return problem('UNKNOWN_SPECIALTY', `unknown specialty "${input.specialty}"`);
    criteria.specialty = specialty;
  }

  const country = input.country.trim().toUpperCase();
  if (country) {
    if (!reference.currencyOf.has(country)) return problem('UNKNOWN_COUNTRY', `country "${input.country}" is not served`);
    criteria.country = country;
  }

  if (input.language.trim()) {
    const language = normaliseLanguage(input.language);
    if (!language) return problem('INVALID_LANGUAGE', `"${input.language}" is not an ISO 639-1 language code`);
    criteria.language = language;
  }

  const { latitude, longitude, radiusKm } = input;
  if (latitude !== undefined || longitude !== undefined || radiusKm !== undefined) {
    if (latitude === undefined || longitude === undefined || !validCoordinates(latitude, longitude)) {
      return problem('INVALID_COORDINATES', 'a search by place needs both latitude [-90, 90] and longitude [-180, 180]');
    }
    const radius = radiusKm ?? SEARCH_LIMITS.defaultRadiusKm;
    if (!Number.isFinite(radius) || radius <= 0 || radius > SEARCH_LIMITS.maxRadiusKm) {
      return problem('INVALID_RADIUS', `radius must be above 0 and at most ${SEARCH_LIMITS.maxRadiusKm} km`);
    }
    criteria.place = { latitude, longitude, radiusKm: radius };
  }

  if (input.availableBefore.trim()) {
    const instant = parseInstant(input.availableBefore);
    if (!instant) return problem('INVALID_AVAILABLE_BEFORE', 'availableBefore must be an ISO 8601 instant with an offset, e.g. 2026-03-01T12:00:00Z');
    criteria.availableBefore = instant.toISOString();
  }

  if (input.maxPrice !== undefined) {
    const cents = parseCents(input.maxPrice);
    if (cents === undefined) return problem('INVALID_MAX_PRICE', 'maxPrice must be a decimal amount with at most 2 decimals');
    criteria.maxPrice = formatCents(cents);
  }

  if (input.limit !== 0) {
    if (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > SEARCH_LIMITS.maxLimit) {
      return problem('INVALID_LIMIT', `limit must be 1 to ${SEARCH_LIMITS.maxLimit}`);
    }
    criteria.limit = input.limit;
  }

  if (input.cursor) {
    const after = decodeCursor(input.cursor);
    if (!after || after.by !== (criteria.place ? 'distance' : 'availability')) {
      return problem('INVALID_CURSOR', 'the cursor is malformed or belongs to another search');
    }
    criteria.after = after;
  }

  return { ok: true, value: criteria };
}

// Cursor: base64url of a small JSON document. Opaque to clients, checked strictly on the way in.
// Version 2 of the distance cursor carries the chord distance (version 1 carried the great-circle
// distance of the former haversine order: refused, the client starts the search again).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(key: PageKey): string {
  const doc = key.by === 'distance' ? { v: 2, c: key.chordKm, i: key.id } : { v: 1, t: key.nextAvailableAt, i: key.id };
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}

export function decodeCursor(cursor: string): PageKey | undefined {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { v, c, t, i } = doc as Record<string, unknown>;
  if (typeof i !== 'string' || !UUID.test(i)) return undefined;
  if (v === 2 && 'c' in (doc as object)) {
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) return undefined;
    return { by: 'distance', chordKm: c, id: i };
  }
  if (v === 1 && 't' in (doc as object)) {
    if (t === null) return { by: 'availability', nextAvailableAt: null, id: i };
    if (typeof t !== 'string' || !parseInstant(t)) return undefined;
    return { by: 'availability', nextAvailableAt: new Date(t).toISOString(), id: i };
  }
  return undefined;
}
