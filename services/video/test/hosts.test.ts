// Who hosts the meetings: professionals' own Zoom users, a pool, quotas and concurrency (real PostgreSQL, Zoom simulator).
import { randomUUID } from 'node:crypto';
import { MemoryCache } from '@cryptocare/cache';
import { status } from '@grpc/grpc-js';
import { events, video } from '@cryptocare/contracts';
import { decodeEnvelope, encodeEnvelope, InProcessBus, newEvent, type DomainEvent, type EventBus } from '@cryptocare/events';
import { createGrpcClient, registry } from '@cryptocare/platform';
import { createZoomSimulator, type ZoomSimulator } from '@cryptocare/simulators';
import { eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import { main } from '../src/main';

const ACCOUNT = 'acc-hosts';
const CLIENT_ID = 'client-hosts';
const CLIENT_SECRET = 'secret-hosts';
const DOMAIN = 'hosts.cryptocare.test';
const zoomPolicy = { timeoutMs: 1_000, retries: 2, initialDelayMs: 10, maxDelayMs: 2_000, breakAfter: 3, halfOpenAfterMs: 60_000 };

type Service = Awaited<ReturnType<typeof main>>;

const HOUR = '2030-03-01T09:00:00.000Z';
const confirmed = (professionalId: string, startAt = HOUR, appointmentId = randomUUID()) =>
  newEvent('appointment', 'appointment.confirmed', appointmentId, {
    appointmentId,
    patientId: randomUUID(),
    professionalId,
    startAt,
    endAt: new Date(Date.parse(startAt) + 30 * 60_000).toISOString(),
    invoiceId: randomUUID(),
  });
const verified = (professionalId: string) => newEvent('search', 'search.profile_updated', professionalId, { professionalId, verified: true, timeZone: 'Europe/Zurich', reviewState: 'verified' });

const deliver = (bus: EventBus, topic: string, event: DomainEvent) =>
  bus.publish(topic, [{ key: event.subject, value: encodeEnvelope(event), headers: { 'event-id': event.id, 'event-type': event.type } }]);

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

async function start(sim: ZoomSimulator, bus: EventBus, env: Record<string, string>): Promise<{ service: Service; published: DomainEvent[] }> {
  const published: DomainEvent[] = [];
  await bus.subscribe({
    groupId: `test-${randomUUID()}`,
    topics: [events.topics.video],
    handle: async (m) => {
      const event = decodeEnvelope(m.value);
      if (!('unknownType' in event)) published.push(event);
    },
  });
  const service = await main(
    {
      DATABASE_URL: infraUrls().databaseUrl,
      DATABASE_SCHEMA: await migratedSchema('video'),
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
      ZOOM_API_URL: `${sim.baseUrl}/v2`,
      ZOOM_OAUTH_URL: `${sim.baseUrl}/oauth/token`,
      ZOOM_ACCOUNT_ID: ACCOUNT,
      ZOOM_CLIENT_ID: CLIENT_ID,
      ZOOM_CLIENT_SECRET: CLIENT_SECRET,
      JITSI_URL: 'https://jitsi.test',
      ...env,
    },
    { bus, cache: new MemoryCache() },
    { zoomPolicy },
  );
  return { service, published };
}

const created = (published: DomainEvent[], appointmentId: string) =>
  eventually(async () => published.find((e) => e.subject === appointmentId && e.type === 'video.meeting_created') as DomainEvent<'video.meeting_created'> | undefined, 15_000, 20);

describe('professionals host their own meetings', () => {
  let sim: ZoomSimulator;
  let service: Service;
  let published: DomainEvent[];
  const bus = new InProcessBus(50);
  const hostOf = (professionalId: string) => sim.users.find((u) => u.email === `pro-${professionalId}@${DOMAIN}`);

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await sim.listen();
    ({ service, published } = await start(sim, bus, { ZOOM_HOST_EMAIL_DOMAIN: DOMAIN }));
  });
  afterAll(async () => {
    await service?.stop();
    sim.app.server.closeAllConnections();
    await sim.close();
  });

  it('20 consultations at the same hour with 20 professionals: 20 Zoom meetings, each on its professional’s own host', async () => {
    const professionals = Array.from({ length: 20 }, () => randomUUID());
    // Verified professionals get their Zoom user at once (Zoom's users API, custCreate).
    for (const id of professionals) await deliver(bus, events.topics.search, verified(id));
    await eventually(async () => professionals.every((id) => hostOf(id)), 15_000, 20);
    expect(sim.users.filter((u) => u.email.endsWith(`@${DOMAIN}`))).toHaveLength(20);

    const bookings = professionals.map((id) => confirmed(id));
    await Promise.all(bookings.map((b) => deliver(bus, events.topics.appointment, b)));
    const meetings = await Promise.all(bookings.map((b) => created(published, b.subject)));

    expect(meetings.map((m) => m.data.provider)).toEqual(Array(20).fill('zoom'));
    for (const [i, meeting] of meetings.entries()) {
      const zoomMeeting = sim.meetings.find((m) => m.join_url === meeting.data.joinUrl);
      expect(zoomMeeting?.host_id).toBe(hostOf(professionals[i]!)!.id);
      expect(zoomMeeting?.start_time).toBe('2030-03-01T09:00:00Z');
    }
    expect(new Set(sim.meetings.map((m) => m.host_id)).size).toBe(20);
    // Verifying again links nothing new.
    await deliver(bus, events.topics.search, verified(professionals[0]!));
    const again = confirmed(professionals[0]!, '2030-03-02T09:00:00.000Z');
    await deliver(bus, events.topics.appointment, again);
    await created(published, again.subject);
    expect(sim.users.filter((u) => u.email.endsWith(`@${DOMAIN}`))).toHaveLength(20);
  });

  it('a professional verified while Zoom was down gets their host on their first booking', async () => {
    const professional = randomUUID();
    const before = sim.apiRequests;
    sim.failNext(3, 503); // the users API call and its two retries
    await deliver(bus, events.topics.search, verified(professional));
    await eventually(async () => sim.apiRequests - before >= 3, 5_000, 20);
    expect(hostOf(professional)).toBeUndefined();
    const booking = confirmed(professional);
    await deliver(bus, events.topics.appointment, booking);
    const meeting = await created(published, booking.subject);
    expect(meeting.data.provider).toBe('zoom');
    expect(sim.meetings.find((m) => m.join_url === meeting.data.joinUrl)?.host_id).toBe(hostOf(professional)?.id);
  });

  it('an admin links an existing Zoom user as a professional’s host, replacing the one video made', async () => {
    const client = createGrpcClient(video, 'VideoService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 });
    try {
      const token = ((await (await fetch(`${sim.baseUrl}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` } })).json()) as { access_token: string }).access_token;
      const res = await fetch(`${sim.baseUrl}/v2/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'create', user_info: { email: 'dr.muster@clinic.test', type: 2 } }),
      });
      const existing = ((await res.json()) as { id: string }).id;
      const professional = randomUUID();
      await deliver(bus, events.topics.search, verified(professional));
      await eventually(async () => hostOf(professional), 10_000, 20);

      expect(await client.linkHost({ professionalId: professional, zoomUser: 'dr.muster@clinic.test' })).toEqual({ professionalId: professional, zoomUserId: existing });
      const booking = confirmed(professional, '2030-06-01T09:00:00.000Z');
      await deliver(bus, events.topics.appointment, booking);
      const meeting = await created(published, booking.subject);
      expect(sim.meetings.find((m) => m.join_url === meeting.data.joinUrl)?.host_id).toBe(existing);

      await expect(client.linkHost({ professionalId: randomUUID(), zoomUser: existing })).rejects.toMatchObject({ status: status.ALREADY_EXISTS, code: 'ZOOM_USER_TAKEN' });
      await expect(client.linkHost({ professionalId: professional, zoomUser: 'nobody@clinic.test' })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'ZOOM_USER_NOT_FOUND' });
      await expect(client.linkHost({ professionalId: professional, zoomUser: '../me' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_ZOOM_USER' });
      await expect(client.linkHost({ professionalId: 'nope', zoomUser: existing })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_PROFESSIONAL_ID' });
    } finally {
      client.close();
    }
  });

  it('erasing a professional deletes the Zoom user video made for them, with its meetings, and forgets the link', async () => {
    const professional = randomUUID();
    await deliver(bus, events.topics.search, verified(professional));
    const host = await eventually(async () => hostOf(professional), 10_000, 20);
    const booking = confirmed(professional, '2030-07-01T09:00:00.000Z');
    await deliver(bus, events.topics.appointment, booking);
    const meeting = await created(published, booking.subject);
    const zoomId = sim.meetings.find((m) => m.join_url === meeting.data.joinUrl)!.id;

    const erased = newEvent('identity', 'identity.user_erased', professional, { userId: professional });
    sim.failNext(3, 503); // Zoom down at first: the delivery fails and is retried, nothing is forgotten
    await deliver(bus, events.topics.identity, erased);
    await eventually(async () => !sim.users.some((u) => u.id === host.id), 20_000, 50);
    expect(sim.deletedMeetingIds).toContain(zoomId);
    expect(JSON.stringify(sim.users)).not.toContain(professional);
    // Its link is gone here too: were the professional to book again, a new user would be made.
    const again = confirmed(professional, '2030-07-02T09:00:00.000Z');
    await deliver(bus, events.topics.appointment, again);
    await created(published, again.subject);
    expect(hostOf(professional)?.id).not.toBe(host.id);
  });

  it('the 101st creation of the day for one host falls back to Jitsi without calling Zoom', async () => {
    const professional = randomUUID();
    await deliver(bus, events.topics.search, verified(professional));
    const host = await eventually(async () => hostOf(professional), 10_000, 20);
    const exhaustedBefore = await metricValue('meeting_provider_fallback_total', { reason: 'host_exhausted' });

    // 100 consultations, one per half hour (the quota counts creations per day, whatever the meeting's date).
    const day = Date.parse('2030-04-01T00:00:00.000Z');
    const bookings = Array.from({ length: 101 }, (_, i) => confirmed(professional, new Date(day + i * 30 * 60_000).toISOString()));
    for (const b of bookings.slice(0, 100)) await deliver(bus, events.topics.appointment, b);
    const first100 = await Promise.all(bookings.slice(0, 100).map((b) => created(published, b.subject)));
    expect(first100.every((m) => m.data.provider === 'zoom')).toBe(true);
    expect(sim.usedToday(host.id)).toBe(100);
    expect(await metricValue('zoom_host_quota_left', { kind: 'professional' })).toBe(0);

    const calls = sim.apiRequests;
    await deliver(bus, events.topics.appointment, bookings[100]!);
    const last = await created(published, bookings[100]!.subject);
    expect(last.data).toMatchObject({ provider: 'jitsi', password: '' });
    expect(last.data.joinUrl).toMatch(/^https:\/\/jitsi\.test\/CryptoCare-[a-z2-7]{26}$/);
    expect(sim.apiRequests).toBe(calls); // our own count said no: Zoom was not asked
    expect(sim.usedToday(host.id)).toBe(100);
    expect(await metricValue('meeting_provider_fallback_total', { reason: 'host_exhausted' })).toBe(exhaustedBefore + 1);

    // Other professionals are not affected.
    const other = randomUUID();
    await deliver(bus, events.topics.search, verified(other));
    const next = confirmed(other);
    await deliver(bus, events.topics.appointment, next);
    expect((await created(published, next.subject)).data.provider).toBe('zoom');
  });

  it('when Zoom says a host is out of creations before our count does (429 Daily-limit, no Retry-After), one call, then Jitsi; Zoom stays in use for the others', async () => {
    const professional = randomUUID();
    await deliver(bus, events.topics.search, verified(professional));
    const host = await eventually(async () => hostOf(professional), 10_000, 20);
    sim.setDailyLimit(0, { retryAfter: false }); // e.g. meetings made by hand on that user today
    try {
      const calls = sim.apiRequests;
      const booking = confirmed(professional, '2030-05-01T09:00:00.000Z');
      await deliver(bus, events.topics.appointment, booking);
      expect((await created(published, booking.subject)).data.provider).toBe('jitsi');
      expect(sim.apiRequests - calls).toBe(1); // not retried: no retry helps before midnight UTC
      // Now counted as exhausted here: the next booking of that host does not ask Zoom.
      const second = confirmed(professional, '2030-05-01T10:00:00.000Z');
      await deliver(bus, events.topics.appointment, second);
      expect((await created(published, second.subject)).data.provider).toBe('jitsi');
      expect(sim.apiRequests - calls).toBe(1);
      expect(sim.usedToday(host.id)).toBe(0);
    } finally {
      sim.setDailyLimit(100);
    }
    // The breaker did not count it: another professional's meeting is on Zoom.
    const other = randomUUID();
    await deliver(bus, events.topics.search, verified(other));
    const next = confirmed(other, '2030-05-01T09:00:00.000Z');
    await deliver(bus, events.topics.appointment, next);
    expect((await created(published, next.subject)).data.provider).toBe('zoom');
  });
});

describe('a pool of licensed hosts', () => {
  let sim: ZoomSimulator;
  let service: Service;
  let published: DomainEvent[];
  const bus = new InProcessBus(50);
  let pool: string[];

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await sim.listen();
    const token = await (await fetch(`${sim.baseUrl}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` } })).json();
    pool = [];
    for (const email of ['room-a@practice.test', 'room-b@practice.test']) {
      const res = await fetch(`${sim.baseUrl}/v2/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${(token as { access_token: string }).access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'create', user_info: { email, type: 2 } }),
      });
      pool.push(((await res.json()) as { id: string }).id);
    }
    ({ service, published } = await start(sim, bus, { ZOOM_HOST_POOL: pool.join(', ') }));
  });
  afterAll(async () => {
    await service?.stop();
    sim.app.server.closeAllConnections();
    await sim.close();
  });

  it('spreads meetings over the pool, never two at once on one host, and falls back when every host is taken', async () => {
    const bookings = [confirmed(randomUUID()), confirmed(randomUUID()), confirmed(randomUUID())];
    for (const b of bookings) await deliver(bus, events.topics.appointment, b);
    const meetings = await Promise.all(bookings.map((b) => created(published, b.subject)));
    expect(meetings.map((m) => m.data.provider)).toEqual(['zoom', 'zoom', 'jitsi']);
    const hosts = meetings.slice(0, 2).map((m) => sim.meetings.find((z) => z.join_url === m.data.joinUrl)!.host_id);
    expect(hosts.sort()).toEqual([...pool].sort());
    expect(await metricValue('zoom_host_refused_total', { kind: 'pool', reason: 'busy' })).toBeGreaterThanOrEqual(2);
    expect(sim.users.filter((u) => u.email.endsWith(`@${DOMAIN}`))).toHaveLength(0); // no per-professional users in pool mode

    // Cancelling gives the host's hour back.
    const cancel = newEvent('appointment', 'appointment.cancelled', bookings[0]!.subject, { appointmentId: bookings[0]!.subject, reason: 'patient', wasPaid: true, cancelledBy: 'patient' });
    await deliver(bus, events.topics.appointment, cancel);
    await eventually(async () => published.find((e) => e.subject === bookings[0]!.subject && e.type === 'video.meeting_deleted'), 10_000, 20);
    const replacement = confirmed(randomUUID());
    await deliver(bus, events.topics.appointment, replacement);
    expect((await created(published, replacement.subject)).data.provider).toBe('zoom');

    // Another hour: the least used host of the day takes it.
    const later = confirmed(randomUUID(), '2030-03-01T11:00:00.000Z');
    await deliver(bus, events.topics.appointment, later);
    const laterMeeting = await created(published, later.subject);
    const used = pool.map((id) => sim.usedToday(id));
    expect(used.sort()).toEqual([2, 2]);
    expect(sim.meetings.find((z) => z.join_url === laterMeeting.data.joinUrl)).toBeDefined();
  });
});
