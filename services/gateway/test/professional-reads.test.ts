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
    expect(mine.json()).toMatchObject({ id: professionalId, verified: false, specialties: ['pediatrics'], specialtyNames: ['Pädiatrie'], bio: 'Pediatra' });
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
    expect(g.calls.map((c) => c.request)).toEqual([
      { verified: false, limit: 1, cursor: '' },
      { verified: true, limit: 20, cursor: 'next-page' },
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
});
