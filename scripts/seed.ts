// `npm run seed -- --professionals 50000` (or `make seed`): a realistic directory at scale in the
// local PostgreSQL (DATABASE_URL; `make dev` with SEED_PROFESSIONALS=n does the same in its
// embedded one). Options: --professionals n (50 000), --seed n (13: the same number, the same
// directory), --booking-days n (5: days ahead carrying the booking load), --search-schema and
// --appointment-schema (the services' schemas: search, appointment).
//
// Each service stays the owner of its data: its own migrations make its schema, and its own seed
// module (services/<service>/src/seed/) writes its own tables, appointment's with its own slot
// rules. The load goes straight to the tables in multi-row statements, not through the services'
// APIs and events: 50 000 profiles, schedules and their bookings would take hours one request and
// one event at a time. What the events would carry is handed over in memory instead: appointment
// computes each professional's earliest free slots, search stores them (appointment.availability_changed).
// Not seeded: identity accounts (the professionals and patients cannot log in; the bench makes its
// own users), payments and meetings of the seeded bookings.
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '@cryptocare/platform';
import { generateDirectory, PATIENTS_PER_PROFESSIONAL, prng, seedPatients } from '@cryptocare/testing/src/directory-seed';
import { writeSeedProfessionals } from '../services/search/src/seed/seed-directory';
import { writeSeedBookings } from '../services/appointment/src/seed/seed-bookings';

export interface SeedOptions {
  databaseUrl: string;
  professionals: number;
  seed?: number;
  bookingDays?: number;
  schemas?: { search: string; appointment: string };
  now?: Date;
  log?: (line: string) => void;
}

const root = path.resolve(__dirname, '..');

export async function seedDirectory(options: SeedOptions): Promise<{ professionals: number; bookings: number; seconds: number }> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 13;
  const schemas = options.schemas ?? { search: 'search', appointment: 'appointment' };
  const now = options.now ?? new Date();
  for (const service of ['search', 'appointment'] as const) {
    await applyMigrations({ serviceDir: path.join(root, 'services', service), databaseUrl: options.databaseUrl, schema: schemas[service] });
  }
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  try {
    const directory = () => generateDirectory({ professionals: options.professionals, seed });
    log(`appointment: schedules and bookings of ${options.professionals} professionals`);
    const { availability, bookings } = await writeSeedBookings(
      pool,
      schemas.appointment,
      (function* () {
        for (const p of directory()) yield { professionalId: p.id, timeZone: p.timeZone, schedule: p.schedule, bookingLoad: p.bookingLoad, price: p.price };
      })(),
      { now, bookingDays: options.bookingDays ?? 5, patients: seedPatients(options.professionals * PATIENTS_PER_PROFESSIONAL, seed), random: prng(seed ^ 0xb00c) },
    );
    log(`appointment: ${bookings} bookings`);
    const free = new Map(availability.map((a) => [a.professionalId, a]));
    const professionals = await writeSeedProfessionals(
      pool,
      schemas.search,
      (function* () {
        for (const p of directory()) {
          const slots = free.get(p.id);
          yield { ...p, nextAvailableAt: slots?.nextAvailableAt ?? null, laterAvailableAt: slots?.laterAvailableAt, minimumNoticeMinutes: slots?.minimumNoticeMinutes };
        }
      })(),
      now,
    );
    log(`search: ${professionals} profiles`);
    return { professionals, bookings, seconds: (Date.now() - started) / 1000 };
  } finally {
    await pool.end();
  }
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

function text(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : (process.argv[at + 1] ?? fallback);
}

if (require.main === module) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error('DATABASE_URL is not set (source scripts/infra/env.sh, or `make seed`)');
    process.exit(2);
  }
  seedDirectory({
    databaseUrl,
    professionals: option('professionals', 50_000),
    seed: option('seed', 13),
    bookingDays: option('booking-days', 5),
    schemas: { search: text('search-schema', 'search'), appointment: text('appointment-schema', 'appointment') },
    log: (line) => console.log(line),
  }).then(
    (r) => console.log(`seeded ${r.professionals} professionals and ${r.bookings} bookings in ${r.seconds.toFixed(1)} s`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
