import { createHmac, randomUUID } from 'node:crypto';
import { appointment } from '@cryptocare/contracts';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import { ApiClient, currentConsents, eventually, startPlatform, type RunningPlatform } from '@cryptocare/testing';
import { standInGateway } from './support/stand-in-gateway';

const { AppointmentStatus } = appointment;

describe('GET /v1/appointments/{id}/join', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  const patientId = randomUUID();
  const professionalId = randomUUID();
  const id = randomUUID();
  let hostLinksIssued = 0;

  /** The booking as appointment answers it to one of its parties; someone else gets NOT_FOUND. */
  const booking = (status: number, startInMs: number) => {
    g.behaviour['appointment.getAppointment'] = async (req: { appointmentId: string; caller: { userId: string; role: string } }) => {
      const party = req.caller.userId === patientId || req.caller.userId === professionalId || req.caller.role === 'admin';
      if (req.appointmentId !== id || !party) throw new AppError(GrpcStatus.NOT_FOUND, 'APPOINTMENT_NOT_FOUND', 'no such appointment');
      const start = Date.now() + startInMs;
      return { appointment: { id, patientId, professionalId, startAt: new Date(start).toISOString(), endAt: new Date(start + 30 * 60_000).toISOString(), status } };
    };
  };
  const join = async (userId: string, role: string, appointmentId = id) =>
    g.app.inject({ method: 'GET', url: `/v1/appointments/${appointmentId}/join`, headers: { authorization: `Bearer ${await g.sign(userId, role)}` } });

  beforeAll(async () => {
    g = await standInGateway();
  });
  afterAll(() => g.close());
  beforeEach(() => {
    g.reset();
    g.behaviour['video.getJoinLink'] = async (req: { appointmentId: string; asHost: boolean }) =>
      req.asHost
        ? { provider: 'zoom', url: `https://zoom.test/s/81234567890?zak=fresh-${++hostLinksIssued}`, password: 'pw', role: 'host' }
        : { provider: 'zoom', url: 'https://zoom.test/j/81234567890?pwd=x', password: 'pw', role: 'participant' };
  });

  it('gives the patient the join link and the professional a host link fetched at each request, never cached', async () => {
    booking(AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, 5 * 60_000);
    const patient = await join(patientId, 'patient');
    expect(patient.statusCode).toBe(200);
    expect(patient.json()).toMatchObject({ appointmentId: id, provider: 'zoom', role: 'participant', url: 'https://zoom.test/j/81234567890?pwd=x', password: 'pw' });
    expect(patient.body).not.toContain('zak=');
    expect(patient.headers['cache-control']).toBe('no-store, private');

    const first = await join(professionalId, 'professional');
    const second = await join(professionalId, 'professional');
    expect(first.json()).toMatchObject({ role: 'host', url: expect.stringContaining('zak=fresh-') });
    expect(second.json().url).not.toBe(first.json().url);
    expect(second.headers['cache-control']).toBe('no-store, private');
    const videoCalls = g.calls.filter((c) => c.method === 'video.getJoinLink').map((c) => c.request);
    expect(videoCalls).toEqual([
      { appointmentId: id, asHost: false },
      { appointmentId: id, asHost: true },
      { appointmentId: id, asHost: true },
    ]);
  });

  it('opens 10 minutes before the start and closes at the end', async () => {
    booking(AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, 11 * 60_000);
    const early = await join(patientId, 'patient');
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toMatchObject({ code: 'JOIN_NOT_OPEN_YET', details: { opensAt: expect.any(String) } });
    booking(AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, 9 * 60_000);
    expect((await join(patientId, 'patient')).statusCode).toBe(200);
    booking(AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, -31 * 60_000);
    const late = await join(professionalId, 'professional');
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('CONSULTATION_OVER');
  });

  it('shows no link for a cancelled, unpaid or completed booking', async () => {
    for (const [status, code] of [
      [AppointmentStatus.APPOINTMENT_STATUS_CANCELLED, 'BOOKING_CANCELLED'],
      [AppointmentStatus.APPOINTMENT_STATUS_HELD, 'BOOKING_NOT_CONFIRMED'],
      [AppointmentStatus.APPOINTMENT_STATUS_EXPIRED, 'BOOKING_NOT_CONFIRMED'],
      [AppointmentStatus.APPOINTMENT_STATUS_COMPLETED, 'CONSULTATION_OVER'],
    ] as const) {
      booking(status, 0);
      const res = await join(patientId, 'patient');
      expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 409, code });
    }
    expect(g.calls.some((c) => c.method === 'video.getJoinLink')).toBe(false);
  });

  it('answers 404 to anyone but the booking’s patient and professional (another professional, another patient, an admin)', async () => {
    booking(AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, 0);
    for (const [userId, role] of [
      [randomUUID(), 'professional'],
      [randomUUID(), 'patient'],
      [randomUUID(), 'admin'],
      [patientId, 'professional'], // the patient's id with another role is not the booking's professional
    ] as const) {
      const res = await join(userId, role);
      expect({ status: res.statusCode, code: res.json().error.code }).toEqual({ status: 404, code: 'APPOINTMENT_NOT_FOUND' });
    }
    expect(g.calls.some((c) => c.method === 'video.getJoinLink')).toBe(false);
    expect((await join(patientId, 'patient', randomUUID())).statusCode).toBe(404);
  });

  it('says the meeting is not ready while video has not recorded it, and 503 when Zoom gives no host link', async () => {
    booking(AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED, 0);
    g.behaviour['video.getJoinLink'] = async () => {
      throw new AppError(GrpcStatus.NOT_FOUND, 'MEETING_NOT_FOUND', 'this booking has no meeting');
    };
    const pending = await join(patientId, 'patient');
    expect({ status: pending.statusCode, code: pending.json().error.code }).toEqual({ status: 409, code: 'MEETING_NOT_READY' });
    g.behaviour['video.getJoinLink'] = async () => {
      throw new AppError(GrpcStatus.UNAVAILABLE, 'HOST_LINK_UNAVAILABLE', 'Zoom did not issue a host link');
    };
    const down = await join(professionalId, 'professional');
    expect({ status: down.statusCode, code: down.json().error.code }).toEqual({ status: 503, code: 'HOST_LINK_UNAVAILABLE' });
  });

  it('refuses requests without a token and ids that are not UUIDs, and is declared in the OpenAPI document', async () => {
    expect((await g.app.inject({ method: 'GET', url: `/v1/appointments/${id}/join` })).statusCode).toBe(401);
    const bad = await g.app.inject({ method: 'GET', url: '/v1/appointments/not-a-uuid%00/join', headers: { authorization: `Bearer ${await g.sign(patientId, 'patient')}` } });
    expect(bad.statusCode).toBe(400);
    const doc = (await g.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { responses?: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths['/v1/appointments/{id}/join']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '409']));
  });
});

describe('PUT /v1/admin/professionals/{id}/zoom-host', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  const professionalId = randomUUID();
  beforeAll(async () => {
    g = await standInGateway();
  });
  afterAll(() => g.close());
  beforeEach(() => g.reset());

  const put = async (role: string, body: unknown, id = professionalId) =>
    g.app.inject({ method: 'PUT', url: `/v1/admin/professionals/${id}/zoom-host`, headers: { authorization: `Bearer ${await g.sign(randomUUID(), role)}` }, payload: body as object });

  it('lets an admin link a Zoom user, and passes video’s refusals on', async () => {
    g.behaviour['video.linkHost'] = async (req: { professionalId: string; zoomUser: string }) => ({ professionalId: req.professionalId, zoomUserId: 'z-123' });
    const ok = await put('admin', { zoomUser: 'dr.muster@clinic.test' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ professionalId, zoomUserId: 'z-123' });
    expect(g.calls.find((c) => c.method === 'video.linkHost')?.request).toEqual({ professionalId, zoomUser: 'dr.muster@clinic.test' });

    g.behaviour['video.linkHost'] = async () => {
      throw new AppError(GrpcStatus.ALREADY_EXISTS, 'ZOOM_USER_TAKEN', 'taken');
    };
    const taken = await put('admin', { zoomUser: 'z-999' });
    expect({ status: taken.statusCode, code: taken.json().error.code }).toEqual({ status: 409, code: 'ZOOM_USER_TAKEN' });
  });

  it('is for admins only and refuses malformed users', async () => {
    for (const role of ['patient', 'professional']) expect((await put(role, { zoomUser: 'x@y.test' })).statusCode).toBe(403);
    for (const body of [{}, { zoomUser: '' }, { zoomUser: 'a b' }, { zoomUser: '../me' }, { zoomUser: 'x'.repeat(129) }, { zoomUser: 'x@y.test', extra: 1 }]) {
      expect((await put('admin', body)).statusCode).toBe(400);
    }
    expect(g.calls.some((c) => c.method === 'video.linkHost')).toBe(false);
  });
});

/**
 * The Jitsi fallback end to end (real services, PostgreSQL, Redis, Kafka; the Zoom and Jitsi
 * simulators): Zoom has no meeting creation left today, so the confirmed booking gets a Jitsi room;
 * the links the join route mints start it for the professional and let the patient in, and the
 * simulated Jitsi refuses a token for another room or outside the consultation's window.
 */
describe('GET /v1/appointments/{id}/join on the real platform: the Jitsi fallback, and Zoom’s webhooks ending a consultation', () => {
  let platform: RunningPlatform;
  const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    platform = await startPlatform();
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('with Zoom down (every call 503), the professional’s link starts the room, the patient’s joins it, and nothing else gets in', async () => {
    const api = new ApiClient(platform.gatewayUrl);
    // A professional bookable every 5 minutes of every day, at no notice: the next slot starts
    // within 5 minutes, inside the join window (from 10 minutes before the start).
    const proSession = await api.expect(201, 'POST', '/v1/auth/register', { email: `jitsi-pro-${unique()}@example.ch`, password: 'a-long-password-1', role: 'professional', displayName: 'Dr. Fallback', consents: currentConsents() });
    const pro = api.as(proSession.accessToken);
    await pro.expect(200, 'PUT', '/v1/professionals/me', {
      specialties: ['general-practice'], languages: ['de'], country: 'CH', city: 'Bern', latitude: 46.95, longitude: 7.45,
      price: { amount: '80.00', currency: 'CHF' }, consultationMinutes: 10, timeZone: 'UTC',
    });
    await pro.expect(200, 'PUT', '/v1/professionals/me/schedule', {
      rules: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '23:55' })),
      slotMinutes: 5, bufferMinutes: 0, minimumNoticeMinutes: 0, horizonDays: 1,
    });
    const admin = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${proSession.user.id}/verify`);
    const patientSession = await api.expect(201, 'POST', '/v1/auth/register', { email: `jitsi-pa-${unique()}@example.ch`, password: 'a-long-password-1', role: 'patient', displayName: 'Pat', consents: currentConsents() });
    const patient = api.as(patientSession.accessToken);

    // Zoom down: every API call answers 503 until the meeting exists; the meeting goes to Jitsi. (A host
    // out of its daily quota falls back too: services/video/test/hosts.test.ts.)
    platform.zoom.failFor(120_000);
    const { items: slots } = await patient.expect(200, 'GET', `/v1/professionals/${proSession.user.id}/slots`);
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: proSession.user.id, start: slots[0].start });
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    const appointmentId: string = booked.appointment.id;
    const confirmed = await eventually(async () => {
      const { appointment } = await patient.expect(200, 'GET', `/v1/appointments/${appointmentId}`);
      return appointment.status === 'confirmed' && appointment.meeting ? appointment : undefined;
    }, 30_000);
    platform.zoom.failFor(0);
    expect(confirmed.meeting.provider).toBe('jitsi');
    expect(confirmed.meeting.joinUrl).toMatch(new RegExp(`^${platform.jitsi.baseUrl}/CryptoCare-[a-z2-7]{26}$`)); // no token at rest
    const room = confirmed.meeting.joinUrl.slice(`${platform.jitsi.baseUrl}/`.length);

    const linkOf = async (as: ApiClient) => {
      const link = await as.expect(200, 'GET', `/v1/appointments/${appointmentId}/join`);
      expect(link).toMatchObject({ provider: 'jitsi', password: '' });
      expect(link.url).toMatch(new RegExp(`^${confirmed.meeting.joinUrl}\\?jwt=`));
      return link as { url: string; role: string };
    };
    const enter = async (url: string) => {
      const res = await fetch(url);
      return { status: res.status, body: (await res.json()) as { role?: string; state?: string; error?: string } };
    };
    const patientLink = await linkOf(patient);
    const proLink = await linkOf(pro);
    expect([patientLink.role, proLink.role]).toEqual(['participant', 'host']);

    // The patient first waits for the host; the professional's link starts the room; then the patient is in.
    expect(await enter(patientLink.url)).toMatchObject({ status: 200, body: { role: 'guest', state: 'waiting' } });
    expect(await enter(proLink.url)).toMatchObject({ status: 200, body: { role: 'moderator', state: 'started' } });
    expect(await enter(patientLink.url)).toMatchObject({ status: 200, body: { role: 'guest', state: 'joined' } });
    expect(platform.jitsi.room(room)).toMatchObject({ started: true, moderators: 1, guests: 2 });

    // A token is for its room only, and for the consultation's time only.
    const token = new URL(patientLink.url).searchParams.get('jwt')!;
    expect(await enter(`${platform.jitsi.baseUrl}/CryptoCare-${'a'.repeat(26)}?jwt=${token}`)).toEqual({ status: 403, body: { error: 'wrong_room' } });
    const start = Date.parse(confirmed.start);
    platform.jitsi.setNow(start - 11 * 60_000);
    expect(await enter(patientLink.url)).toEqual({ status: 401, body: { error: 'token_not_yet_valid' } });
    platform.jitsi.setNow(Date.parse(confirmed.end) + 31 * 60_000);
    expect(await enter(proLink.url)).toEqual({ status: 401, body: { error: 'token_expired' } });
    expect(await enter(confirmed.meeting.joinUrl)).toEqual({ status: 401, body: { error: 'token_required' } });
    platform.jitsi.setNow(Date.now());
    expect(platform.jitsi.joins.map((j) => [j.moderator, j.outcome])).toEqual([
      [false, 'waiting'],
      [true, 'started'],
      [false, 'joined'],
    ]);
  }, 120_000);

  /**
   * The consultation on Zoom walked through the same platform: Zoom's webhooks decide the booking's end.
   */
  describe('a consultation on Zoom, ended by Zoom’s webhooks', () => {
    let api: ApiClient;
    let professional: ApiClient;
    let professionalId: string;
    let slots: string[];

    beforeAll(async () => {
      api = new ApiClient(platform.gatewayUrl);
      // As saving the Zoom app's event subscription: the gateway answers the challenge (video's secret).
      await platform.zoom.subscribeWebhooks(`${platform.gatewayUrl}/webhooks/zoom`);

      const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `zoom-pro-${Date.now()}@example.ch`, password: 'professional-password-1', role: 'professional', displayName: 'Dr. Zoom', consents: currentConsents() });
      professional = api.as(session.accessToken);
      professionalId = session.user.id;
      await professional.expect(200, 'PUT', '/v1/professionals/me', {
        specialties: ['general-practice'], languages: ['en'], country: 'CH', city: 'Bern', latitude: 46.948, longitude: 7.4474,
        price: { amount: '120.00', currency: 'CHF' }, timeZone: 'UTC', consultationMinutes: 10, bio: 'Consults on Zoom.',
      });
      // Two 5-minute slots opening 2 minutes from now (UTC), so that both links are open at once.
      const opens = new Date(Math.ceil((Date.now() + 2 * 60_000) / 60_000) * 60_000);
      const hhmm = (d: Date) => d.toISOString().slice(11, 16);
      const weekday = ((opens.getUTCDay() + 6) % 7) + 1;
      await professional.expect(200, 'PUT', '/v1/professionals/me/schedule', {
        rules: [{ weekday, start: hhmm(opens), end: hhmm(new Date(opens.getTime() + 10 * 60_000)) }],
        slotMinutes: 5, bufferMinutes: 0, minimumNoticeMinutes: 0, horizonDays: 1,
      });
      const admin = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken);
      await admin.expect(200, 'POST', `/v1/admin/professionals/${professionalId}/verify`);
      slots = ((await api.expect(200, 'GET', `/v1/professionals/${professionalId}/slots`)).items as Array<{ start: string }>).map((s) => s.start);
      expect(slots.length).toBeGreaterThanOrEqual(2);
    }, 60_000);

    /** A patient books the slot and pays; resolves with the booking once its Zoom meeting is recorded. */
    async function bookedConsultation(start: string) {
      const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `zoom-pat-${Date.now()}-${Math.random()}@example.ch`, password: 'patient-password-1', role: 'patient', displayName: 'Pat', consents: currentConsents() });
      const patient = api.as(session.accessToken);
      const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId, start });
      const paid = await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'onchain' }) });
      expect(paid.ok).toBe(true);
      const id = booked.appointment.id as string;
      await eventually(async () => (await patient.expect(200, 'GET', `/v1/appointments/${id}`)).appointment.meeting?.provider === 'zoom', 30_000);
      return { id, patient };
    }
    const statusOf = async (who: ApiClient, id: string) => (await who.expect(200, 'GET', `/v1/appointments/${id}`)).appointment as { status: string; noShowBy: string | null };

    it('professional takes the fresh host link, both join, Zoom says the meeting ended: the booking is completed', async () => {
      const { id, patient } = await bookedConsultation(slots[0]!);
      const host = await professional.expect(200, 'GET', `/v1/appointments/${id}/join`);
      expect(host).toMatchObject({ role: 'host', provider: 'zoom', url: expect.stringContaining('zak=') });
      const guest = await patient.expect(200, 'GET', `/v1/appointments/${id}/join`);
      expect(guest).toMatchObject({ role: 'participant', provider: 'zoom' });

      expect((await fetch(host.url)).status).toBe(200); // the host starts the meeting
      expect(await (await fetch(guest.url)).text()).toContain('as participant'); // the patient is let in
      const meeting = platform.zoom.meetings.find((m) => m.join_url === guest.url)!;
      expect(meeting.status).toBe('started');
      platform.zoom.endMeeting(meeting.id);
      await platform.zoom.waitForWebhooks();
      expect(platform.zoom.webhookDeliveries.filter((d) => d.invoiceId === String(meeting.id)).map((d) => [d.event, d.attempts.at(-1)?.status])).toEqual([
        ['meeting.started', 200],
        ['meeting.participant_joined', 200],
        ['meeting.participant_joined', 200],
        ['meeting.ended', 200],
      ]);

      // Completed now, long before the clock would (the slot ends minutes from now).
      const done = await eventually(async () => {
        const a = await statusOf(patient, id);
        return a.status === 'completed' ? a : undefined;
      }, 30_000);
      expect(done.noShowBy).toBeNull();
      expect((await statusOf(professional, id)).status).toBe('completed');
      const after = await patient.call('GET', `/v1/appointments/${id}/join`);
      expect({ status: after.status, code: after.body.error.code }).toEqual({ status: 409, code: 'CONSULTATION_OVER' });
    }, 90_000);

    it('the patient never joins: the booking ends no_show by the patient', async () => {
      const { id, patient } = await bookedConsultation(slots[1]!);
      const host = await professional.expect(200, 'GET', `/v1/appointments/${id}/join`);
      expect((await fetch(host.url)).status).toBe(200);
      const meeting = platform.zoom.meetings.find((m) => host.url.includes(`/s/${m.id}?`))!;
      platform.zoom.endMeeting(meeting.id);
      // Zoom sends its webhooks concurrently and promises no order: when meeting.ended is stored
      // before the host's participant_joined, the booking is first no_show by both, then corrected
      // when the join is processed. What counts is the outcome once every webhook was delivered.
      await platform.zoom.waitForWebhooks();
      const ended = await eventually(async () => {
        const a = await statusOf(patient, id);
        return a.status === 'no_show' && a.noShowBy === 'patient' ? a : undefined;
      }, 30_000);
      expect(ended).toMatchObject({ status: 'no_show', noShowBy: 'patient' });
    }, 90_000);

    it('POST /webhooks/zoom: forged, stale, unsigned, NUL-laden or huge requests get a 4xx, never a 500; a replay is a no-op', async () => {
      const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
        fetch(`${platform.gatewayUrl}/webhooks/zoom`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const body = JSON.stringify({ event: 'meeting.ended', event_ts: Date.now(), payload: { account_id: 'x', object: { id: '81234567890', uuid: 'u', host_id: 'h' } } });
      const now = String(Math.floor(Date.now() / 1000));
      const sign = (ts: string, raw: string, secret = 'zoom-webhook-secret-token') => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${raw}`).digest('hex')}`;
      const cases: Array<[string, Promise<Response>, number]> = [
        ['unsigned', post(body), 401],
        ['forged', post(body, { 'x-zm-request-timestamp': now, 'x-zm-signature': sign(now, body, 'guessed') }), 401],
        ['stale', post(body, { 'x-zm-request-timestamp': String(Number(now) - 600), 'x-zm-signature': sign(String(Number(now) - 600), body) }), 401],
        ['NUL in the signature header', post(body, { 'x-zm-request-timestamp': now, 'x-zm-signature': 'v0=%00' }), 401],
        ['NUL bytes in a signed body', post(`{"event":"meeting.ended\u0000","payload":\u0000}`, { 'x-zm-request-timestamp': now, 'x-zm-signature': sign(now, `{"event":"meeting.ended\u0000","payload":\u0000}`) }), 400],
        ['raw NUL bytes, unsigned', post(Buffer.from([0, 0, 0, 123, 0])), 401],
        ['empty', post(''), 400],
        ['huge', post('x'.repeat(300 * 1024)), 413],
      ];
      for (const [name, response, expected] of cases) {
        const res = await response;
        const answer = (await res.json()) as { error?: { code: string } };
        expect({ name, status: res.status, coded: typeof answer.error?.code }).toEqual({ name, status: expected, coded: 'string' });
      }
      // Signed right, for a meeting not ours: taken; the same bytes again, re-signed: a no-op.
      const first = await post(body, { 'x-zm-request-timestamp': now, 'x-zm-signature': sign(now, body) });
      expect({ status: first.status, body: await first.json() }).toEqual({ status: 200, body: { received: true, duplicate: false } });
      const replay = await post(body, { 'x-zm-request-timestamp': now, 'x-zm-signature': sign(now, body) });
      expect({ status: replay.status, body: await replay.json() }).toEqual({ status: 200, body: { received: true, duplicate: true } });
    }, 30_000);
  });

  it('POST /v1/appointments/{id}/reschedule: the patient moves a paid consultation, the Zoom meeting follows with the same link, the old slot is free again; hostile moves get 4xx with codes', async () => {
    const api = new ApiClient(platform.gatewayUrl);
    const register = async (role: 'patient' | 'professional') => {
      const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `move-${role}-${unique()}@example.ch`, password: `${role}-password-1`, role, displayName: role === 'patient' ? 'Pat Mover' : 'Dr. Move', consents: currentConsents() });
      return { id: session.user.id as string, as: api.as(session.accessToken) };
    };
    const pro = await register('professional');
    await pro.as.expect(200, 'PUT', '/v1/professionals/me', {
      specialties: ['general-practice'], languages: ['en'], country: 'CH', city: 'Bern', latitude: 46.948, longitude: 7.4474,
      price: { amount: '120.00', currency: 'CHF' }, timeZone: 'UTC', consultationMinutes: 30, bio: 'Moves well.',
    });
    // Tomorrow (UTC), 08:00 to 12:00 in 30-minute slots.
    const tomorrow = new Date(Date.now() + 86_400_000);
    await pro.as.expect(200, 'PUT', '/v1/professionals/me/schedule', {
      rules: [{ weekday: ((tomorrow.getUTCDay() + 6) % 7) + 1, start: '08:00', end: '12:00' }],
      slotMinutes: 30, bufferMinutes: 0, minimumNoticeMinutes: 60, horizonDays: 3,
    });
    const admin = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${pro.id}/verify`);
    const day = tomorrow.toISOString().slice(0, 10);
    const freeSlots = async () => ((await api.expect(200, 'GET', `/v1/professionals/${pro.id}/slots`)).items as Array<{ start: string }>).map((x) => x.start).filter((x) => x.startsWith(day));
    const slots = await freeSlots();
    expect(slots.length).toBe(8);

    const patient = await register('patient');
    const booked = await patient.as.expect(201, 'POST', '/v1/appointments', { professionalId: pro.id, start: slots[0] });
    const id = booked.appointment.id as string;
    const move = (who: ApiClient, body: unknown, headers: Record<string, string> = {}) => who.call('POST', `/v1/appointments/${id}/reschedule`, body, headers);
    // Unpaid: a hold is cancelled and booked again, not moved.
    const unpaid = await move(patient.as, { start: slots[2] });
    expect({ status: unpaid.status, code: unpaid.body.error.code }).toEqual({ status: 409, code: 'NOT_RESCHEDULABLE' });
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    const ready = await eventually(async () => {
      const { appointment } = await patient.as.expect(200, 'GET', `/v1/appointments/${id}`);
      return appointment.meeting?.provider === 'zoom' ? appointment : undefined;
    }, 30_000);

    const stranger = await register('patient');
    const hostile: Array<[string, Promise<{ status: number; body: any }>, number, string]> = [
      ['another patient', move(stranger.as, { start: slots[2] }), 404, 'APPOINTMENT_NOT_FOUND'],
      ['an admin', move(admin, { start: slots[2] }), 403, 'FORBIDDEN'],
      ['no token', api.call('POST', `/v1/appointments/${id}/reschedule`, { start: slots[2] }), 401, 'UNAUTHENTICATED'],
      ['NUL bytes', move(patient.as, { start: `${slots[2]}\u0000` }), 400, 'INVALID_CHARACTERS'],
      ['an absurd date', move(patient.as, { start: '9999-99-99T99:99:99Z' }), 400, 'VALIDATION_FAILED'],
      ['the year 200000', move(patient.as, { start: '+200000-01-01T00:00:00Z' }), 400, 'VALIDATION_FAILED'],
      ['another field', move(patient.as, { start: slots[2], professionalId: stranger.id }), 400, 'VALIDATION_FAILED'],
      ['not a slot', move(patient.as, { start: new Date(Date.parse(slots[2]!) + 7 * 60_000).toISOString() }), 409, 'SLOT_NOT_AVAILABLE'],
      ['a day without hours', move(patient.as, { start: new Date(Date.parse(slots[2]!) + 86_400_000).toISOString() }), 409, 'SLOT_NOT_AVAILABLE'],
      ['an id that is not a UUID', patient.as.call('POST', '/v1/appointments/not-a-uuid/reschedule', { start: slots[2] }), 400, 'VALIDATION_FAILED'],
    ];
    for (const [name, answer, status, code] of hostile) {
      const res = await answer;
      expect({ name, status: res.status, code: res.body?.error?.code }).toEqual({ name, status, code });
    }

    // Five identical requests at the same instant: each answered 200 with the move, made once.
    const answers = await Promise.all(Array.from({ length: 5 }, () => move(patient.as, { start: slots[2] })));
    expect(answers.map((a) => [a.status, a.body.appointment?.start])).toEqual(Array(5).fill([200, slots[2]]));
    const zoomMeeting = () => platform.zoom.meetings.find((m) => m.join_url === ready.meeting.joinUrl);
    await eventually(async () => Date.parse(zoomMeeting()?.start_time ?? '') === Date.parse(slots[2]!), 30_000);
    const { appointment: moved } = await patient.as.expect(200, 'GET', `/v1/appointments/${id}`);
    expect(moved).toMatchObject({ status: 'confirmed', start: slots[2], meeting: { provider: 'zoom', joinUrl: ready.meeting.joinUrl } });
    // The old slot is bookable again, the new one is not.
    await eventually(async () => {
      const free = await freeSlots();
      return free.includes(slots[0]!) && !free.includes(slots[2]!);
    }, 10_000);
    // The professional may move it too.
    const byPro = await move(pro.as, { start: slots[4] });
    expect({ status: byPro.status, start: byPro.body.appointment?.start }).toEqual({ status: 200, start: slots[4] });
    await eventually(async () => Date.parse(zoomMeeting()?.start_time ?? '') === Date.parse(slots[4]!), 30_000);
  }, 120_000);
});
