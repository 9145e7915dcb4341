import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { appointment, search } from '@cryptocare/contracts';
import { createGrpcClient, createLogger, defineService, startGrpcServer, type GrpcClient, type RunningGrpcServer } from '@cryptocare/platform';
import { InProcessBus } from '@cryptocare/events';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import { main } from '../src/main';
import { nextMondayNine } from './support/next-monday';

const logger = createLogger('test', 'silent');


/** Two replicas of appointment sharing the real PostgreSQL schema and the real Redis, and one whose Redis is unreachable. */
describe('slots cache (real PostgreSQL + Redis, two replicas)', () => {
  let pool: pg.Pool;
  let schema: string;
  let searchServer: RunningGrpcServer;
  const services: Array<Awaited<ReturnType<typeof main>>> = [];
  const clients: Array<GrpcClient<typeof appointment, 'AppointmentService'>> = [];
  let a: GrpcClient<typeof appointment, 'AppointmentService'>;
  let b: GrpcClient<typeof appointment, 'AppointmentService'>;
  let noRedis: GrpcClient<typeof appointment, 'AppointmentService'>;
  const patientId = '0192f1a0-0000-7000-8000-0000000000a1';

  beforeAll(async () => {
    schema = await migratedSchema('appointment');
    searchServer = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      reflection: false,
      services: [
        defineService(search, 'SearchService', {
          async getProfile(req) {
            return { profile: { id: req.professionalId, verified: true, price: { amount: '120.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' } };
          },
          upsertProfile: async () => ({}),
          searchProfessionals: async () => ({}),
          verifyProfessional: async () => ({}),
          rejectProfessional: async () => ({}),
          listSpecialties: async () => ({}),
          listCountries: async () => ({}),
          listProfessionals: async () => ({}),
        }, logger),
      ],
    });
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    const env = (redisUrl: string) => ({
      DATABASE_URL: infraUrls().databaseUrl,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redisUrl,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
      SEARCH_ADDR: `127.0.0.1:${searchServer.port}`,
      HOLD_SWEEP_EVERY_MS: '60000',
    });
    // Port 1 on loopback: nothing listens, every cache command fails.
    for (const url of [infraUrls().redisUrl, infraUrls().redisUrl, 'redis://127.0.0.1:1']) {
      const service = await main(env(url), { bus: new InProcessBus() });
      services.push(service);
      clients.push(createGrpcClient(appointment, 'AppointmentService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 }));
    }
    [a, b, noRedis] = clients as [typeof a, typeof b, typeof noRedis];
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of services) await s.stop();
    await searchServer.shutdown(500);
    await pool.end();
  });

  async function professional(): Promise<string> {
    const id = randomUUID(); // Redis outlives the test schema: a fresh professional per test
    await a.setSchedule({
      schedule: { professionalId: id, timeZone: 'Europe/Zurich', rules: [{ weekday: 1, start: '09:00', end: '12:00' }], slotMinutes: 30, bufferMinutes: 0, minimumNoticeMinutes: 60, horizonDays: 60 },
    });
    return id;
  }
  const monday = nextMondayNine();
  const range = { from: monday.toISOString(), to: new Date(monday.getTime() + 3 * 3_600_000).toISOString() };
  const starts = async (client: typeof a, professionalId: string) => (await client.listSlots({ professionalId, ...range })).slots.map((s) => s.startAt);
  const at = (minutes: number) => new Date(monday.getTime() + minutes * 60_000).toISOString();
  /** Time off written behind the service's back: only a fresh read can see it. */
  const sneakTimeOff = (professionalId: string, fromMinutes: number) =>
    pool.query(`INSERT INTO "${schema}".time_off (id, professional_id, start_at, end_at) VALUES (gen_random_uuid(), $1, $2, $3)`, [professionalId, at(fromMinutes), at(fromMinutes + 30)]);

  it('serves a second identical query from the cache, on every replica', async () => {
    const id = await professional();
    const all = [0, 30, 60, 90, 120, 150].map(at);
    expect(await starts(a, id)).toEqual(all);
    await sneakTimeOff(id, 0);
    expect(await starts(a, id)).toEqual(all); // cached: the time off written behind its back is not seen
    expect(await starts(b, id)).toEqual(all); // the other replica shares the entry through Redis
  });

  it('ranges that start at different instants of the same days share one entry (a range starting "now" still hits)', async () => {
    const id = await professional();
    const later = { from: new Date(monday.getTime() + 1_234).toISOString(), to: new Date(monday.getTime() + 3 * 3_600_000 + 5_678).toISOString() };
    expect(await starts(a, id)).toHaveLength(6);
    await sneakTimeOff(id, 30);
    // Not the same range to the millisecond (its first slot starts before it), yet served from the
    // entry of those days: the time off written behind the service's back is not seen.
    expect((await a.listSlots({ professionalId: id, ...later })).slots.map((s) => s.startAt)).toEqual([30, 60, 90, 120, 150].map(at));
  });

  it('a booking on one replica is never offered again by any replica once it committed (read-your-writes)', async () => {
    const id = await professional();
    expect(await starts(a, id)).toContain(at(60));
    expect(await starts(b, id)).toContain(at(60));
    await sneakTimeOff(id, 0);
    const { appointment: held } = await a.book({ patientId, professionalId: id, startAt: at(60) });
    expect((await starts(a, id))).toEqual([30, 90, 120, 150].map(at)); // fresh: the sneaked time off shows too
    expect((await starts(b, id))).toEqual([30, 90, 120, 150].map(at));
    await expect(b.book({ patientId, professionalId: id, startAt: at(60) })).rejects.toMatchObject({ status: status.ALREADY_EXISTS, code: 'SLOT_TAKEN' });
    await b.cancelAppointment({ appointmentId: held!.id, caller: { userId: patientId, role: 'patient' }, reason: '' });
    expect(await starts(a, id)).toEqual([30, 60, 90, 120, 150].map(at)); // the cancellation frees it at once
  });

  it('a schedule change or time off makes the next query fresh', async () => {
    const id = await professional();
    expect(await starts(b, id)).toHaveLength(6);
    await sneakTimeOff(id, 150);
    await a.setSchedule({
      schedule: { professionalId: id, timeZone: 'Europe/Zurich', rules: [{ weekday: 1, start: '09:00', end: '11:00' }], slotMinutes: 30, bufferMinutes: 0, minimumNoticeMinutes: 60, horizonDays: 60 },
    });
    expect(await starts(b, id)).toEqual([0, 30, 60, 90].map(at));
    await a.addTimeOff({ professionalId: id, timeOff: { startAt: at(0), endAt: at(30), reason: '' } });
    expect(await starts(b, id)).toEqual([30, 60, 90].map(at));
    const { schedule } = await b.getSchedule({ professionalId: id });
    await b.removeTimeOff({ professionalId: id, timeOffId: schedule!.timeOff.find((t) => t.startAt === at(0))!.id });
    expect(await starts(a, id)).toEqual([0, 30, 60, 90].map(at));
  });

  it('reads through to PostgreSQL when Redis is unreachable (slower, never wrong)', async () => {
    const id = await professional();
    expect(await starts(noRedis, id)).toHaveLength(6);
    await sneakTimeOff(id, 0);
    expect(await starts(noRedis, id)).toHaveLength(5);
    await a.book({ patientId, professionalId: id, startAt: at(30) });
    expect(await starts(noRedis, id)).toEqual([60, 90, 120, 150].map(at));
  });
});
