import { createHmac, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { MemoryCache } from '@cryptocare/cache';
import { events, video } from '@cryptocare/contracts';
import { decodeEnvelope, encodeEnvelope, InProcessBus, newEvent, type DomainEvent, type EventBus } from '@cryptocare/events';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { createGrpcClient, registry, type GrpcClient } from '@cryptocare/platform';
import { createZoomSimulator, type ZoomSimulator } from '@cryptocare/simulators';
import { eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import { main } from '../src/main';
import { zoomSignature } from '../src/domain/zoom-webhook';

const ACCOUNT = 'acc-cryptocare';
const CLIENT_ID = 'client-cryptocare';
const CLIENT_SECRET = 'secret-cryptocare';
const JITSI = 'https://jitsi.test';
const JITSI_SECRET = 'jitsi-app-secret-for-the-video-tests';
const WEBHOOK_SECRET = 'zoom-webhook-secret';
/** Short waits between Zoom attempts so the suite stays fast; Retry-After is still honoured. */
const zoomPolicy = { timeoutMs: 1_000, retries: 2, initialDelayMs: 10, maxDelayMs: 2_000, breakAfter: 3, halfOpenAfterMs: 60_000 };

type Service = Awaited<ReturnType<typeof main>>;

const startAt = '2030-03-01T09:00:00.000Z';
/**
 * Each booking its own hour from 2030-03-01T09:00Z on: without professionals' own Zoom users or a
 * pool, every meeting is on the account's user, who hosts one meeting at a time.
 */
let bookings = 0;
const confirmed = (appointmentId: string) => {
  const start = Date.parse(startAt) + bookings++ * 3_600_000;
  return newEvent('appointment', 'appointment.confirmed', appointmentId, {
    appointmentId,
    patientId: randomUUID(),
    professionalId: randomUUID(),
    startAt: new Date(start).toISOString(),
    endAt: new Date(start + 30 * 60_000).toISOString(),
    invoiceId: randomUUID(),
  });
};
/** The booking of `confirmedEvent` moved to `startAt` (30 minutes, as booked). */
const rescheduled = (confirmedEvent: DomainEvent<'appointment.confirmed'>, startAt: string) =>
  newEvent('appointment', 'appointment.rescheduled', confirmedEvent.subject, {
    appointmentId: confirmedEvent.data.appointmentId,
    patientId: confirmedEvent.data.patientId,
    professionalId: confirmedEvent.data.professionalId,
    previousStartAt: confirmedEvent.data.startAt,
    startAt,
    endAt: new Date(Date.parse(startAt) + 30 * 60_000).toISOString(),
    rescheduledBy: 'patient',
  });
const cancelled = (appointmentId: string) =>
  newEvent('appointment', 'appointment.cancelled', appointmentId, { appointmentId, reason: 'patient', wasPaid: true, cancelledBy: 'patient' });

const deliver = (bus: EventBus, event: DomainEvent) =>
  bus.publish(events.topics.appointment, [{ key: event.subject, value: encodeEnvelope(event), headers: { 'event-id': event.id, 'event-type': event.type } }]);

function startService(sim: ZoomSimulator, schema: string, bus: EventBus) {
  return main(
    {
      DATABASE_URL: infraUrls().databaseUrl,
      DATABASE_SCHEMA: schema,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
      ZOOM_API_URL: `${sim.baseUrl}/v2`,
      ZOOM_OAUTH_URL: `${sim.baseUrl}/oauth/token`,
      ZOOM_ACCOUNT_ID: ACCOUNT,
      ZOOM_CLIENT_ID: CLIENT_ID,
      ZOOM_CLIENT_SECRET: CLIENT_SECRET,
      JITSI_URL: JITSI,
      JITSI_APP_ID: 'cryptocare-test',
      JITSI_APP_SECRET: JITSI_SECRET,
      ZOOM_WEBHOOK_SECRET_TOKEN: WEBHOOK_SECRET,
    },
    { bus, cache: new MemoryCache() },
    { zoomPolicy },
  );
}

/** Collects what video publishes. */
async function collect(bus: EventBus, into: DomainEvent[]) {
  await bus.subscribe({
    groupId: `test-${randomUUID()}`,
    topics: [events.topics.video],
    handle: async (m) => {
      const event = decodeEnvelope(m.value);
      if (!('unknownType' in event)) into.push(event);
    },
  });
}

async function linkLatencyCount(provider: string): Promise<number> {
  const metric = registry.getSingleMetric('meeting_link_seconds');
  if (!metric) return 0;
  const { values } = await metric.get();
  // A histogram's values carry the series name (…_bucket, …_sum, …_count).
  const count = (values as Array<(typeof values)[number] & { metricName?: string }>).find((v) => v.metricName === 'meeting_link_seconds_count' && v.labels.provider === provider);
  return count?.value ?? 0;
}

describe('video service (real PostgreSQL, Zoom simulator)', () => {
  let sim: ZoomSimulator;
  let service: Service;
  let client: GrpcClient<typeof video, 'VideoService'>;
  const bus = new InProcessBus(50);
  const published: DomainEvent[] = [];
  const publishedFor = (appointmentId: string, type: string) => published.filter((e) => e.subject === appointmentId && e.type === type);
  const meetingCreated = (appointmentId: string) =>
    eventually(async () => publishedFor(appointmentId, 'video.meeting_created')[0] as DomainEvent<'video.meeting_created'> | undefined, 10_000, 20);

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await sim.listen();
    await collect(bus, published);
    service = await startService(sim, await migratedSchema('video'), bus);
    client = createGrpcClient(video, 'VideoService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    sim.app.server.closeAllConnections();
    await sim.close();
  });

  it('gives a confirmed booking a Zoom meeting, announces it, and shows the host link to the host only', async () => {
    const appointmentId = randomUUID();
    const measured = await linkLatencyCount('zoom');
    await deliver(bus, confirmed(appointmentId));
    const event = await meetingCreated(appointmentId);

    const zoomMeeting = sim.meetings.find((m) => m.join_url === event.data.joinUrl);
    expect(zoomMeeting).toMatchObject({ topic: 'CryptoCare consultation', type: 2, start_time: '2030-03-01T09:00:00Z', duration: 30 });
    expect(zoomMeeting!.settings).toMatchObject({ waiting_room: true, join_before_host: false });
    expect(event.data).toEqual({ meetingId: expect.any(String), appointmentId, provider: 'zoom', joinUrl: zoomMeeting!.join_url, password: zoomMeeting!.password });

    const { meeting } = await client.getMeeting({ appointmentId });
    expect(meeting).toEqual({
      id: event.data.meetingId,
      appointmentId,
      provider: 'zoom',
      joinUrl: zoomMeeting!.join_url,
      password: zoomMeeting!.password,
      startAt,
      durationMinutes: 30,
      hostUrl: '',
    });
    const asHost = await client.getMeeting({ appointmentId, asHost: true });
    expect(asHost.meeting?.hostUrl).toBe(zoomMeeting!.start_url);
    expect(await linkLatencyCount('zoom')).toBe(measured + 1);
  });

  it('creates no second meeting when the confirmation comes again', async () => {
    const appointmentId = randomUUID();
    const event = confirmed(appointmentId);
    await deliver(bus, event);
    await meetingCreated(appointmentId);
    const zoomCalls = sim.apiRequests;

    await deliver(bus, event); // the same event, redelivered
    await deliver(bus, confirmed(appointmentId)); // the booking confirmed again under a new event id
    const later = randomUUID();
    await deliver(bus, confirmed(later)); // handled after the two above (one group, in order)
    await meetingCreated(later);

    expect(publishedFor(appointmentId, 'video.meeting_created')).toHaveLength(1);
    expect(sim.apiRequests).toBe(zoomCalls + 1); // only the later booking's meeting
    expect(sim.deletedMeetingIds).toEqual([]);
  });

  it('reuses the Zoom token across meetings and gets a new one after Zoom answers 401', async () => {
    expect(sim.tokensIssued).toBe(1);
    sim.expireTokens();
    const appointmentId = randomUUID();
    await deliver(bus, confirmed(appointmentId));
    const event = await meetingCreated(appointmentId);
    expect(event.data.provider).toBe('zoom');
    expect(sim.tokensIssued).toBe(2);
  });

  it('waits out a 429 with Retry-After and still books on Zoom', async () => {
    sim.failNext(1, 429, 1);
    const appointmentId = randomUUID();
    const sentAt = Date.now();
    await deliver(bus, confirmed(appointmentId));
    const event = await meetingCreated(appointmentId);
    expect(event.data.provider).toBe('zoom');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_000);
  });

  it('falls back to an unguessable Jitsi room when Zoom keeps failing', async () => {
    sim.failNext(1_000, 503);
    try {
      const appointmentId = randomUUID();
      await deliver(bus, confirmed(appointmentId));
      const event = await meetingCreated(appointmentId);
      expect(event.data).toMatchObject({ provider: 'jitsi', password: '' });
      expect(event.data.joinUrl).toMatch(/^https:\/\/jitsi\.test\/CryptoCare-[a-z2-7]{26}$/);
      const { meeting } = await client.getMeeting({ appointmentId, asHost: true });
      expect(meeting).toMatchObject({ provider: 'jitsi', joinUrl: event.data.joinUrl, hostUrl: event.data.joinUrl });

      // The links are minted at each request: a moderator token for the professional, a guest
      // token for the patient, both for this room only and valid around the consultation.
      const room = event.data.joinUrl.slice(`${JITSI}/`.length);
      const start = Date.parse(meeting!.startAt);
      const tokenOf = async (asHost: boolean) => {
        const link = await client.getJoinLink({ appointmentId, asHost });
        expect(link).toMatchObject({ provider: 'jitsi', password: '', role: asHost ? 'host' : 'participant' });
        const url = new URL(link.url);
        expect(`${url.origin}${url.pathname}`).toBe(event.data.joinUrl);
        const { payload } = await jwtVerify(url.searchParams.get('jwt')!, new TextEncoder().encode(JITSI_SECRET), {
          algorithms: ['HS256'],
          audience: 'jitsi',
          issuer: 'cryptocare-test',
          subject: 'jitsi.test',
          currentDate: new Date(start),
        });
        expect(payload).toMatchObject({ room, nbf: (start - 10 * 60_000) / 1000, exp: (start + 60 * 60_000) / 1000 });
        return payload as { context: { user: { moderator: string } } };
      };
      expect((await tokenOf(true)).context.user.moderator).toBe('true');
      expect((await tokenOf(false)).context.user.moderator).toBe('false');
    } finally {
      sim.failNext(0);
    }
  });

  it('deletes the meeting of a cancelled booking at Zoom, once, and announces it', async () => {
    const appointmentId = randomUUID();
    await deliver(bus, confirmed(appointmentId));
    const created = await meetingCreated(appointmentId);
    const zoomId = sim.meetings.find((m) => m.join_url === created.data.joinUrl)!.id;

    const cancel = cancelled(appointmentId);
    await deliver(bus, cancel);
    const deleted = await eventually(async () => publishedFor(appointmentId, 'video.meeting_deleted')[0], 10_000, 20);
    expect(deleted.data).toEqual({ meetingId: created.data.meetingId, appointmentId });
    expect(sim.deletedMeetingIds).toContain(zoomId);
    await expect(client.getMeeting({ appointmentId, asHost: true })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'MEETING_NOT_FOUND' });

    await deliver(bus, cancel);
    await deliver(bus, cancelled(appointmentId));
    const later = randomUUID();
    await deliver(bus, confirmed(later));
    await meetingCreated(later);
    expect(publishedFor(appointmentId, 'video.meeting_deleted')).toHaveLength(1);
    expect(sim.deletedMeetingIds.filter((id) => id === zoomId)).toHaveLength(1);
  });

  it('issues the host a fresh Zoom start link at each request (the stored one is dead 2 hours after it was made)', async () => {
    const appointmentId = randomUUID();
    await deliver(bus, confirmed(appointmentId));
    const event = await meetingCreated(appointmentId);
    const stored = sim.meetings.find((m) => m.join_url === event.data.joinUrl)!.start_url;
    sim.advanceClock(2 * 60 * 60 * 1000 + 1_000);
    try {
      expect((await fetch(stored)).status).toBe(401);
      const host = await client.getJoinLink({ appointmentId, asHost: true });
      expect(host).toMatchObject({ provider: 'zoom', role: 'host' });
      expect(host.url).not.toBe(stored);
      expect((await fetch(host.url)).status).toBe(200); // starts the meeting on the simulator
      const again = await client.getJoinLink({ appointmentId, asHost: true });
      expect(again.url).not.toBe(host.url); // never cached
      const patient = await client.getJoinLink({ appointmentId, asHost: false });
      expect(patient).toEqual({ provider: 'zoom', url: event.data.joinUrl, password: event.data.password, role: 'participant' });
    } finally {
      sim.setNow(Date.now());
    }
    await expect(client.getJoinLink({ appointmentId: randomUUID(), asHost: true })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'MEETING_NOT_FOUND' });
  });

  describe('Zoom webhooks (IngestZoomWebhook)', () => {
    /** A Zoom event body as Zoom's meeting webhooks carry it. */
    const zoomEvent = (event: string, meeting: { id: number; uuid: string; host_id: string }, extra: Record<string, unknown> = {}, eventTs = Date.now()) =>
      JSON.stringify({ event, event_ts: eventTs, payload: { account_id: ACCOUNT, object: { id: String(meeting.id), uuid: meeting.uuid, host_id: meeting.host_id, topic: 'CryptoCare consultation', type: 2, ...extra } } });
    const joinedAs = (meeting: { id: number; uuid: string; host_id: string }, who: 'host' | 'patient') =>
      zoomEvent('meeting.participant_joined', meeting, {
        participant: { user_id: String(Math.floor(Math.random() * 1e8)), user_name: who, id: who === 'host' ? meeting.host_id : '', participant_uuid: randomUUID(), join_time: new Date().toISOString(), email: '' },
      });
    const ingest = (body: string, atMs = Date.now(), secret = WEBHOOK_SECRET) => {
      const timestamp = String(Math.floor(atMs / 1000));
      return client.ingestZoomWebhook({ rawBody: Buffer.from(body), headers: { 'x-zm-request-timestamp': timestamp, 'x-zm-signature': zoomSignature(secret, timestamp, body) } });
    };
    const ended = (appointmentId: string) => publishedFor(appointmentId, 'video.consultation_ended') as Array<DomainEvent<'video.consultation_ended'>>;
    const zoomMeetingOf = async (appointmentId: string) => {
      await deliver(bus, confirmed(appointmentId));
      const created = await meetingCreated(appointmentId);
      return { created, zoom: sim.meetings.find((m) => m.join_url === created.data.joinUrl)! };
    };

    it('records who joined and tells when the meeting ended; a replay or Zoom’s retry of an event does nothing', async () => {
      const appointmentId = randomUUID();
      const { created, zoom } = await zoomMeetingOf(appointmentId);
      const bodies = [zoomEvent('meeting.started', zoom), joinedAs(zoom, 'host'), joinedAs(zoom, 'patient'), zoomEvent('meeting.ended', zoom, { end_time: new Date().toISOString() })];
      for (const body of bodies) expect(await ingest(body)).toEqual({ accepted: true, plainToken: '', encryptedToken: '' });
      const [event] = await eventually(async () => (ended(appointmentId).length > 0 ? ended(appointmentId) : undefined), 10_000, 20);
      expect(event!.data).toEqual({ meetingId: created.data.meetingId, appointmentId, hostJoined: true, patientJoined: true, endedAt: expect.any(String) });

      // The same events again, signed anew (Zoom's retries carry a new timestamp): stored once.
      for (const body of bodies) expect((await ingest(body)).accepted).toBe(false);
      await new Promise((r) => setTimeout(r, 300));
      expect(ended(appointmentId)).toHaveLength(1);
    });

    it('says the patient never joined when only the host did, and tells again when Zoom reports the patient’s join late', async () => {
      const appointmentId = randomUUID();
      const { zoom } = await zoomMeetingOf(appointmentId);
      await ingest(joinedAs(zoom, 'host'));
      await ingest(zoomEvent('meeting.ended', zoom));
      const first = await eventually(async () => ended(appointmentId)[0], 10_000, 20);
      expect(first.data).toMatchObject({ hostJoined: true, patientJoined: false });
      await ingest(joinedAs(zoom, 'patient'));
      const second = await eventually(async () => ended(appointmentId)[1], 10_000, 20);
      expect(second.data).toMatchObject({ hostJoined: true, patientJoined: true });
    });

    it('answers the url_validation challenge; refuses forged, stale and unreadable requests; ignores meetings not ours', async () => {
      const plainToken = 'pl41nT0ken';
      const challenge = await ingest(JSON.stringify({ payload: { plainToken }, event_ts: Date.now(), event: 'endpoint.url_validation' }));
      expect(challenge).toEqual({ accepted: true, plainToken, encryptedToken: createHmac('sha256', WEBHOOK_SECRET).update(plainToken).digest('hex') });

      const stranger = { id: 81_000_000_001, uuid: 'not-ours', host_id: 'nobody' };
      const body = zoomEvent('meeting.ended', stranger);
      await expect(ingest(body, Date.now(), 'another-secret')).rejects.toMatchObject({ status: status.UNAUTHENTICATED, code: 'ZOOM_SIGNATURE_INVALID' });
      await expect(ingest(body, Date.now() - 6 * 60_000)).rejects.toMatchObject({ status: status.UNAUTHENTICATED, code: 'ZOOM_SIGNATURE_INVALID' });
      await expect(client.ingestZoomWebhook({ rawBody: Buffer.from(body), headers: {} })).rejects.toMatchObject({ status: status.UNAUTHENTICATED });
      await expect(ingest('{"event":"meeting.ended","payload":\u0000')).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_WEBHOOK_BODY' });
      await expect(ingest('x'.repeat(70 * 1024))).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'WEBHOOK_TOO_LARGE' });
      // A meeting video does not know (made by hand in the account): stored, processed, nothing told.
      expect((await ingest(body)).accepted).toBe(true);
      expect((await ingest(zoomEvent('recording.completed', stranger))).accepted).toBe(false);
    });
  });

  describe('a booking moved (appointment.rescheduled)', () => {
    it('moves its Zoom meeting in place: same links, the new time at Zoom, no second meeting; a replay does nothing', async () => {
      const appointmentId = randomUUID();
      const booked = confirmed(appointmentId);
      await deliver(bus, booked);
      const created = await meetingCreated(appointmentId);
      const zoom = sim.meetings.find((m) => m.join_url === created.data.joinUrl)!;
      const newStart = '2031-01-06T10:00:00.000Z';
      const move = rescheduled(booked, newStart);
      await deliver(bus, move);
      const moved = await eventually(async () => {
        const { meeting } = await client.getMeeting({ appointmentId });
        return meeting!.startAt === newStart ? meeting : undefined;
      }, 10_000, 20);
      expect(moved).toMatchObject({ provider: 'zoom', joinUrl: created.data.joinUrl, durationMinutes: 30 });
      expect(Date.parse(sim.meetings.find((m) => m.id === zoom.id)!.start_time ?? '')).toBe(Date.parse(newStart));
      const meetingsAtZoom = sim.meetings.length;
      await deliver(bus, move); // redelivered
      await new Promise((r) => setTimeout(r, 300));
      expect(sim.meetings.length).toBe(meetingsAtZoom);
      expect(publishedFor(appointmentId, 'video.meeting_created')).toHaveLength(1);
      expect(sim.deletedMeetingIds).not.toContain(zoom.id);
    });

    it("replaces it when its host is busy at the new time: the new link is announced and the old meeting deleted at Zoom; a Jitsi room just moves", async () => {
      // Both on the account's user, who hosts one meeting at a time: the first cannot move onto the second's hour.
      const first = confirmed(randomUUID());
      const second = confirmed(randomUUID());
      for (const e of [first, second]) await deliver(bus, e);
      const before = await meetingCreated(first.data.appointmentId);
      await meetingCreated(second.data.appointmentId);
      const oldZoom = sim.meetings.find((m) => m.join_url === before.data.joinUrl)!;
      await deliver(bus, rescheduled(first, second.data.startAt));
      const replaced = await eventually(async () => publishedFor(first.data.appointmentId, 'video.meeting_created')[1] as DomainEvent<'video.meeting_created'> | undefined, 10_000, 20);
      expect(replaced.data).toMatchObject({ provider: 'jitsi', meetingId: before.data.meetingId });
      expect(replaced.data.joinUrl).not.toBe(before.data.joinUrl);
      await eventually(async () => sim.deletedMeetingIds.includes(oldZoom.id), 10_000, 20);
      expect((await client.getMeeting({ appointmentId: first.data.appointmentId })).meeting).toMatchObject({ provider: 'jitsi', startAt: second.data.startAt, joinUrl: replaced.data.joinUrl });

      // Moved again, the Jitsi room keeps its name; only its time changes (tokens are minted for it at each join).
      const later = '2031-02-03T15:00:00.000Z';
      await deliver(bus, rescheduled(first, later));
      await eventually(async () => (await client.getMeeting({ appointmentId: first.data.appointmentId })).meeting!.startAt === later, 10_000, 20);
      expect((await client.getMeeting({ appointmentId: first.data.appointmentId })).meeting!.joinUrl).toBe(replaced.data.joinUrl);
      expect(publishedFor(first.data.appointmentId, 'video.meeting_created')).toHaveLength(2);
    });
  });

  it('answers MEETING_NOT_FOUND for a booking without a meeting and refuses ids that are not UUIDs', async () => {
    await expect(client.getMeeting({ appointmentId: randomUUID() })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'MEETING_NOT_FOUND' });
    await expect(client.getMeeting({ appointmentId: 'nope' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_APPOINTMENT_ID' });
  });
});

describe('video service replicas racing on one booking', () => {
  let sim: ZoomSimulator;
  const buses = [new InProcessBus(50), new InProcessBus(50)];
  const services: Service[] = [];
  const published: DomainEvent[] = [];

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await sim.listen();
    const schema = await migratedSchema('video');
    for (const bus of buses) {
      await collect(bus, published);
      services.push(await startService(sim, schema, bus));
    }
  });

  afterAll(async () => {
    for (const s of services) await s.stop();
    sim.app.server.closeAllConnections();
    await sim.close();
  });

  it('keeps one meeting and deletes the extra one at Zoom', async () => {
    const appointmentId = randomUUID();
    const event = confirmed(appointmentId);
    sim.setLatencyMs(100); // both replicas are at Zoom at the same time
    await Promise.all(buses.map((bus) => deliver(bus, event)));
    const created = await eventually(async () => published.find((e) => e.subject === appointmentId && e.type === 'video.meeting_created') as DomainEvent<'video.meeting_created'> | undefined);
    await eventually(async () => sim.deletedMeetingIds.length === 1);

    expect(sim.meetings).toHaveLength(1);
    expect(sim.meetings[0]!.join_url).toBe(created.data.joinUrl);
    await new Promise((r) => setTimeout(r, 300)); // no second announcement trails behind
    expect(published.filter((e) => e.subject === appointmentId)).toHaveLength(1);
  });
});

describe('a Zoom webhook stored by a replica that died before its work item reached the bus', () => {
  let sim: ZoomSimulator;
  const services: Service[] = [];

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await sim.listen();
  });

  afterAll(async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    sim.app.server.closeAllConnections();
    await sim.close();
  });

  it('is processed by the replica that comes after it: the consultation still ends, once', async () => {
    const schema = await migratedSchema('video');
    // The first replica's bus loses its broker after the meeting is made (as Kafka going away would).
    const firstBus = new InProcessBus(50);
    let brokerGone = false;
    const failingBus: EventBus = {
      publish: (topic, messages) => (brokerGone ? Promise.reject(new Error('broker unreachable')) : firstBus.publish(topic, messages)),
      subscribe: (options) => firstBus.subscribe(options),
      close: () => firstBus.close(),
    };
    const firstSeen: DomainEvent[] = [];
    await collect(firstBus, firstSeen);
    const first = await startService(sim, schema, failingBus);
    services.push(first);
    const appointmentId = randomUUID();
    await deliver(firstBus, confirmed(appointmentId));
    const created = await eventually(async () => firstSeen.find((e) => e.subject === appointmentId && e.type === 'video.meeting_created'), 10_000, 20);
    const zoom = sim.meetings.find((m) => m.join_url === (created as DomainEvent<'video.meeting_created'>).data.joinUrl)!;

    brokerGone = true;
    const client = createGrpcClient(video, 'VideoService', `127.0.0.1:${first.grpcPort}`, { deadlineMs: 5_000 });
    const object = { id: String(zoom.id), uuid: zoom.uuid, host_id: zoom.host_id, topic: 'CryptoCare consultation', type: 2 };
    const joined = (id: string) => ({ participant: { user_id: randomUUID(), user_name: id, id, participant_uuid: randomUUID(), join_time: new Date().toISOString(), email: '' } });
    const bodies = [
      { event: 'meeting.participant_joined', extra: joined(zoom.host_id) },
      { event: 'meeting.participant_joined', extra: joined('') },
      { event: 'meeting.ended', extra: { end_time: new Date().toISOString() } },
    ].map(({ event, extra }) => JSON.stringify({ event, event_ts: Date.now(), payload: { account_id: ACCOUNT, object: { ...object, ...extra } } }));
    for (const body of bodies) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      // Accepted (Zoom gets its 200 and will not send it again): it is stored, with its work item.
      expect((await client.ingestZoomWebhook({ rawBody: Buffer.from(body), headers: { 'x-zm-request-timestamp': timestamp, 'x-zm-signature': zoomSignature(WEBHOOK_SECRET, timestamp, body) } })).accepted).toBe(true);
    }
    client.close();
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl });
    try {
      const pending = async () => (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".zoom_webhook_inbox WHERE processed_at IS NULL`)).rows[0].n as number;
      expect(await pending()).toBe(3);
      expect(firstSeen.filter((e) => e.type === 'video.consultation_ended')).toEqual([]);
      // The replica dies with its work items unpublished.
      await first.stop().catch(() => undefined);
      services.splice(services.indexOf(first), 1);

      const nextBus = new InProcessBus(50);
      const nextSeen: DomainEvent[] = [];
      await collect(nextBus, nextSeen);
      services.push(await startService(sim, schema, nextBus));
      const ended = await eventually(async () => nextSeen.find((e) => e.subject === appointmentId && e.type === 'video.consultation_ended'), 15_000, 50);
      expect((ended as DomainEvent<'video.consultation_ended'>).data).toMatchObject({ appointmentId, hostJoined: true, patientJoined: true });
      await eventually(async () => (await pending()) === 0, 10_000, 50);
      await new Promise((r) => setTimeout(r, 300));
      expect(nextSeen.filter((e) => e.subject === appointmentId && e.type === 'video.consultation_ended')).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });
});
