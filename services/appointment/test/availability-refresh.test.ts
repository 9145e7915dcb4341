// search's nextAvailableAt stays true as time passes: appointment publishes a professional's first
// free slots (search moves along them as each stops being bookable) and republishes them once only
// the last is left (the booking sweeper), not at every slot that passes.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { decodeEnvelope, Outbox } from '@cryptocare/events';
import { prismaAdapter } from '@cryptocare/platform';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import { Bookings } from '../src/bookings';
import { PrismaClient } from '../src/generated/prisma';
import { AppointmentStore, NO_SLOT_RECHECK_MS, finishedConsultationsStatement } from '../src/store/appointment-store';

const professionalId = '0192f1a0-0000-7000-8000-0000000000f1';
const closedId = '0192f1a0-0000-7000-8000-0000000000f2';
const MINUTE = 60_000;

describe('earliest free slot as time passes (real PostgreSQL)', () => {
  let schema: string;
  let db: PrismaClient;
  let pool: pg.Pool;
  let store: AppointmentStore;
  let bookings: Bookings;

  beforeAll(async () => {
    schema = await migratedSchema('appointment');
    db = new PrismaClient({ adapter: prismaAdapter(infraUrls().databaseUrl, schema) });
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    store = new AppointmentStore(db, pool, new Outbox(schema, 'appointment'), schema);
    bookings = new Bookings(store, { invoiceTtlMinutes: 15, onchainMarginMinutes: 30 });
    // Every day 09:00–10:00 UTC, 30-minute slots, 60 minutes' notice; one professional with no rule
    // inside a one-day horizon on the days tested (a Sunday-only rule, horizon 1 day, from a Monday).
    const insert = `INSERT INTO "${schema}".schedules (professional_id, time_zone, rules, slot_minutes, buffer_minutes, minimum_notice_minutes, horizon_days, updated_at)
                    VALUES ($1, 'UTC', $2::jsonb, 30, 0, 60, $3, now())`;
    await pool.query(insert, [professionalId, JSON.stringify([1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '09:00', end: '10:00' }))), 30]);
    await pool.query(insert, [closedId, JSON.stringify([{ weekday: 7, start: '09:00', end: '10:00' }]), 1]);
  });

  afterAll(async () => {
    await db.$disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** The availability events published so far for a professional, oldest first. */
  async function events(id: string): Promise<Array<{ nextAvailableAt: string; laterAvailableAt: string[]; minimumNoticeMinutes: number }>> {
    const { rows } = await pool.query<{ payload: Buffer }>(`SELECT payload FROM "${schema}".outbox WHERE type = 'appointment.availability_changed' AND key = $1 ORDER BY created_at, id`, [id]);
    return rows.map((r) => (decodeEnvelope(r.payload) as { data: { nextAvailableAt: string; laterAvailableAt: string[]; minimumNoticeMinutes: number } }).data);
  }
  /** The earliest free slots published so far for a professional, oldest first. */
  const published = async (id: string) => (await events(id)).map((e) => e.nextAvailableAt);

  it('publishes the first free slots with their notice, and republishes once only the last is left, not before', async () => {
    const monday = new Date('2030-01-07T07:00:00.000Z'); // a Monday, 07:00 UTC
    await store.write((tx) => store.publishAvailability(tx, professionalId, monday));
    // Two slots a day (09:00, 09:30): Monday to Thursday.
    const days = ['07', '08', '09', '10'].flatMap((d) => [`2030-01-${d}T09:00:00.000Z`, `2030-01-${d}T09:30:00.000Z`]);
    expect(await events(professionalId)).toEqual([{ professionalId, nextAvailableAt: days[0], laterAvailableAt: days.slice(1), minimumNoticeMinutes: 60 }]);

    // Monday 08:01: 09:00 can no longer be booked (60 minutes' notice), but search moves on to
    // 09:30 itself: nothing to republish. Nor on Wednesday.
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-07T08:01:00.000Z'))).toBe(0);
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-09T08:31:00.000Z'))).toBe(0);
    expect(await published(professionalId)).toHaveLength(1);

    // Thursday 08:00: 09:00, the one before the last, can be booked exactly at the notice. 08:01: it
    // cannot; search still has 09:30 to show while the new slots travel.
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-10T08:00:00.000Z'))).toBe(0);
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-10T08:01:00.000Z'))).toBe(1);
    const [, republished] = await events(professionalId);
    expect(republished!.nextAvailableAt).toBe('2030-01-10T09:30:00.000Z');
    expect(republished!.laterAvailableAt).toEqual(['11', '12', '13', '14'].flatMap((d) => [`2030-01-${d}T09:00:00.000Z`, `2030-01-${d}T09:30:00.000Z`]).slice(0, 7));
    // Once, not on every sweep.
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-10T08:02:00.000Z'))).toBe(0);
    expect(await published(professionalId)).toHaveLength(2);
  });

  it('republishes past a booking and a time off (read afresh by the sweep)', async () => {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO "${schema}".schedules (professional_id, time_zone, rules, slot_minutes, buffer_minutes, minimum_notice_minutes, horizon_days, updated_at)
       VALUES ($1, 'UTC', $2::jsonb, 30, 0, 60, 30, now())`,
      [id, JSON.stringify([1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '09:00', end: '10:00' })))],
    );
    await store.write((tx) => store.publishAvailability(tx, id, new Date('2030-01-07T07:00:00.000Z')));
    // Thursday 09:30 and Friday taken behind the published answer's back: 09:30 booked, Friday off.
    await pool.query(
      `INSERT INTO "${schema}".appointments (id, patient_id, professional_id, start_at, end_at, status, hold_expires_at, price_amount, price_currency, updated_at)
       VALUES ($1, $2, $3, '2030-01-10T09:30:00Z', '2030-01-10T10:00:00Z', 'confirmed', '2030-01-10T09:30:00Z', 120, 'CHF', now())`,
      [randomUUID(), randomUUID(), id],
    );
    await pool.query(`INSERT INTO "${schema}".time_off (id, professional_id, start_at, end_at) VALUES ($1, $2, '2030-01-11T00:00:00Z', '2030-01-12T00:00:00Z')`, [randomUUID(), id]);
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-10T08:01:00.000Z'))).toBeGreaterThanOrEqual(1);
    expect(await published(id)).toEqual(['2030-01-07T09:00:00.000Z', '2030-01-12T09:00:00.000Z']);
  });

  it('finds ended consultations from an index, not by reading every booking (the completion sweep)', async () => {
    // 20 000 confirmed bookings to come, as a directory at scale holds: none has ended.
    await pool.query(
      `INSERT INTO "${schema}".appointments (id, patient_id, professional_id, start_at, end_at, status, hold_expires_at, price_amount, price_currency, updated_at)
       SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), t, t + interval '30 minutes', 'confirmed', t, 120, 'CHF', now()
         FROM generate_series(now() + interval '1 hour', now() + interval '400 days', interval '30 minutes') AS t`,
    );
    await pool.query(`ANALYZE "${schema}".appointments`);
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${finishedConsultationsStatement(schema)}`, [new Date(), 100]);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('appointments_confirmed_by_end');
    expect(plan).not.toContain('Seq Scan');
  });

  it('looks again later when nothing was free (the horizon moves on)', async () => {
    const monday = new Date('2030-01-07T07:00:00.000Z');
    await store.write((tx) => store.publishAvailability(tx, closedId, monday));
    expect(await published(closedId)).toEqual(['']);
    expect(await bookings.refreshPassedAvailability(new Date(monday.getTime() + NO_SLOT_RECHECK_MS - MINUTE))).toBe(0);
    // Saturday 09:01: Sunday 09:00 has come within the one-day horizon.
    expect(await bookings.refreshPassedAvailability(new Date('2030-01-12T09:01:00.000Z'))).toBeGreaterThanOrEqual(1);
    expect((await published(closedId)).at(-1)).toBe('2030-01-13T09:00:00.000Z');
  });
});
