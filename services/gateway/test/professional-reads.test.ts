import { randomUUID } from 'node:crypto';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import { appointment, search } from '@cryptocare/contracts';
import { standInGateway } from './support/stand-in-gateway';

/**
 * The reads of the professional's and the admin's screens (my profile, schedule and absences; the
 * verification queue), against stand-in backends: who may read what, and what is asked of whom.
 */
describe('reads of the professional and admin screens', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  beforeAll(async () => {
    g = await standInGateway();
  });
  afterAll(() => g.close());
  beforeEach(() => g.reset());

  const professionalId = randomUUID();
  const declared = search.Profile.fromPartial({
    id: professionalId,
    displayName: 'Dr. Lea Rossi',
    specialties: ['pediatrics'],
    languages: ['it', 'de'],
    country: 'CH',
    city: 'Lugano',
    latitude: 46.0,
    longitude: 8.95,
    price: { amount: '90.00', currency: 'CHF' },
    consultationMinutes: 20,
    timeZone: 'Europe/Zurich',
    bio: 'Pediatra',
    verified: false,
  });
  const get = async (url: string, role?: string, headers: Record<string, string> = {}) =>
    g.app.inject({ method: 'GET', url, headers: { ...headers, ...(role ? { authorization: `Bearer ${await g.sign(role === 'professional' ? professionalId : randomUUID(), role)}` } : {}) } });

  it('gives a professional their own profile, unverified included, and 404 before they made one', async () => {
    g.behaviour['search.getProfile'] = async () => ({ profile: declared });
    const mine = await get('/v1/professionals/me', 'professional', { 'accept-language': 'de' });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ id: professionalId, verified: false, specialties: ['pediatrics'], specialtyNames: ['Pädiatrie'], bio: 'Pediatra', review: { state: 'pending', reason: null, at: null } });
    expect(g.calls).toEqual([{ method: 'search.getProfile', request: { professionalId, includeUnverified: true } }]);

    g.behaviour['search.getProfile'] = async () => {
      throw new AppError(GrpcStatus.NOT_FOUND, 'PROFESSIONAL_NOT_FOUND', 'no such professional');
    };
    const none = await get('/v1/professionals/me', 'professional');
    expect([none.statusCode, none.json().error.code]).toEqual([404, 'PROFESSIONAL_NOT_FOUND']);
  });

  it('gives a professional their schedule and absences; no schedule yet: 404 and no absence', async () => {
    const timeOff = { id: randomUUID(), startAt: '2026-12-24T00:00:00.000Z', endAt: '2026-12-27T00:00:00.000Z', reason: 'holidays' };
    const schedule = { professionalId, timeZone: 'Europe/Zurich', rules: [{ weekday: 2, start: '08:00', end: '12:00' }], slotMinutes: 20, bufferMinutes: 0, minimumNoticeMinutes: 60, horizonDays: 30, timeOff: [timeOff] };
    g.behaviour['appointment.getSchedule'] = async () => ({ schedule });
    expect((await get('/v1/professionals/me/schedule', 'professional')).json()).toEqual(schedule);
    expect((await get('/v1/professionals/me/time-off', 'professional')).json()).toEqual({ items: [{ id: timeOff.id, start: timeOff.startAt, end: timeOff.endAt, reason: 'holidays' }] });
    expect(g.calls.map((c) => c.request)).toEqual([{ professionalId }, { professionalId }]);

    g.behaviour['appointment.getSchedule'] = async () => {
      throw new AppError(GrpcStatus.NOT_FOUND, 'SCHEDULE_NOT_FOUND', 'this professional has no schedule');
    };
    const none = await get('/v1/professionals/me/schedule', 'professional');
    expect([none.statusCode, none.json().error.code]).toEqual([404, 'SCHEDULE_NOT_FOUND']);
    expect((await get('/v1/professionals/me/time-off', 'professional')).json()).toEqual({ items: [] });
  });

  it('gives admins the verification queue, paged, with what each professional declared', async () => {
    g.behaviour['search.listProfessionals'] = async () => ({
      items: [{ profile: declared, submittedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T11:00:00.000Z' }],
      nextCursor: 'next-page',
    });
    const queue = await get('/v1/admin/professionals?limit=1', 'admin', { 'accept-language': 'it' });
    expect(queue.statusCode).toBe(200);
    expect(queue.json()).toEqual({
      items: [{ profile: expect.objectContaining({ id: professionalId, displayName: 'Dr. Lea Rossi', specialtyNames: ['Pediatria'], city: 'Lugano', price: { amount: '90.00', currency: 'CHF' }, bio: 'Pediatra', verified: false }), submittedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T11:00:00.000Z' }],
      nextCursor: 'next-page',
    });
    expect(queue.headers['cache-control']).toBe('no-store, private');
    await get('/v1/admin/professionals?status=verified&cursor=next-page', 'admin');
    await get('/v1/admin/professionals?status=rejected', 'admin');
    expect(g.calls.map((c) => c.request)).toEqual([
      { verified: false, state: 'pending', limit: 1, cursor: '' },
      { verified: true, state: 'verified', limit: 20, cursor: 'next-page' },
      { verified: false, state: 'rejected', limit: 20, cursor: '' },
    ]);
  });

  describe("the calendar: each booking with its patient's name (identity's GetDisplayNames, one call per page)", () => {
    const [ada, bo, cy] = [randomUUID(), randomUUID(), randomUUID()];
    const ERASED = '00000000-0000-0000-0000-000000000000';
    const colleagueId = randomUUID();
    const booking = (patientId: string, professional: string, startAt: string) =>
      appointment.Appointment.fromPartial({ id: randomUUID(), patientId, professionalId: professional, startAt, endAt: startAt.replace('T08:00', 'T08:20'), status: appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED });
    const mine = [booking(ada, professionalId, '2026-12-07T08:00:00.000Z'), booking(bo, professionalId, '2026-12-08T08:00:00.000Z'), booking(ERASED, professionalId, '2026-12-09T08:00:00.000Z'), booking(ada, professionalId, '2026-12-10T08:00:00.000Z')];
    const theirs = [booking(cy, colleagueId, '2026-12-07T08:00:00.000Z')];
    /** As appointment answers: each caller gets their own bookings (a patient theirs, a professional their calendar). */
    const appointmentAnswersByCaller = () => {
      const all = [...mine, ...theirs];
      const own = (c: { userId: string; role: string }) => all.filter((a) => (c.role === 'patient' ? a.patientId === c.userId : c.role === 'professional' ? a.professionalId === c.userId : true));
      g.behaviour['appointment.listAppointments'] = async (req) => ({ items: own(req.caller), nextCursor: '' });
      g.behaviour['appointment.getAppointment'] = async (req) => {
        const found = own(req.caller).find((a) => a.id === req.appointmentId);
        if (!found) throw new AppError(GrpcStatus.NOT_FOUND, 'APPOINTMENT_NOT_FOUND', 'no such appointment');
        return { appointment: found };
      };
      g.behaviour['payment.getInvoice'] = async () => {
        throw new AppError(GrpcStatus.NOT_FOUND, 'INVOICE_NOT_FOUND', 'none');
      };
      // identity knows Ada and Bo (Cy too); the erased placeholder names nobody.
      g.behaviour['identity.getDisplayNames'] = async (req) => ({ names: Object.fromEntries(req.userIds.flatMap((id: string) => (id === ada ? [[id, 'Ada Lovelace']] : id === bo ? [[id, 'Bo Berg']] : id === cy ? [[id, 'Cy Cole']] : []))) });
    };
    const as = async (userId: string, role: string) => ({ authorization: `Bearer ${await g.sign(userId, role)}` });
    const nameCalls = () => g.calls.filter((c) => c.method === 'identity.getDisplayNames').map((c) => c.request);

    it("gives a professional their bookings' patients' names in one batch, an erased patient as null", async () => {
      appointmentAnswersByCaller();
      const res = await g.app.inject({ method: 'GET', url: '/v1/appointments?limit=100', headers: await as(professionalId, 'professional') });
      expect(res.statusCode).toBe(200);
      expect(res.json().items.map((a: { patientId: string; patientName: string | null }) => [a.patientId, a.patientName])).toEqual([
        [ada, 'Ada Lovelace'],
        [bo, 'Bo Berg'],
        [ERASED, null],
        [ada, 'Ada Lovelace'],
      ]);
      // One call for the page, each patient once, the placeholder never asked about.
      expect(nameCalls()).toEqual([{ callerId: professionalId, userIds: [ada, bo] }]);
      // One booking opened: its patient's name too.
      const one = await g.app.inject({ method: 'GET', url: `/v1/appointments/${mine[1]!.id}`, headers: await as(professionalId, 'professional') });
      expect(one.json().appointment).toMatchObject({ patientId: bo, patientName: 'Bo Berg' });
      const erased = await g.app.inject({ method: 'GET', url: `/v1/appointments/${mine[2]!.id}`, headers: await as(professionalId, 'professional') });
      expect(erased.json().appointment).toMatchObject({ patientId: ERASED, patientName: null });
      expect(nameCalls()).toHaveLength(2);
    });

    it("another professional gets neither these bookings nor their patients' names; a patient's list names nobody", async () => {
      appointmentAnswersByCaller();
      const colleague = await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: await as(colleagueId, 'professional') });
      expect(colleague.json().items.map((a: { patientName: string }) => a.patientName)).toEqual(['Cy Cole']);
      expect(JSON.stringify(colleague.json())).not.toMatch(/Ada|Bo Berg/);
      const opened = await g.app.inject({ method: 'GET', url: `/v1/appointments/${mine[0]!.id}`, headers: await as(colleagueId, 'professional') });
      expect([opened.statusCode, opened.json().error.code]).toEqual([404, 'APPOINTMENT_NOT_FOUND']);
      expect(nameCalls()).toEqual([{ callerId: colleagueId, userIds: [cy] }]);

      // A patient: their own list and booking, with no name at all (a forged role header changes nothing).
      g.calls.length = 0;
      const patient = await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: { ...(await as(ada, 'patient')), 'x-role': 'professional', 'x-user-role': 'admin' } });
      expect(patient.statusCode).toBe(200);
      expect(patient.json().items).toHaveLength(2);
      for (const item of patient.json().items) expect(item).not.toHaveProperty('patientName');
      const own = await g.app.inject({ method: 'GET', url: `/v1/appointments/${mine[0]!.id}`, headers: await as(ada, 'patient') });
      expect(own.json().appointment).not.toHaveProperty('patientName');
      expect(nameCalls()).toEqual([]);
    });

    it('names no patient of a booking that is not the professional\'s, even if appointment listed it', async () => {
      appointmentAnswersByCaller();
      g.behaviour['appointment.listAppointments'] = async () => ({ items: [...mine.slice(0, 1), ...theirs], nextCursor: '' });
      const res = await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: await as(professionalId, 'professional') });
      expect(res.json().items.map((a: { patientName?: string }) => a.patientName)).toEqual(['Ada Lovelace', undefined]);
      expect(nameCalls()).toEqual([{ callerId: professionalId, userIds: [ada] }]);
    });

    it('an admin gets the names of any booking; identity unreachable leaves the calendar without names, never a 500', async () => {
      appointmentAnswersByCaller();
      const admin = randomUUID();
      const all = await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: await as(admin, 'admin') });
      expect(all.json().items.map((a: { patientName: string | null }) => a.patientName)).toEqual(['Ada Lovelace', 'Bo Berg', null, 'Ada Lovelace', 'Cy Cole']);
      expect(nameCalls()).toEqual([{ callerId: admin, userIds: [ada, bo, cy] }]);

      g.behaviour['identity.getDisplayNames'] = async () => {
        throw new AppError(GrpcStatus.UNAVAILABLE, 'UNAVAILABLE', 'identity down');
      };
      const without = await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: await as(professionalId, 'professional') });
      expect(without.statusCode).toBe(200);
      expect(without.json().items).toHaveLength(4);
      for (const item of without.json().items) expect(item).not.toHaveProperty('patientName');
    });

    it('refuses hostile list parameters before asking appointment or identity', async () => {
      appointmentAnswersByCaller();
      const headers = await as(professionalId, 'professional');
      for (const query of ['limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'limit=1e9', 'limit=%00', `cursor=${'x'.repeat(301)}`, 'cursor=a%00b', 'limit=1&limit=2']) {
        const res = await g.app.inject({ method: 'GET', url: `/v1/appointments?${query}`, headers });
        expect([query, res.statusCode, typeof res.json().error.code]).toEqual([query, 400, 'string']);
      }
      expect(g.calls.filter((c) => c.method !== 'identity.getConsents')).toEqual([]);
      // A cursor appointment refuses is a 400 too, and no name is asked for.
      g.behaviour['appointment.listAppointments'] = async () => {
        throw new AppError(GrpcStatus.INVALID_ARGUMENT, 'INVALID_CURSOR', 'cursor is not valid');
      };
      const forged = await g.app.inject({ method: 'GET', url: '/v1/appointments?cursor=WyJub3BlIl0', headers });
      expect([forged.statusCode, forged.json().error.code]).toEqual([400, 'INVALID_CURSOR']);
      expect(nameCalls()).toEqual([]);
    });
  });

  it('refuses the wrong role, no token and bad parameters before asking any backend', async () => {
    const refusals = [
      [await get('/v1/professionals/me', 'patient'), 403],
      [await get('/v1/professionals/me/schedule', 'admin'), 403],
      [await get('/v1/professionals/me/time-off'), 401],
      [await get('/v1/admin/professionals', 'professional'), 403],
      [await get('/v1/admin/professionals'), 401],
      [await get('/v1/admin/professionals?status=everything', 'admin'), 400],
      [await get('/v1/admin/professionals?limit=0', 'admin'), 400],
      [await get('/v1/admin/professionals?limit=1000', 'admin'), 400],
      [await get(`/v1/admin/professionals?cursor=${'x'.repeat(201)}`, 'admin'), 400],
      [await get('/v1/admin/professionals?cursor=%00', 'admin'), 400],
      [await get('/v1/admin/professionals?extra=1', 'admin'), 400],
    ] as const;
    expect(refusals.map(([res, status]) => [res.statusCode, status])).toEqual(refusals.map(([, status]) => [status, status]));
    expect(g.calls).toEqual([]);
  });

  describe('POST /v1/admin/professionals/{id}/reject', () => {
    const rejectedAt = '2026-12-01T09:30:00.000Z';
    const rejected = search.Profile.fromPartial({ ...declared, review: { state: 'rejected', reason: 'Diploma unreadable.', decidedAt: rejectedAt, decidedBy: randomUUID() } });
    const reject = async (id: string, body: unknown, role?: string, contentType = 'application/json') =>
      g.app.inject({
        method: 'POST',
        url: `/v1/admin/professionals/${id}/reject`,
        headers: { 'content-type': contentType, ...(role ? { authorization: `Bearer ${await g.sign(role === 'professional' ? professionalId : randomUUID(), role)}` } : {}) },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      });

    it('rejects with the reason for the admin who asks; the professional reads it on their own profile, never on the public one', async () => {
      g.behaviour['search.rejectProfessional'] = async () => ({ profile: rejected });
      const adminToken = await g.sign(randomUUID(), 'admin');
      const res = await g.app.inject({ method: 'POST', url: `/v1/admin/professionals/${professionalId}/reject`, headers: { authorization: `Bearer ${adminToken}` }, payload: { reason: 'Diploma unreadable.' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: professionalId, verified: false, review: { state: 'rejected', reason: 'Diploma unreadable.', at: rejectedAt } });
      expect(JSON.stringify(res.json())).not.toContain('decidedBy');
      const [call] = g.calls;
      expect(call).toEqual({ method: 'search.rejectProfessional', request: { professionalId, adminId: expect.any(String), reason: 'Diploma unreadable.' } });

      g.behaviour['search.getProfile'] = async () => ({ profile: rejected });
      expect((await get('/v1/professionals/me', 'professional')).json().review).toEqual({ state: 'rejected', reason: 'Diploma unreadable.', at: rejectedAt });
      // Were search ever to answer a public read with it, the reason would still not be shown.
      const publicRead = await get(`/v1/professionals/${professionalId}`);
      expect(publicRead.statusCode).toBe(200);
      expect(publicRead.json()).not.toHaveProperty('review');
    });

    it('maps what search refuses: a blank reason 400, an unknown professional 404, a verified one 409 ALREADY_VERIFIED', async () => {
      const refusals: Array<[AppError, number]> = [
        [new AppError(GrpcStatus.INVALID_ARGUMENT, 'INVALID_REASON', 'a rejection needs a reason'), 400],
        [new AppError(GrpcStatus.NOT_FOUND, 'PROFESSIONAL_NOT_FOUND', 'no such professional'), 404],
        [new AppError(GrpcStatus.FAILED_PRECONDITION, 'ALREADY_VERIFIED', 'this professional is verified already'), 409],
      ];
      for (const [error, statusCode] of refusals) {
        g.behaviour['search.rejectProfessional'] = async () => {
          throw error;
        };
        const res = await reject(randomUUID(), { reason: ' \n ' }, 'admin');
        expect([res.statusCode, res.json().error.code]).toEqual([statusCode, error.code]);
      }
    });

    it('refuses hostile input and the wrong people before asking search', async () => {
      const id = randomUUID();
      const cases: Array<[string, Awaited<ReturnType<typeof reject>>, number, string?]> = [
        ['a NUL byte', await reject(id, { reason: 'bad\u0000reason' }, 'admin'), 400, 'INVALID_CHARACTERS'],
        ['an empty reason', await reject(id, { reason: '' }, 'admin'), 400],
        ['501 characters', await reject(id, { reason: 'x'.repeat(501) }, 'admin'), 400],
        ['10 kB', await reject(id, { reason: 'x'.repeat(10_240) }, 'admin'), 400],
        ['no reason', await reject(id, {}, 'admin'), 400],
        ['a number', await reject(id, { reason: 42 }, 'admin'), 400],
        ['an extra field', await reject(id, { reason: 'Fine.', verified: true }, 'admin'), 400],
        ['not JSON', await reject(id, '{"reason":', 'admin'), 400],
        ['not a UUID', await reject('not-a-uuid', { reason: 'Fine.' }, 'admin'), 400],
        ['a professional', await reject(id, { reason: 'Fine.' }, 'professional'), 403],
        ['a patient', await reject(id, { reason: 'Fine.' }, 'patient'), 403],
        ['nobody', await reject(id, { reason: 'Fine.' }), 401],
      ];
      expect(cases.map(([what, res, statusCode, code]) => [what, res.statusCode, code ? res.json().error.code : statusCode])).toEqual(
        cases.map(([what, , statusCode, code]) => [what, statusCode, code ?? statusCode]),
      );
      expect(g.calls).toEqual([]);
    });
  });
});
