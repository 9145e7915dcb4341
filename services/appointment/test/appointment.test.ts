import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { appointment, events, search } from '@cryptocare/contracts';
import { createGrpcClient, createLogger, defineService, startGrpcServer, type GrpcClient, type RunningGrpcServer } from '@cryptocare/platform';
import { decodeEnvelope, encodeEnvelope, InProcessBus, newEvent, type DomainEvent } from '@cryptocare/events';
import { eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import { main } from '../src/main';
import { nextMondayNine } from './support/next-monday';

const logger = createLogger('test', 'silent');
const professionalId = '0192f1a0-0000-7000-8000-000000000001';
const patient = { userId: '0192f1a0-0000-7000-8000-0000000000a1', role: 'patient' };
const otherPatient = { userId: '0192f1a0-0000-7000-8000-0000000000a2', role: 'patient' };
const professional = { userId: professionalId, role: 'professional' };
/** Professionals who leave the platform (erasure) in the tests below. */
const leavingProfessionalId = '0192f1a0-0000-7000-8000-000000000002';
const closingProfessionalId = '0192f1a0-0000-7000-8000-000000000003';
/** Professionals whose two opening rules touch (09:00–09:30, 09:30–10:00): adjacent slots, with and without a buffer. */
const bufferedProfessionalId = '0192f1a0-0000-7000-8000-000000000004';
const unbufferedProfessionalId = '0192f1a0-0000-7000-8000-000000000005';
const ERASED = '00000000-0000-0000-0000-000000000000';


describe('appointment service (real PostgreSQL)', () => {
  const bus = new InProcessBus();
  const published: DomainEvent[] = [];
  const deadLettered: string[] = [];
  let pool: pg.Pool;
  let service: Awaited<ReturnType<typeof main>>;
  let searchServer: RunningGrpcServer;
  let client: GrpcClient<typeof appointment, 'AppointmentService'>;
  let schema: string;
  let verified = true;

  beforeAll(async () => {
    schema = await migratedSchema('appointment');
    // The directory is another service; here a stand-in answers GetProfile.
    searchServer = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      reflection: false,
      services: [
        defineService(search, 'SearchService', {
          async getProfile(req) {
            if (![professionalId, leavingProfessionalId, closingProfessionalId, bufferedProfessionalId, unbufferedProfessionalId].includes(req.professionalId)) throw Object.assign(new Error(), { code: status.NOT_FOUND });
            return { profile: { id: req.professionalId, verified, price: { amount: '120.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' } };
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
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 3 });
    await bus.subscribe({ groupId: 'dlq-observer', topics: ['identity.events.v1.dlq', 'payment.events.v1.dlq', 'video.events.v1.dlq'], handle: async (m) => void deadLettered.push(m.topic) });
    await bus.subscribe({
      groupId: 'observer',
      topics: ['appointment.events.v1'],
      handle: async (m) => {
        const e = decodeEnvelope(m.value);
        if ('type' in e) published.push(e);
      },
    });
    service = await main(
      {
        DATABASE_URL: infraUrls().databaseUrl,
        DATABASE_SCHEMA: schema,
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        SEARCH_ADDR: `127.0.0.1:${searchServer.port}`,
        HOLD_SWEEP_EVERY_MS: '200',
      },
      { bus },
    );
    client = createGrpcClient(appointment, 'AppointmentService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 });
    await client.setSchedule({
      schedule: {
        professionalId,
        timeZone: 'Europe/Zurich',
        rules: [{ weekday: 1, start: '09:00', end: '12:00' }, { weekday: 3, start: '14:00', end: '18:00' }],
        slotMinutes: 30,
        bufferMinutes: 10,
        minimumNoticeMinutes: 60,
        horizonDays: 60,
      },
    });
  });

  afterAll(async () => {
    await pool.end();
    client.close();
    await service.stop();
    await searchServer.shutdown(500);
  });

  it('refuses an invalid schedule with the problem code', async () => {
    await expect(
      client.setSchedule({ schedule: { professionalId, timeZone: 'Mars/Olympus', rules: [{ weekday: 1, start: '09:00', end: '12:00' }], slotMinutes: 30, horizonDays: 30 } }),
    ).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_TIME_ZONE' });
  });

  it('lists free slots as UTC instants and publishes the earliest one for search', async () => {
    const monday = nextMondayNine();
    const { slots, timeZone } = await client.listSlots({ professionalId, from: monday.toISOString(), to: new Date(monday.getTime() + 4 * 3_600_000).toISOString() });
    expect(timeZone).toBe('Europe/Zurich');
    expect(slots.map((s) => s.startAt).slice(0, 3)).toEqual([0, 40, 80].map((m) => new Date(monday.getTime() + m * 60_000).toISOString()));
    await eventually(async () => published.some((e) => e.type === 'appointment.availability_changed'));
  });

  it('holds a slot, refuses it to anyone else with SLOT_TAKEN, and replays an idempotent request', async () => {
    const start = new Date(nextMondayNine().getTime() + 40 * 60_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start, idempotencyKey: 'k-1' });
    expect(held).toMatchObject({ status: appointment.AppointmentStatus.APPOINTMENT_STATUS_HELD, startAt: start, price: { amount: '120.00', currency: 'CHF' } });
    expect(new Date(held!.holdExpiresAt).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    const again = await client.book({ patientId: patient.userId, professionalId, startAt: start, idempotencyKey: 'k-1' });
    expect(again.appointment!.id).toBe(held!.id);
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: start })).rejects.toMatchObject({ status: status.ALREADY_EXISTS, code: 'SLOT_TAKEN' });
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: new Date(Date.parse(start) + 5 * 60_000).toISOString() })).rejects.toMatchObject({
      status: status.FAILED_PRECONDITION,
      code: 'SLOT_NOT_AVAILABLE',
    });
    // The first and last instants there are: refused with a code, never an internal error.
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: '+275760-09-13T00:00:00.000Z' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_RANGE' });
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: '-271821-04-20T00:00:00.000Z' })).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'SLOT_NOT_AVAILABLE' });
    const { slots } = await client.listSlots({ professionalId, from: nextMondayNine().toISOString(), to: new Date(nextMondayNine().getTime() + 4 * 3_600_000).toISOString() });
    expect(slots.map((s) => s.startAt)).not.toContain(start);
    await eventually(async () => published.find((e) => e.type === 'appointment.held' && e.subject === held!.id));
  });

  it('lets the database decide when two patients race for one slot', async () => {
    const start = new Date(nextMondayNine().getTime() + 7 * 86_400_000 + 80 * 60_000).toISOString();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => client.book({ patientId: `0192f1a0-0000-7000-8000-0000000001${String(i).padStart(2, '0')}`, professionalId, startAt: start })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) expect(r.reason).toMatchObject({ code: 'SLOT_TAKEN' });
  });

  it('enforces the buffer in the database: of two adjacent slots booked at the same instant, one wins (without a buffer both do)', async () => {
    const touching = [{ weekday: 1, start: '09:00', end: '09:30' }, { weekday: 1, start: '09:30', end: '10:00' }];
    const base = { timeZone: 'Europe/Zurich', rules: touching, slotMinutes: 30, minimumNoticeMinutes: 60, horizonDays: 60 };
    await client.setSchedule({ schedule: { ...base, professionalId: bufferedProfessionalId, bufferMinutes: 10 } });
    await client.setSchedule({ schedule: { ...base, professionalId: unbufferedProfessionalId, bufferMinutes: 0 } });
    const race = (pro: string, monday: number) =>
      Promise.allSettled([0, 30].map((m, i) => client.book({ patientId: [patient.userId, otherPatient.userId][i]!, professionalId: pro, startAt: new Date(monday + m * 60_000).toISOString() })));
    // Several Mondays: each is one race, so a check that only the service makes would lose some.
    for (const week of [1, 2, 3, 4]) {
      const monday = nextMondayNine().getTime() + week * 7 * 86_400_000;
      const { slots } = await client.listSlots({ professionalId: bufferedProfessionalId, from: new Date(monday).toISOString(), to: new Date(monday + 3_600_000).toISOString() });
      expect(slots.map((s) => s.startAt)).toEqual([0, 30].map((m) => new Date(monday + m * 60_000).toISOString()));
      const buffered = await race(bufferedProfessionalId, monday);
      expect(buffered.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((buffered.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ status: status.ALREADY_EXISTS, code: 'SLOT_TAKEN' });
      const unbuffered = await race(unbufferedProfessionalId, monday);
      expect(unbuffered.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    }
    // The database itself refuses it, whichever side comes first.
    const monday = nextMondayNine().getTime() + 5 * 7 * 86_400_000;
    const insert = (startMinutes: number) =>
      pool.query(
        `INSERT INTO "${schema}".appointments (id, patient_id, professional_id, start_at, end_at, blocked_until, status, hold_expires_at, price_amount, price_currency, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, 'held', now() + interval '1 hour', 120, 'CHF', now())`,
        [patient.userId, bufferedProfessionalId, ...[0, 30, 40].map((m) => new Date(monday + (startMinutes + m) * 60_000))],
      );
    await insert(40);
    await expect(insert(5)).rejects.toMatchObject({ code: '23P01' }); // ends 5 min before it
    await expect(insert(75)).rejects.toMatchObject({ code: '23P01' }); // starts 5 min after it
    await expect(insert(0)).resolves.toBeDefined(); // ends exactly the buffer before
    await expect(insert(80)).resolves.toBeDefined(); // starts exactly the buffer after
  });

  it('confirms on payment, attaches the meeting, and shows a booking only to its parties', async () => {
    const start = new Date(nextMondayNine().getTime() + 14 * 86_400_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start });
    const id = held!.id;
    const deliver = async <T extends events.EventType>(topic: string, type: T, data: events.EventData<T>) => {
      const event = newEvent(type.split('.')[0]!, type, id, data);
      await bus.publish(topic, [{ key: id, value: encodeEnvelope(event), headers: {} }]);
    };
    await deliver('payment.events.v1', 'payment.confirmed', { invoiceId: 'inv-1', appointmentId: id, sats: 120_000, method: 'lightning', paidAt: new Date().toISOString() });
    await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    await deliver('video.events.v1', 'video.meeting_created', { meetingId: 'm1', appointmentId: id, provider: 'zoom', joinUrl: 'https://zoom.example/j/1', password: 'pw' });
    const ready = await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: professional })).appointment!.meeting);
    expect(ready).toMatchObject({ joinUrl: 'https://zoom.example/j/1', provider: 'zoom' });
    expect(published.filter((e) => e.subject === id).map((e) => e.type)).toEqual(['appointment.held', 'appointment.confirmed', 'appointment.meeting_ready']);
    await expect(client.getAppointment({ appointmentId: id, caller: otherPatient })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'APPOINTMENT_NOT_FOUND' });
    const mine = await client.listAppointments({ caller: otherPatient });
    expect(mine.items.map((a) => a.id)).not.toContain(id);
  });

  it('cancels: frees the slot and tells payment a refund is due when it was paid', async () => {
    const start = new Date(nextMondayNine().getTime() + 21 * 86_400_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start });
    await expect(client.cancelAppointment({ appointmentId: held!.id, caller: otherPatient, reason: 'x' })).rejects.toMatchObject({ code: 'APPOINTMENT_NOT_FOUND' });
    const { appointment: cancelled } = await client.cancelAppointment({ appointmentId: held!.id, caller: professional, reason: 'ill' });
    expect(cancelled!.status).toBe(appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED);
    const event = await eventually(async () => published.find((e) => e.type === 'appointment.cancelled' && e.subject === held!.id));
    expect(event.data).toMatchObject({ wasPaid: false, cancelledBy: 'professional' });
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: start })).resolves.toBeDefined();
  });

  it('expires an unpaid hold and releases the slot', async () => {
    const start = new Date(nextMondayNine().getTime() + 28 * 86_400_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start });
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl });
    await pool.query(`UPDATE "${schema}".appointments SET hold_expires_at = now() - interval '1 second' WHERE id = $1`, [held!.id]);
    await pool.end();
    await eventually(async () => published.find((e) => e.type === 'appointment.expired' && e.subject === held!.id));
    expect((await client.getAppointment({ appointmentId: held!.id, caller: patient })).appointment!.status).toBe(appointment.AppointmentStatus.APPOINTMENT_STATUS_EXPIRED);
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: start })).resolves.toBeDefined();
  });

  it('releases a held slot at once when its invoice expired at the provider (payment.expired); a confirmed booking keeps its slot', async () => {
    // Wednesdays 14:00 (no other test books them).
    const start = new Date(nextMondayNine().getTime() + 16 * 86_400_000 + 5 * 3_600_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start });
    // The hold would last another hour: the release comes from the invoice's expiry, not the sweeper.
    expect(Date.parse(held!.holdExpiresAt!) - Date.now()).toBeGreaterThan(30 * 60_000);
    const expired = await deliver('payment.events.v1', 'payment.expired', held!.id, { invoiceId: 'inv-expired', appointmentId: held!.id });
    await eventually(async () => published.find((e) => e.type === 'appointment.expired' && e.subject === held!.id));
    expect((await client.getAppointment({ appointmentId: held!.id, caller: patient })).appointment!.status).toBe(appointment.AppointmentStatus.APPOINTMENT_STATUS_EXPIRED);
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: start })).resolves.toBeDefined();
    expect(await processed(expired.id)).toBe(true);

    const laterStart = new Date(nextMondayNine().getTime() + 23 * 86_400_000 + 5 * 3_600_000).toISOString();
    const { appointment: paid } = await client.book({ patientId: patient.userId, professionalId, startAt: laterStart });
    await deliver('payment.events.v1', 'payment.confirmed', paid!.id, { invoiceId: 'inv-paid', appointmentId: paid!.id, sats: 1, method: 'lightning', paidAt: new Date().toISOString() });
    await eventually(async () => (await client.getAppointment({ appointmentId: paid!.id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    const late = await deliver('payment.events.v1', 'payment.expired', paid!.id, { invoiceId: 'inv-paid', appointmentId: paid!.id });
    await eventually(async () => processed(late.id));
    expect((await client.getAppointment({ appointmentId: paid!.id, caller: patient })).appointment!.status).toBe(appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    // Hostile: an event naming no appointment is consumed without effect (no dead letter).
    const junk = await deliver('payment.events.v1', 'payment.expired', 'x', { invoiceId: 'inv-x', appointmentId: 'not-a-uuid\u0000' });
    await eventually(async () => processed(junk.id));
    expect(deadLettered).toEqual([]);
  });

  it('does not book an unverified professional', async () => {
    verified = false;
    const start = new Date(nextMondayNine().getTime() + 35 * 86_400_000).toISOString();
    await expect(client.book({ patientId: patient.userId, professionalId, startAt: start })).rejects.toMatchObject({ code: 'SLOT_NOT_AVAILABLE' });
    verified = true;
  });
  it('completes a confirmed booking once its consultation has ended', async () => {
    const start = new Date(nextMondayNine().getTime() + 42 * 86_400_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start });
    const id = held!.id;
    const event = newEvent('payment', 'payment.confirmed', id, { invoiceId: 'inv-2', appointmentId: id, sats: 1, method: 'lightning', paidAt: new Date().toISOString() });
    await bus.publish('payment.events.v1', [{ key: id, value: encodeEnvelope(event), headers: {} }]);
    await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    // Not before its end…
    await new Promise((r) => setTimeout(r, 500));
    expect((await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.status).toBe(appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    // …then the sweeper completes it (the consultation is moved into the past, as time would).
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl });
    await pool.query(`UPDATE "${schema}".appointments SET start_at = now() - interval '2 hours', end_at = now() - interval '90 minutes', blocked_until = now() - interval '80 minutes' WHERE id = $1`, [id]);
    await pool.end();
    await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_COMPLETED);
    const outcomes = () => published.filter((e) => e.subject === id && (e.type === 'appointment.completed' || e.type === 'appointment.no_show')).map((e) => ({ type: e.type, data: e.data }));
    const parties = { appointmentId: id, patientId: patient.userId, professionalId };
    await eventually(async () => outcomes().length === 1);
    expect(outcomes()).toEqual([{ type: 'appointment.completed', data: { ...parties, by: 'clock' } }]);

    // Zoom's report comes after the clock: the patient never joined. It is believed over the clock…
    const meetingEnded = (patientJoined: boolean) => deliver('video.events.v1', 'video.consultation_ended', id, { meetingId: 'm-2', appointmentId: id, hostJoined: true, patientJoined, endedAt: new Date().toISOString() });
    await meetingEnded(false);
    const noShow = await eventually(async () => {
      const a = (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!;
      return a.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_NO_SHOW ? a : undefined;
    });
    expect(noShow.noShowBy).toBe('patient');
    await eventually(async () => outcomes().length === 2);
    expect(outcomes()[1]).toEqual({ type: 'appointment.no_show', data: { ...parties, noShowBy: 'patient' } });
    // …and a later report (the patient's join told late) over it.
    const late = await meetingEnded(true);
    await eventually(() => processed(late.id));
    expect((await client.getAppointment({ appointmentId: id, caller: patient })).appointment).toMatchObject({ status: appointment.AppointmentStatus.APPOINTMENT_STATUS_COMPLETED, noShowBy: '' });
    await eventually(async () => outcomes().length === 3);
    expect(outcomes()[2]).toEqual({ type: 'appointment.completed', data: { ...parties, by: 'meeting' } });
    // The same report again changes nothing and says nothing.
    const again = await meetingEnded(true);
    await eventually(() => processed(again.id));
    expect(outcomes()).toHaveLength(3);
  });
  it('moves a paid booking to another free slot: one event, the old slot free again, refusals with codes', async () => {
    // Wednesday of the second week, 14:00 Zurich (no other test books it); slots every 40 minutes (30 + the 10-minute buffer).
    const wednesday = nextMondayNine().getTime() + 9 * 86_400_000 + 5 * 3_600_000;
    const at = (minutes: number) => new Date(wednesday + minutes * 60_000).toISOString();
    const { appointment: a } = await client.book({ patientId: patient.userId, professionalId, startAt: at(0) });
    const id = a!.id;
    await deliver('payment.events.v1', 'payment.confirmed', id, { invoiceId: 'inv-move', appointmentId: id, sats: 1, method: 'lightning', paidAt: new Date().toISOString() });
    await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    const { appointment: other } = await client.book({ patientId: otherPatient.userId, professionalId, startAt: at(160) });
    const move = (who: typeof patient, appointmentId: string, startAt: string) => client.rescheduleAppointment({ appointmentId, caller: who, startAt });

    await expect(move(otherPatient, other!.id, at(60))).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'NOT_RESCHEDULABLE' }); // held, unpaid
    await expect(move(otherPatient, id, at(60))).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'APPOINTMENT_NOT_FOUND' });
    await expect(move(patient, id, at(160))).rejects.toMatchObject({ status: status.ALREADY_EXISTS, code: 'SLOT_TAKEN' });
    await expect(move(patient, id, at(10))).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'SLOT_NOT_AVAILABLE' }); // not on the grid
    await expect(move(patient, id, at(-24 * 60))).rejects.toMatchObject({ code: 'SLOT_NOT_AVAILABLE' }); // Tuesday: no hours
    await expect(move(patient, id, '2026-13-45T99:00:00Z\u0000')).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_TIME' });
    await expect(move(patient, id, '+275760-09-13T00:00:00.000Z')).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_RANGE' }); // its end is past the last instant there is

    // The patient's five identical requests at the same instant: one move, one event, five answers.
    const answers = await Promise.all(Array.from({ length: 5 }, () => move(patient, id, at(80))));
    expect(answers.map((r) => r.appointment!.startAt)).toEqual(Array(5).fill(at(80)));
    expect(answers[0]!.appointment).toMatchObject({ status: appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, endAt: at(110) });
    const moves = () => published.filter((e) => e.subject === id && e.type === 'appointment.rescheduled');
    await eventually(async () => moves().length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(moves().map((e) => e.data)).toEqual([{ appointmentId: id, patientId: patient.userId, professionalId, previousStartAt: at(0), startAt: at(80), endAt: at(110), rescheduledBy: 'patient' }]);

    // The old time is free for someone else; the new one is not.
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: at(0) })).resolves.toBeDefined();
    await expect(client.book({ patientId: otherPatient.userId, professionalId, startAt: at(80) })).rejects.toMatchObject({ code: 'SLOT_TAKEN' });
    // The professional may move it too; once it has started, nobody can.
    await expect(move(professional, id, at(40))).resolves.toMatchObject({ appointment: { startAt: at(40) } });
    await pool.query(`UPDATE "${schema}".appointments SET start_at = now() - interval '1 minute', end_at = now() + interval '29 minutes', blocked_until = now() + interval '39 minutes' WHERE id = $1`, [id]);
    await expect(move(patient, id, at(80))).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'RESCHEDULE_TOO_LATE' });
  });

  /** Delivers an event to the service as another service would publish it. */
  async function deliver<T extends events.EventType>(topic: string, type: T, subject: string, data: events.EventData<T>) {
    const event = newEvent(type.split('.')[0]!, type, subject, data);
    await bus.publish(topic, [{ key: subject, value: encodeEnvelope(event), headers: {} }]);
    return event;
  }

  async function processed(eventId: string) {
    const { rows } = await pool.query(`SELECT 1 FROM "${schema}".processed_events WHERE consumer = 'appointment' AND event_id = $1`, [eventId]);
    return rows.length > 0;
  }

  async function scheduleFor(id: string) {
    await client.setSchedule({
      schedule: { professionalId: id, timeZone: 'Europe/Zurich', rules: [{ weekday: 1, start: '09:00', end: '12:00' }], slotMinutes: 30, bufferMinutes: 0, minimumNoticeMinutes: 60, horizonDays: 60 },
    });
  }

  it('answers identical bookings sent at the same instant (same Idempotency-Key) with one and the same booking', async () => {
    const start = new Date(nextMondayNine().getTime() + 49 * 86_400_000 + 120 * 60_000).toISOString();
    const key = `same-instant-${Math.random()}`;
    const answers = await Promise.allSettled(Array.from({ length: 8 }, () => client.book({ patientId: patient.userId, professionalId, startAt: start, idempotencyKey: key })));
    const failures = answers.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => (a.reason as Error).message);
    expect(failures).toEqual([]);
    const ids = answers.map((a) => (a as PromiseFulfilledResult<appointment.BookResponse>).value.appointment!.id);
    expect(new Set(ids).size).toBe(1);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".appointments WHERE idempotency_key = $1`, [key]);
    expect(rows[0].n).toBe(1);
  });

  it('exports a booking with who cancelled it, and its Idempotency-Key to its patient only', async () => {
    const start = new Date(nextMondayNine().getTime() + 42 * 86_400_000 + 80 * 60_000).toISOString();
    const exporter = { userId: '0192f1a0-0000-7000-8000-0000000000c1', role: 'patient' };
    const { appointment: held } = await client.book({ patientId: exporter.userId, professionalId, startAt: start, idempotencyKey: 'export-key' });
    await client.cancelAppointment({ appointmentId: held!.id, caller: exporter, reason: 'changed my mind' });
    const mine = await client.exportAppointments({ caller: exporter, limit: 100 });
    expect(mine.items).toEqual([
      { appointment: expect.objectContaining({ id: held!.id, cancelReason: 'changed my mind', status: appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED }), cancelledBy: 'patient', idempotencyKey: 'export-key' },
    ]);
    const calendar: appointment.AppointmentRecord[] = [];
    let cursor = '';
    do {
      const page = await client.exportAppointments({ caller: professional, limit: 2, cursor });
      calendar.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(calendar.find((r) => r.appointment!.id === held!.id)).toMatchObject({ cancelledBy: 'patient', idempotencyKey: '' });
    await expect(client.exportAppointments({ caller: { userId: 'x', role: 'patient' } })).rejects.toMatchObject({ code: 'INVALID_CALLER' });
  });

  it('erases two patients who used the same Idempotency-Key: no collision, no dead letter, nothing they wrote stays', async () => {
    const monday = nextMondayNine().getTime() + 49 * 86_400_000;
    const first = '0192f1a0-0000-7000-8000-0000000000b1';
    const second = '0192f1a0-0000-7000-8000-0000000000b2';
    const key = `shared-key-${Math.random()}`;
    const a = (await client.book({ patientId: first, professionalId, startAt: new Date(monday).toISOString(), idempotencyKey: key })).appointment!;
    const b = (await client.book({ patientId: second, professionalId, startAt: new Date(monday + 40 * 60_000).toISOString(), idempotencyKey: key })).appointment!;
    await client.cancelAppointment({ appointmentId: a.id, caller: { userId: first, role: 'patient' }, reason: 'my private reason' });
    await client.cancelAppointment({ appointmentId: b.id, caller: professional, reason: 'about that patient' });
    const erasures = [await deliver('identity.events.v1', 'identity.user_erased', first, { userId: first }), await deliver('identity.events.v1', 'identity.user_erased', second, { userId: second })];
    await eventually(async () => (await Promise.all(erasures.map((e) => processed(e.id)))).every(Boolean), 15_000);
    const { rows } = await pool.query(`SELECT patient_id::text, idempotency_key, cancel_reason, cancelled_by, status FROM "${schema}".appointments WHERE id = ANY($1::uuid[]) ORDER BY id`, [[a.id, b.id]]);
    // The professional's calendar keeps both bookings (who cancelled, when), without the patients.
    expect(rows).toEqual([
      { patient_id: ERASED, idempotency_key: null, cancel_reason: null, cancelled_by: 'patient', status: 'cancelled' },
      { patient_id: ERASED, idempotency_key: null, cancel_reason: null, cancelled_by: 'professional', status: 'cancelled' },
    ]);
    expect(deadLettered).toEqual([]);
  });

  it("a professional's erasure cancels their open bookings (refund for the paid one, meeting link gone) and leaves nothing of them", async () => {
    await scheduleFor(leavingProfessionalId);
    await client.addTimeOff({ professionalId: leavingProfessionalId, timeOff: { startAt: new Date(Date.now() + 90 * 86_400_000).toISOString(), endAt: new Date(Date.now() + 91 * 86_400_000).toISOString(), reason: 'my own holiday' } });
    const monday = nextMondayNine().getTime() + 7 * 86_400_000;
    const pro = { userId: leavingProfessionalId, role: 'professional' };
    const paid = (await client.book({ patientId: patient.userId, professionalId: leavingProfessionalId, startAt: new Date(monday).toISOString() })).appointment!;
    const held = (await client.book({ patientId: otherPatient.userId, professionalId: leavingProfessionalId, startAt: new Date(monday + 30 * 60_000).toISOString() })).appointment!;
    const byPatient = (await client.book({ patientId: otherPatient.userId, professionalId: leavingProfessionalId, startAt: new Date(monday + 60 * 60_000).toISOString() })).appointment!;
    const byProfessional = (await client.book({ patientId: otherPatient.userId, professionalId: leavingProfessionalId, startAt: new Date(monday + 90 * 60_000).toISOString() })).appointment!;
    await client.cancelAppointment({ appointmentId: byPatient.id, caller: otherPatient, reason: 'the patient wrote this' });
    await client.cancelAppointment({ appointmentId: byProfessional.id, caller: pro, reason: 'the professional wrote this' });
    await deliver('payment.events.v1', 'payment.confirmed', paid.id, { invoiceId: 'inv-leaving', appointmentId: paid.id, sats: 1, method: 'lightning', paidAt: new Date().toISOString() });
    await eventually(async () => (await client.getAppointment({ appointmentId: paid.id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    await deliver('video.events.v1', 'video.meeting_created', paid.id, { meetingId: 'm-leaving', appointmentId: paid.id, provider: 'zoom', joinUrl: 'https://zoom.example/j/leaving', password: 'pw' });
    await eventually(async () => (await client.getAppointment({ appointmentId: paid.id, caller: patient })).appointment!.meeting);

    const erasure = await deliver('identity.events.v1', 'identity.user_erased', leavingProfessionalId, { userId: leavingProfessionalId });
    await eventually(() => processed(erasure.id), 15_000);

    const seen = (await client.getAppointment({ appointmentId: paid.id, caller: patient })).appointment!;
    expect(seen).toMatchObject({ status: appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED, cancelReason: 'professional left', professionalId: ERASED });
    expect(seen.meeting).toBeUndefined();
    // Payment records the refund and video deletes the meeting from this event.
    const cancelled = await eventually(async () => published.filter((e) => e.type === 'appointment.cancelled' && [paid.id, held.id].includes(e.subject)));
    expect(Object.fromEntries(cancelled.map((e) => [e.subject, e.data]))).toEqual({
      [paid.id]: { appointmentId: paid.id, reason: 'professional left', wasPaid: true, cancelledBy: 'system' },
      [held.id]: { appointmentId: held.id, reason: 'professional left', wasPaid: false, cancelledBy: 'system' },
    });
    const { rows } = await pool.query(
      `SELECT id::text, professional_id::text, status, cancel_reason FROM "${schema}".appointments WHERE id = ANY($1::uuid[])`,
      [[paid.id, held.id, byPatient.id, byProfessional.id]],
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, r]))).toEqual({
      [paid.id]: { id: paid.id, professional_id: ERASED, status: 'cancelled', cancel_reason: 'professional left' },
      [held.id]: { id: held.id, professional_id: ERASED, status: 'cancelled', cancel_reason: 'professional left' },
      // What the patient wrote is the patient's; what the professional wrote goes with them.
      [byPatient.id]: { id: byPatient.id, professional_id: ERASED, status: 'cancelled', cancel_reason: 'the patient wrote this' },
      [byProfessional.id]: { id: byProfessional.id, professional_id: ERASED, status: 'cancelled', cancel_reason: null },
    });
    const leftovers = await pool.query(
      `SELECT (SELECT count(*) FROM "${schema}".appointments WHERE professional_id = $1)::int AS bookings,
              (SELECT count(*) FROM "${schema}".schedules WHERE professional_id = $1)::int AS schedules,
              (SELECT count(*) FROM "${schema}".time_off WHERE professional_id = $1)::int AS time_off`,
      [leavingProfessionalId],
    );
    expect(leftovers.rows[0]).toEqual({ bookings: 0, schedules: 0, time_off: 0 });
    // A payment landing afterwards for the released hold is owed back, never confirmed.
    await deliver('payment.events.v1', 'payment.confirmed', held.id, { invoiceId: 'inv-late', appointmentId: held.id, sats: 1, method: 'lightning', paidAt: new Date().toISOString() });
    const refund = await eventually(async () => published.find((e) => e.type === 'appointment.cancelled' && e.subject === held.id && (e.data as { wasPaid?: boolean }).wasPaid));
    expect(refund.data).toMatchObject({ cancelledBy: 'system', wasPaid: true });
    expect((await client.getAppointment({ appointmentId: held.id, caller: otherPatient })).appointment!.status).toBe(appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED);
    expect(deadLettered).toEqual([]);
  });

  it('a cancelled booking shows no meeting link any more', async () => {
    const start = new Date(nextMondayNine().getTime() + 49 * 86_400_000 + 80 * 60_000).toISOString();
    const { appointment: held } = await client.book({ patientId: patient.userId, professionalId, startAt: start });
    const id = held!.id;
    await deliver('payment.events.v1', 'payment.confirmed', id, { invoiceId: 'inv-3', appointmentId: id, sats: 1, method: 'lightning', paidAt: new Date().toISOString() });
    await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.status === appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED);
    await deliver('video.events.v1', 'video.meeting_created', id, { meetingId: 'm3', appointmentId: id, provider: 'zoom', joinUrl: 'https://zoom.example/j/3', password: 'pw' });
    await eventually(async () => (await client.getAppointment({ appointmentId: id, caller: patient })).appointment!.meeting);
    const { appointment: cancelled } = await client.cancelAppointment({ appointmentId: id, caller: patient, reason: '' });
    expect(cancelled).toMatchObject({ status: appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED, meeting: undefined });
  });

  it('does not hold a slot of a professional whose schedule is being erased at that moment', async () => {
    await scheduleFor(closingProfessionalId);
    const start = new Date(nextMondayNine().getTime() + 7 * 86_400_000).toISOString();
    // The erasure's transaction has removed the schedule but not committed yet when the booking arrives.
    const erasing = await pool.connect();
    try {
      await erasing.query('BEGIN');
      await erasing.query(`DELETE FROM "${schema}".schedules WHERE professional_id = $1`, [closingProfessionalId]);
      const booking = client.book({ patientId: patient.userId, professionalId: closingProfessionalId, startAt: start });
      booking.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      await erasing.query('COMMIT');
      await expect(booking).rejects.toMatchObject({ code: 'SLOT_NOT_AVAILABLE' });
    } finally {
      erasing.release();
    }
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".appointments WHERE professional_id = $1`, [closingProfessionalId]);
    expect(rows[0].n).toBe(0);
  });

  it('a repair migration removes what people wrote from bookings erased before (keys, their cancel reasons)', async () => {
    const insert = (id: string, patientId: string, key: string | null, reason: string | null, by: string | null) =>
      pool.query(
        `INSERT INTO "${schema}".appointments (id, patient_id, professional_id, start_at, end_at, status, hold_expires_at, price_amount, price_currency, idempotency_key, cancel_reason, cancelled_by, updated_at)
         VALUES ($1, $2, $3, now(), now() + interval '30 minutes', 'cancelled', now(), 120, 'CHF', $4, $5, $6, now())`,
        [id, patientId, professionalId, key, reason, by],
      );
    const ids = ['0192f1a0-0000-7000-8000-0000000000d1', '0192f1a0-0000-7000-8000-0000000000d2', '0192f1a0-0000-7000-8000-0000000000d3'];
    await insert(ids[0]!, ERASED, 'old-key-1', 'what the patient typed', 'patient');
    await insert(ids[1]!, ERASED, 'old-key-2', 'payment arrived too late: SLOT_TAKEN', 'system');
    await insert(ids[2]!, patient.userId, 'kept-key', 'kept reason', 'patient');
    const sql = readFileSync(path.join(__dirname, '../prisma/migrations/20261201040000_scrub_erased_bookings/migration.sql'), 'utf8');
    const connection = await pool.connect();
    try {
      await connection.query(`SET search_path TO "${schema}"`);
      await connection.query(sql);
    } finally {
      await connection.query('RESET search_path');
      connection.release();
    }
    const { rows } = await pool.query(`SELECT id::text, idempotency_key, cancel_reason FROM "${schema}".appointments WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
    expect(rows).toEqual([
      { id: ids[0], idempotency_key: null, cancel_reason: null },
      { id: ids[1], idempotency_key: null, cancel_reason: 'payment arrived too late: SLOT_TAKEN' },
      { id: ids[2], idempotency_key: 'kept-key', cancel_reason: 'kept reason' },
    ]);
  });
});
