// "My bookings" and GetAppointment read through the pool, not Prisma (databasePool says why): the
// rows must be exactly Prisma's, and the pages exactly the (start, id) order with no booking twice
// or missing when several start at the same instant.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Outbox } from '@cryptocare/events';
import { prismaAdapter } from '@cryptocare/platform';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import { Prisma, PrismaClient, type Appointment } from '../src/generated/prisma';
import { AppointmentStore } from '../src/store/appointment-store';

describe('booking reads through the pool (real PostgreSQL)', () => {
  let schema: string;
  let db: PrismaClient;
  let pool: pg.Pool;
  let store: AppointmentStore;
  const patientId = randomUUID();
  const otherPatientId = randomUUID();
  const professionalId = randomUUID();

  beforeAll(async () => {
    schema = await migratedSchema('appointment');
    db = new PrismaClient({ adapter: prismaAdapter(infraUrls().databaseUrl, schema) });
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    store = new AppointmentStore(db, pool, new Outbox(schema, 'appointment'), schema);
    // Seven bookings of the patient: three at the same instant (the page boundary falls among them),
    // one with every optional column set; two of another patient in between.
    const at = (hour: number) => new Date(Date.UTC(2031, 2, 3, hour, 0, 0, 0));
    const rows: Prisma.AppointmentCreateManyInput[] = [];
    const add = (patient: string, hour: number, extra: Partial<Prisma.AppointmentCreateManyInput> = {}) =>
      rows.push({
        id: randomUUID(),
        patientId: patient,
        professionalId,
        startAt: at(hour),
        endAt: new Date(at(hour).getTime() + 1_800_000),
        status: 'cancelled',
        holdExpiresAt: at(hour - 1),
        priceAmount: new Prisma.Decimal('120.50'),
        priceCurrency: 'CHF',
        ...extra,
      });
    for (const hour of [9, 10, 10, 10, 11, 12]) add(patientId, hour);
    add(patientId, 8, {
      status: 'no_show',
      noShowBy: 'patient',
      blockedUntil: new Date(at(8).getTime() + 2_400_000),
      invoiceId: 'inv-1',
      meetingJoinUrl: 'https://zoom.example/j/1',
      meetingProvider: 'zoom',
      meetingPassword: 'pw',
      idempotencyKey: 'key-1',
      cancelReason: null,
      cancelledBy: null,
      confirmedAt: at(7),
      priceAmount: new Prisma.Decimal('99.05'),
      priceCurrency: 'EUR',
    });
    add(otherPatientId, 9);
    add(otherPatientId, 10);
    await db.appointment.createMany({ data: rows });
  });

  afterAll(async () => {
    await db.$disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** Every page of `filter`, `limit` at a time, as the RPC pages (one more row says there is a next page). */
  async function allPages(filter: { patientId?: string; professionalId?: string }, limit: number): Promise<Appointment[][]> {
    const pages: Appointment[][] = [];
    let cursor: { startAt: Date; id: string } | undefined;
    for (;;) {
      const rows = await store.list(filter, limit + 1, cursor);
      const page = rows.slice(0, limit);
      pages.push(page);
      if (rows.length <= limit) return pages;
      cursor = { startAt: page.at(-1)!.startAt, id: page.at(-1)!.id };
    }
  }

  it('reads a booking exactly as Prisma does (every column, the price as a Decimal)', async () => {
    const everything = await db.appointment.findFirstOrThrow({ where: { patientId, status: 'no_show' } });
    const read = await store.find(everything.id);
    expect(read).toEqual(everything);
    expect(read!.priceAmount).toBeInstanceOf(Prisma.Decimal);
    expect(read!.priceAmount.toFixed(2)).toBe('99.05');
    expect(await store.find(randomUUID())).toBeNull();
  });

  it('pages a patient’s bookings in (start, id) order, each once, across instants shared by several', async () => {
    const expected = await db.appointment.findMany({ where: { patientId }, orderBy: [{ startAt: 'asc' }, { id: 'asc' }] });
    expect(expected).toHaveLength(7);
    const pages = await allPages({ patientId }, 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    expect(pages.flat()).toEqual(expected);
  });

  it('pages a professional’s calendar and an admin’s view of every booking the same way', async () => {
    const calendar = await db.appointment.findMany({ where: { professionalId }, orderBy: [{ startAt: 'asc' }, { id: 'asc' }] });
    expect((await allPages({ professionalId }, 3)).flat()).toEqual(calendar);
    expect((await allPages({}, 4)).flat()).toEqual(calendar); // this schema holds only that professional's
  });
});
