// The seeded directory (scripts/seed.ts) hands search what appointment.availability_changed would
// carry without sending the events: each professional's first free slots, computed by appointment's
// seed module. Checked here against the service itself: for every seeded professional,
// publishAvailability at the seed's instant publishes exactly what search stored, and records the
// same republish time as the seed did.
import pg from 'pg';
import { decodeEnvelope, Outbox } from '@cryptocare/events';
import { prismaAdapter } from '@cryptocare/platform';
import { infraUrls, uniqueName } from '@cryptocare/testing';
import { seedDirectory } from '../../../scripts/seed';
import { PrismaClient } from '../src/generated/prisma';
import { AppointmentStore } from '../src/store/appointment-store';

const PROFESSIONALS = 150;

describe('the seeded directory against appointment (real PostgreSQL)', () => {
  const schemas = { search: uniqueName('t_seed_search'), appointment: uniqueName('t_seed_appointment') };
  const now = new Date('2030-01-07T10:17:00.000Z'); // a Monday morning: slots today and this week
  let pool: pg.Pool;
  let db: PrismaClient;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    await seedDirectory({ databaseUrl: infraUrls().databaseUrl, professionals: PROFESSIONALS, schemas, now });
    db = new PrismaClient({ adapter: prismaAdapter(infraUrls().databaseUrl, schemas.appointment) });
  });

  afterAll(async () => {
    await db.$disconnect();
    for (const schema of Object.values(schemas)) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('stores in search the free slots appointment publishes, with the same republish time', async () => {
    const store = new AppointmentStore(db, pool, new Outbox(schemas.appointment, 'appointment'), schemas.appointment);
    const { rows: seeded } = await pool.query<{ id: string; next: Date | null; later: Date[]; notice: number; moves_at: Date | null; stale_at: Date }>(
      `SELECT p.id::text AS id, p.next_available_at AS next, p.later_available_at AS later, p.minimum_notice_minutes AS notice,
              p.availability_moves_at AS moves_at, s.availability_stale_at AS stale_at
         FROM "${schemas.search}".professionals p JOIN "${schemas.appointment}".schedules s ON s.professional_id = p.id ORDER BY p.id`,
    );
    expect(seeded).toHaveLength(PROFESSIONALS);
    let withLater = 0;
    for (const row of seeded) {
      await store.write((tx) => store.publishAvailability(tx, row.id, now, true));
      const { rows } = await pool.query<{ payload: Buffer }>(
        `SELECT payload FROM "${schemas.appointment}".outbox WHERE key = $1 ORDER BY created_at DESC, id DESC LIMIT 1`,
        [row.id],
      );
      const event = (decodeEnvelope(rows[0]!.payload) as { data: { nextAvailableAt: string; laterAvailableAt: string[]; minimumNoticeMinutes: number } }).data;
      expect({ id: row.id, next: row.next?.toISOString() ?? '', later: row.later.map((at) => at.toISOString()), notice: row.notice }).toEqual({
        id: row.id,
        next: event.nextAvailableAt,
        later: event.laterAvailableAt,
        notice: event.minimumNoticeMinutes,
      });
      // search moves on when its earliest slot can no longer be booked, if it has a later one.
      expect(row.moves_at).toEqual(row.later.length > 0 ? new Date(row.next!.getTime() - row.notice * 60_000) : null);
      const { rows: after } = await pool.query<{ stale_at: Date }>(`SELECT availability_stale_at AS stale_at FROM "${schemas.appointment}".schedules WHERE professional_id = $1`, [row.id]);
      expect(after[0]!.stale_at).toEqual(row.stale_at);
      if (row.later.length > 0) withLater += 1;
    }
    // Most professionals have several free slots listed (the directory's load leaves most slots free).
    expect(withLater).toBeGreaterThan(PROFESSIONALS / 2);
  });
});
