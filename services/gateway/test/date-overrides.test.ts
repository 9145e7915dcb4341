import { DateTime } from 'luxon';
import { ApiClient, demoSchedule, startPlatform, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * Date overrides through the gateway, against the real services (separate processes, PostgreSQL,
 * Redis with the slots cache, Kafka): a professional closes a date or opens their own ranges on it,
 * the slots (cached before the change) follow at once, bookings follow, and bad input is a 400.
 */
describe('date overrides of a professional (real platform)', () => {
  const ZONE = 'Europe/Zurich';
  let platform: RunningPlatform;
  let api: ApiClient;
  let pro: ApiClient;
  let proId: string;
  let patient: ApiClient;

  const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const today = () => DateTime.now().setZone(ZONE).startOf('day');
  /** The first local date from 7 days on that falls on an ISO weekday (1 = Monday). */
  const nextWeekday = (weekday: number) => {
    let d = today().plus({ days: 7 });
    while (d.weekday !== weekday) d = d.plus({ days: 1 });
    return d;
  };
  const slotsOn = async (date: DateTime): Promise<string[]> => {
    const from = encodeURIComponent(date.toUTC().toISO()!);
    const to = encodeURIComponent(date.plus({ days: 1 }).toUTC().toISO()!);
    const { items } = await api.expect(200, 'GET', `/v1/professionals/${proId}/slots?from=${from}&to=${to}`);
    return items.map((s: { start: string }) => DateTime.fromISO(s.start, { zone: ZONE }).toFormat('HH:mm'));
  };
  const put = (date: string, body: unknown, as = pro) => as.call('PUT', `/v1/professionals/me/date-overrides/${date}`, body);

  beforeAll(async () => {
    platform = await startPlatform();
    api = new ApiClient(platform.gatewayUrl);
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `do-${unique()}@example.ch`, password: 'a-long-password-1', role: 'professional', displayName: 'Dr. Override', consents: currentConsents() });
    pro = api.as(session.accessToken);
    proId = session.user.id;
    await pro.expect(200, 'PUT', '/v1/professionals/me', {
      specialties: ['general-practice'], languages: ['de'], country: 'CH', city: 'Zürich', latitude: 47.37, longitude: 8.54,
      price: { amount: '100.00', currency: 'CHF' }, consultationMinutes: 30, timeZone: ZONE,
    });
    const admin = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${proId}/verify`);
    const p = await api.expect(201, 'POST', '/v1/auth/register', { email: `pa-${unique()}@example.ch`, password: 'a-long-password-1', role: 'patient', displayName: 'Pat', consents: currentConsents() });
    patient = api.as(p.accessToken);
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('needs the weekly schedule first (409 SCHEDULE_REQUIRED), then lists nothing', async () => {
    const early = await put(nextWeekday(1).toISODate()!, { ranges: [] });
    expect({ status: early.status, code: early.body.error.code }).toEqual({ status: 409, code: 'SCHEDULE_REQUIRED' });
    await pro.expect(200, 'PUT', '/v1/professionals/me/schedule', demoSchedule);
    expect(await pro.expect(200, 'GET', '/v1/professionals/me/date-overrides')).toEqual({ timeZone: ZONE, items: [] });
  });

  it('closes a date and opens own ranges on another; slots cached before follow at once', async () => {
    const monday = nextWeekday(1);
    const saturday = nextWeekday(6);
    const weekly = await slotsOn(monday); // also fills the slots cache for that range
    expect(weekly.slice(0, 3)).toEqual(['08:00', '08:40', '09:20']);
    expect(await slotsOn(saturday)).toEqual([]);

    expect(await pro.expect(200, 'PUT', `/v1/professionals/me/date-overrides/${monday.toISODate()}`, { ranges: [] })).toEqual({ date: monday.toISODate(), closed: true, ranges: [] });
    expect(await slotsOn(monday)).toEqual([]);

    // Several ranges on one day; 30-minute slots with the 10-minute buffer.
    const ranges = [{ start: '09:00', end: '10:10' }, { start: '18:00', end: '19:00' }];
    expect(await pro.expect(200, 'PUT', `/v1/professionals/me/date-overrides/${saturday.toISODate()}`, { ranges })).toEqual({ date: saturday.toISODate(), closed: false, ranges });
    expect(await slotsOn(saturday)).toEqual(['09:00', '09:40', '18:00']);

    // Replacing an override replaces it.
    await pro.expect(200, 'PUT', `/v1/professionals/me/date-overrides/${monday.toISODate()}`, { ranges: [{ start: '11:00', end: '11:30' }] });
    expect(await slotsOn(monday)).toEqual(['11:00']);

    expect(await pro.expect(200, 'GET', '/v1/professionals/me/date-overrides')).toEqual({
      timeZone: ZONE,
      items: [
        { date: monday.toISODate(), closed: false, ranges: [{ start: '11:00', end: '11:30' }] },
        { date: saturday.toISODate(), closed: false, ranges },
      ].sort((a, b) => a.date!.localeCompare(b.date!)),
    });

    // Back to the weekly schedule.
    expect((await pro.call('DELETE', `/v1/professionals/me/date-overrides/${monday.toISODate()}`)).status).toBe(204);
    expect(await slotsOn(monday)).toEqual(weekly);
    const again = await pro.call('DELETE', `/v1/professionals/me/date-overrides/${monday.toISODate()}`);
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 404, code: 'DATE_OVERRIDE_NOT_FOUND' });
  });

  it('bookings follow the overrides: a closed date refuses, an opened one accepts', async () => {
    const tuesday = nextWeekday(2);
    const sunday = nextWeekday(7);
    await pro.expect(200, 'PUT', `/v1/professionals/me/date-overrides/${tuesday.toISODate()}`, { ranges: [] });
    await pro.expect(200, 'PUT', `/v1/professionals/me/date-overrides/${sunday.toISODate()}`, { ranges: [{ start: '10:00', end: '11:00' }] });
    const weeklyTuesdayNine = tuesday.set({ hour: 9 }).toUTC().toISO();
    const refused = await patient.call('POST', '/v1/appointments', { professionalId: proId, start: weeklyTuesdayNine });
    expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 409, code: 'SLOT_NOT_AVAILABLE' });
    const sundayTen = sunday.set({ hour: 10 }).toUTC().toISO();
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: proId, start: sundayTen });
    expect(booked.appointment.start).toBe(new Date(sundayTen!).toISOString());
    expect(await slotsOn(sunday)).toEqual([]);
  });

  it('answers bad dates and ranges with 400 and a code, and writes nothing', async () => {
    const before = await pro.expect(200, 'GET', '/v1/professionals/me/date-overrides');
    const horizonEnd = today().plus({ days: demoSchedule.horizonDays + 2 }).toISODate();
    const friday = nextWeekday(5).toISODate();
    const cases: Array<[string, unknown, string]> = [
      ['2026-02-30', { ranges: [] }, 'VALIDATION_FAILED'],
      ['99999-01-01', { ranges: [] }, 'VALIDATION_FAILED'],
      ['0000-00-00', { ranges: [] }, 'VALIDATION_FAILED'],
      ['2026-01-01%00', { ranges: [] }, 'INVALID_CHARACTERS'],
      [today().minus({ days: 1 }).toISODate()!, { ranges: [] }, 'DATE_OUTSIDE_HORIZON'],
      [horizonEnd!, { ranges: [] }, 'DATE_OUTSIDE_HORIZON'],
      ['1970-01-01', { ranges: [] }, 'DATE_OUTSIDE_HORIZON'],
      [friday!, { ranges: [{ start: '09:00', end: '11:00' }, { start: '10:00', end: '12:00' }] }, 'RANGES_OVERLAP'],
      [friday!, { ranges: [{ start: '14:00', end: '15:00' }, { start: '09:00', end: '10:00' }] }, 'RANGES_NOT_ORDERED'],
      [friday!, { ranges: [{ start: '12:00', end: '09:00' }] }, 'RANGE_END_BEFORE_START'],
      [friday!, { ranges: [{ start: '25:00', end: '26:00' }] }, 'INVALID_TIME'],
      [friday!, { ranges: [{ start: '09:00\u0000', end: '10:00' }] }, 'INVALID_CHARACTERS'],
      [friday!, { ranges: 'closed' }, 'VALIDATION_FAILED'],
      [friday!, {}, 'VALIDATION_FAILED'],
    ];
    for (const [date, body, code] of cases) {
      const res = await put(date, body);
      expect({ date, body, status: res.status, code: res.body?.error?.code }).toEqual({ date, body, status: 400, code });
    }
    const badDelete = await pro.call('DELETE', '/v1/professionals/me/date-overrides/2026-02-30');
    expect(badDelete.status).toBe(400);
    expect(await pro.expect(200, 'GET', '/v1/professionals/me/date-overrides')).toEqual(before);
    // Only the professional sets their own.
    expect((await put(friday!, { ranges: [] }, patient)).status).toBe(403);
    expect((await put(friday!, { ranges: [] }, api)).status).toBe(401);
  });

  it('two writes of one date at the same instant leave one override, one of the two', async () => {
    const wednesday = nextWeekday(3).toISODate()!;
    const a = { ranges: [{ start: '08:00', end: '09:00' }] };
    const b = { ranges: [] };
    const results = await Promise.all([put(wednesday, a), put(wednesday, b), put(wednesday, a), put(wednesday, b)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const { items } = await pro.expect(200, 'GET', '/v1/professionals/me/date-overrides');
    const mine = items.filter((o: { date: string }) => o.date === wednesday);
    expect(mine).toHaveLength(1);
    expect([a.ranges, b.ranges]).toContainEqual(mine[0].ranges);
  });
});
