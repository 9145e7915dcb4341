import { randomUUID } from 'node:crypto';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import { search } from '@cryptocare/contracts';
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
