// Bulk load of search's own table for the seeded directory (scripts/seed.ts, tests at scale). The
// service owns its data: this writes only to its schema, after its own migrations, with the same
// columns UpsertProfile and VerifyProfessional write, and the free slots that appointment computed
// (what appointment.availability_changed would have carried).
import type pg from 'pg';
import { table } from '@cryptocare/events';
import type { ProfileInput } from '../domain/profile';
import { availabilityMovesAt } from '../store/directory-store';

/** What a professional submits (ProfileInput), with its price, verification and earliest free slot. */
export interface SeedProfileRow extends Omit<ProfileInput, 'price'> {
  price: { amount: string; currency: string };
  verified: boolean;
  /** ISO instant, or null when nothing is free (or not known). */
  nextAvailableAt: string | null;
  /** The free slots after it and their notice, as the event carries them (none: not known). */
  laterAvailableAt?: string[];
  minimumNoticeMinutes?: number;
}

/** Rows per INSERT statement: one JSON document each, parsed by PostgreSQL. */
const BATCH = 2_000;
/** VACUUMs at most after the load (see the end of writeSeedProfessionals): about 10 s of waiting in all. */
const VACUUM_ROUNDS = 10;

/**
 * Inserts the profiles in multi-row statements (existing ids are left alone: re-running a seed is
 * harmless). `asOf` is the time the availability was computed. Returns how many were inserted.
 */
export async function writeSeedProfessionals(db: pg.Pool | pg.PoolClient, schema: string, rows: Iterable<SeedProfileRow>, asOf: Date): Promise<number> {
  let inserted = 0;
  let batch: SeedProfileRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const json = JSON.stringify(
      batch.map((p) => ({
        id: p.id,
        display_name: p.displayName,
        specialties: p.specialties,
        languages: p.languages,
        country: p.country,
        city: p.city,
        latitude: p.latitude,
        longitude: p.longitude,
        price_amount: p.price.amount,
        price_currency: p.price.currency,
        consultation_minutes: p.consultationMinutes,
        time_zone: p.timeZone,
        bio: p.bio,
        verified: p.verified,
        next_available_at: p.nextAvailableAt,
        // As DirectoryStore.applyAvailability stores an event.
        later_available_at: p.nextAvailableAt ? (p.laterAvailableAt ?? []) : [],
        minimum_notice_minutes: p.minimumNoticeMinutes ?? 0,
      })),
    );
    const result = await db.query(
      `INSERT INTO ${table(schema, 'professionals')} (id, display_name, specialties, languages, country, city, latitude, longitude,
              price_amount, price_currency, consultation_minutes, time_zone, bio, verified, next_available_at,
              later_available_at, minimum_notice_minutes, availability_moves_at, availability_as_of, updated_at)
       SELECT id, display_name, specialties, languages, country, city, latitude, longitude,
              price_amount, price_currency, consultation_minutes, time_zone, bio, verified, next_available_at,
              later_available_at, minimum_notice_minutes,
              ${availabilityMovesAt('next_available_at', 'later_available_at', 'minimum_notice_minutes')}, $2::timestamptz, now()
         FROM json_to_recordset($1::json) AS r(id uuid, display_name text, specialties text[], languages text[], country text, city text,
              latitude float8, longitude float8, price_amount numeric, price_currency text, consultation_minutes int, time_zone text,
              bio text, verified boolean, next_available_at timestamptz, later_available_at timestamptz[], minimum_notice_minutes int)
       ON CONFLICT (id) DO NOTHING`,
      [json, asOf.toISOString()],
    );
    inserted += result.rowCount ?? 0;
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  // Fresh statistics: the planner picks the indexes for a table this size (docs/search.md); and the
  // visibility map, without which a search by place's index-only walk would read the heap anyway
  // until autovacuum came by. (VACUUM runs outside a transaction: `db` is a pool or a plain client.)
  // VACUUM marks a page all-visible only when no open snapshot predates its rows: an autovacuum
  // ANALYZE started during the load (it notices the inserts) holds one, and the planner, told that
  // few pages are visible, then prefers the other indexes (a test saw 0 of 8 617 pages one run in
  // three). So again, briefly, until the map covers the table.
  const professionals = table(schema, 'professionals');
  for (let round = 1; ; round++) {
    await db.query(`VACUUM (ANALYZE) ${professionals}`);
    const { rows: sizes } = await db.query<{ pages: number; visible: number }>(
      `SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE oid = $1::regclass`,
      [professionals],
    );
    if (round === VACUUM_ROUNDS || sizes[0]!.visible >= sizes[0]!.pages) break;
    await new Promise((resolve) => setTimeout(resolve, 250 * round));
  }
  return inserted;
}
