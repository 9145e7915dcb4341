import {
  ApiClient,
  eventually,
  otlpEnv,
  samplesOf,
  scrape,
  seedDemoDirectory,
  startOtlpReceiver,
  startPlatform,
  sumOf,
  type ReceivedSpan,
  type RunningPlatform,
  type Sample,
  type ServiceName, currentConsents } from '@cryptocare/testing';

/**
 * ARCHITECTURE section 9 end to end, on one booking through the six real processes (PostgreSQL,
 * Redis, Kafka): the spans they export over OTLP, the metrics each serves on /metrics, and what
 * they write to their logs.
 */
const services: ServiceName[] = ['gateway', 'identity', 'search', 'appointment', 'payment', 'video'];

describe('observability of a booking (separate processes, OTLP to the test, /metrics, logs)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let platform: RunningPlatform;
  const secrets = {
    email: `obs-${Date.now().toString(36)}@patient-mail.ch`,
    password: `Pw-${Math.random().toString(36).slice(2)}-secret`,
    queryToken: `qt-${Math.random().toString(36).slice(2)}-opaque`,
    accessToken: '',
    refreshToken: '',
  };
  const booking = { requestId: '', appointmentId: '', invoiceId: '', joinUrl: '' };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otel = otlpEnv(receiver.url);
    platform = await startPlatform({ logLevel: 'info', extraEnv: Object.fromEntries(services.map((s) => [s, otel])) });
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });

    // One patient, one booking, paid on the provider, until the meeting link is there.
    const api = new ApiClient(platform.gatewayUrl);
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email: secrets.email, password: secrets.password, role: 'patient', displayName: 'Obs Patient', consents: currentConsents() });
    const login = await api.expect(200, 'POST', '/v1/auth/login', { email: secrets.email, password: secrets.password });
    secrets.accessToken = login.accessToken;
    secrets.refreshToken = login.refreshToken ?? session.refreshToken ?? '';
    const patient = api.as(secrets.accessToken);
    const found = await patient.expect(200, 'GET', '/v1/professionals?specialty=dermatology&country=CH');
    const professional = found.items[0];
    const slots = await patient.expect(200, 'GET', `/v1/professionals/${professional.id}/slots`);
    // Twice: the directory cache of search serves the second read.
    await patient.expect(200, 'GET', '/v1/professionals?specialty=dermatology&country=CH');

    // The request id the ingress would set (ingress-nginx sends X-Request-ID); the gateway adopts it.
    const requestId = `req-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const booked = await patient.call('POST', '/v1/appointments', { professionalId: professional.id, start: slots.items[0].start }, { 'x-request-id': requestId });
    expect(booked.status).toBe(201);
    expect(booked.headers.get('x-request-id')).toBe(requestId);
    booking.requestId = requestId;
    booking.appointmentId = booked.body.appointment.id;
    booking.invoiceId = booked.body.invoice.id;
    expect((await fetch(`${booked.body.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    const done = await eventually(async () => {
      const { appointment } = await patient.expect(200, 'GET', `/v1/appointments/${booking.appointmentId}`);
      return appointment.status === 'confirmed' && appointment.meeting ? appointment : undefined;
    }, 45_000);
    booking.joinUrl = done.meeting.joinUrl;

    // Requests that carry credentials where they should never be: in the query string, in a
    // header, in a body the gateway refuses.
    await patient.call('GET', `/v1/appointments?access_token=${secrets.queryToken}&email=${encodeURIComponent(secrets.email)}`);
    await api.call('GET', `/v1/me?token=${secrets.accessToken}`, undefined, { authorization: `Bearer ${secrets.accessToken}`, cookie: `session=${secrets.refreshToken}` });
    await api.call('POST', '/v1/auth/login', { email: secrets.email, password: `${secrets.password}-wrong` });
    await api.call('POST', '/v1/auth/register', { email: secrets.email, password: secrets.password, role: 'patient', displayName: 'Obs Patient', consents: currentConsents() });
    await api.call('POST', '/v1/auth/refresh', { refreshToken: secrets.refreshToken, email: secrets.email });
  }, 240_000);

  afterAll(async () => {
    // OBS_DUMP=<file> keeps the spans and the logs for a look (debugging).
    if (process.env.OBS_DUMP) {
      const fs = require('node:fs') as typeof import('node:fs');
      fs.writeFileSync(process.env.OBS_DUMP, JSON.stringify(receiver.spans, null, 1));
      fs.writeFileSync(`${process.env.OBS_DUMP}.log`, services.map((s) => platform.output(s)).join('\n'));
    }
    await platform?.stop();
    await receiver?.close();
  });

  describe('traces', () => {
    const byTrace = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
    const services = (spans: ReceivedSpan[]) => new Set(spans.map((s) => s.service));
    const kafka = (spans: ReceivedSpan[], kind: 'producer' | 'consumer', topic: string) =>
      spans.filter((s) => s.kind === kind && s.attributes['messaging.system'] === 'kafka' && String(s.attributes['messaging.destination.name']).endsWith(topic));

    /** A consumer span is a child of its producer span and links to it. */
    function expectHop(spans: ReceivedSpan[], topic: string, consumer: string, producer: string) {
      const sends = kafka(spans, 'producer', topic).filter((s) => s.service === producer);
      const processes = kafka(spans, 'consumer', topic).filter((s) => s.service === consumer);
      const hop = processes.find((p) => sends.some((s) => p.parentSpanId === s.spanId && p.links.some((l) => l.spanId === s.spanId && l.traceId === s.traceId)));
      if (!hop) throw new Error(`no ${producer} → ${topic} → ${consumer} hop in the trace: ${describeSpans(spans)}`);
      return hop;
    }

    it('makes the booking request one trace: gateway → appointment (gRPC, PostgreSQL) → Kafka → payment and search', async () => {
      const server = await eventually(async () =>
        receiver.spans.find((s) => s.service === 'gateway' && s.kind === 'server' && s.attributes['http.request.id'] === booking.requestId),
      );
      expect(server.name).toMatch(/^POST/);
      const trace = await eventually(async () => {
        const spans = byTrace(server.traceId);
        const hops = kafka(spans, 'consumer', 'appointment.events.v1').map((s) => s.service);
        return ['payment', 'search'].every((s) => hops.includes(s)) ? spans : undefined;
      }, 20_000);
      expect([...services(trace)]).toEqual(expect.arrayContaining(['gateway', 'appointment', 'payment', 'search']));
      // gRPC client and server spans, and the queries below them (pg under Prisma).
      expect(trace.some((s) => s.service === 'appointment' && s.kind === 'server' && /AppointmentService\/Book/.test(s.name))).toBe(true);
      expect(trace.some((s) => s.service === 'payment' && s.kind === 'server' && /PaymentService\/CreateInvoice/.test(s.name))).toBe(true);
      expect(trace.some((s) => s.service === 'appointment' && (s.attributes['db.system.name'] ?? s.attributes['db.system']) === 'postgresql')).toBe(true);
      // The outbox row kept the request's context: appointment.held is published in this trace.
      expectHop(trace, 'appointment.events.v1', 'payment', 'appointment');
      expectHop(trace, 'appointment.events.v1', 'search', 'appointment');
      // Provider calls (fetch) are spans too: payment → Swiss Bitcoin Pay.
      expect(trace.some((s) => s.service === 'payment' && s.kind === 'client' && s.attributes['http.request.method'] === 'POST')).toBe(true);
    }, 60_000);

    it('keeps the whole booking, click to meeting link, in one trace: the payment continues it, linked to the webhook', async () => {
      const server = await eventually(async () =>
        receiver.spans.find((s) => s.service === 'gateway' && s.kind === 'server' && s.attributes['http.request.id'] === booking.requestId),
      );
      const webhook = await eventually(async () =>
        receiver.spans.find((s) => s.service === 'gateway' && s.kind === 'server' && /\/webhooks\//.test(String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? s.attributes['http.route'] ?? ''))),
      );
      // The provider's webhook has no trace context: it starts a trace of its own, into payment's inbox.
      const webhookTrace = await eventually(async () => {
        const spans = byTrace(webhook.traceId);
        return kafka(spans, 'consumer', 'payment.webhooks.v1').some((s) => s.service === 'payment') ? spans : undefined;
      }, 30_000);
      expect(webhookTrace.some((s) => s.service === 'payment' && s.kind === 'server' && /IngestWebhook/.test(s.name))).toBe(true);
      expectHop(webhookTrace, 'payment.webhooks.v1', 'payment', 'payment');

      const trace = await eventually(async () => {
        const spans = byTrace(server.traceId);
        return kafka(spans, 'consumer', 'video.events.v1').some((s) => s.service === 'appointment') &&
          kafka(spans, 'producer', 'appointment.events.v1').some((s) => s.attributes['cryptocare.event.type'] === 'appointment.meeting_ready')
          ? spans
          : undefined;
      }, 30_000);
      expect([...services(trace)]).toEqual(expect.arrayContaining(['gateway', 'appointment', 'payment', 'video', 'search']));
      // Payment applies the provider's answer in the booking's trace, linked to the webhook's trace.
      const apply = trace.find((s) => s.service === 'payment' && s.name === 'payment.apply_provider_state');
      expect(apply?.links.some((l) => l.traceId === webhook.traceId)).toBe(true);
      // payment.confirmed → appointment.confirmed → video.meeting_created → meeting_ready
      expectHop(trace, 'payment.events.v1', 'appointment', 'payment');
      expectHop(trace, 'appointment.events.v1', 'video', 'appointment');
      expectHop(trace, 'video.events.v1', 'appointment', 'video');
      const consumed = (topic: string, service: string) => kafka(trace, 'consumer', topic).filter((s) => s.service === service).map((s) => s.attributes['cryptocare.event.type']);
      expect(consumed('payment.events.v1', 'appointment')).toContain('payment.confirmed');
      expect(consumed('appointment.events.v1', 'video')).toContain('appointment.confirmed');
      // The meeting itself: video → Zoom (fetch), under the consumer span of appointment.confirmed.
      expect(trace.some((s) => s.service === 'video' && s.kind === 'client')).toBe(true);
      // The gateway's SSE consumer got the meeting link in the same trace.
      expect(kafka(trace, 'consumer', 'appointment.events.v1').some((s) => s.service === 'gateway')).toBe(true);
      // One tree: every span hangs from another span of the trace, up to the booking request.
      const ids = new Set(trace.map((s) => s.spanId));
      const roots = trace.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
      expect(roots.map((s) => `${s.service} ${s.name}`)).toEqual([`gateway ${server.name}`]);
    }, 60_000);
  });

  describe('metrics', () => {
    const scraped = new Map<ServiceName, Sample[]>();
    beforeAll(async () => {
      // payment's inbox is empty once the webhook is processed; read after the flow settled.
      for (const s of services) scraped.set(s, await scrape(platform.metricsUrl(s)));
    });
    const m = (s: ServiceName) => scraped.get(s)!;
    /** Mean of a histogram from its _sum and _count. */
    const mean = (samples: Sample[], name: string, match: Record<string, string> = {}) => sumOf(samples, `${name}_sum`, match) / sumOf(samples, `${name}_count`, match);
    const buckets = (samples: Sample[], name: string) => new Set(samplesOf(samples, `${name}_bucket`).map((s) => s.labels.le));

    it('serves process metrics on every service (event-loop delay, CPU, heap)', () => {
      for (const s of services) {
        const lag = samplesOf(m(s), 'nodejs_eventloop_lag_p99_seconds');
        expect({ s, has: lag.length }).toEqual({ s, has: 1 });
        expect(lag[0]!.value).toBeGreaterThan(0);
        expect(lag[0]!.value).toBeLessThan(2);
        expect(sumOf(m(s), 'process_cpu_seconds_total')).toBeGreaterThan(0);
        expect(sumOf(m(s), 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
      }
    });

    it('has RED metrics per route and per RPC, with buckets around the 400/500 ms thresholds', () => {
      const http = m('gateway');
      const booked = { method: 'POST', route: '/v1/appointments', status_code: '201' };
      expect(sumOf(http, 'http_server_request_duration_seconds_count', booked)).toBeGreaterThanOrEqual(1);
      expect(mean(http, 'http_server_request_duration_seconds', booked)).toBeLessThan(10);
      expect([...buckets(http, 'http_server_request_duration_seconds')]).toEqual(expect.arrayContaining(['0.4', '0.5']));
      for (const [s, rpc] of [['identity', 'Register'], ['search', 'SearchProfessionals'], ['appointment', 'Book'], ['payment', 'CreateInvoice'], ['payment', 'IngestWebhook']] as const) {
        const ok = { grpc_method: rpc, grpc_code: 'OK' };
        expect({ s, rpc, count: sumOf(m(s), 'grpc_server_handling_seconds_count', ok) >= 1 }).toEqual({ s, rpc, count: true });
        expect(mean(m(s), 'grpc_server_handling_seconds', ok)).toBeLessThan(10);
      }
      // Errors are counted by name, as the chart's alerts select them.
      expect(samplesOf(m('identity'), 'grpc_server_handling_seconds_count').some((x) => x.labels.grpc_code === 'Unauthenticated' || x.labels.grpc_code === 'AlreadyExists')).toBe(true);
    });

    it('has the business SLIs with SLO-shaped buckets and sane values', () => {
      const pay = m('payment');
      // Bitcoin QR < 2 s: invoice creation.
      expect(sumOf(pay, 'invoice_creation_seconds_count', { outcome: 'created' })).toBeGreaterThanOrEqual(1);
      expect(mean(pay, 'invoice_creation_seconds', { outcome: 'created' })).toBeLessThan(10);
      expect([...buckets(pay, 'invoice_creation_seconds')]).toEqual(expect.arrayContaining(['2', '5']));
      // Payment confirmation < 5 s: webhook stored → payment.confirmed.
      expect(sumOf(pay, 'webhook_to_confirmation_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(mean(pay, 'webhook_to_confirmation_seconds')).toBeLessThan(30);
      // Meeting link < 2 s: appointment.confirmed → meeting recorded.
      const video = m('video');
      expect(sumOf(video, 'meeting_link_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(mean(video, 'meeting_link_seconds')).toBeLessThan(30);
      expect([...buckets(video, 'meeting_link_seconds')]).toEqual(expect.arrayContaining(['2']));
      // Bookings by status.
      const appointment = m('appointment');
      for (const status of ['held', 'confirmed', 'meeting_ready']) expect({ status, n: sumOf(appointment, 'bookings_total', { status }) }).toEqual({ status, n: 1 });
    });

    it('has the event pipeline: outbox backlog and age, consumer lag per group and partition, inbox backlog, consumption', () => {
      for (const s of ['identity', 'search', 'appointment', 'payment', 'video'] as const) {
        const backlog = samplesOf(m(s), 'outbox_backlog', { service: s });
        expect({ s, backlog: backlog.length }).toEqual({ s, backlog: 1 });
        expect(backlog[0]!.value).toBeLessThan(50);
        expect(samplesOf(m(s), 'outbox_oldest_age_seconds', { service: s })[0]!.value).toBeLessThan(60);
      }
      for (const s of ['appointment', 'payment', 'video'] as const) expect({ s, published: sumOf(m(s), 'outbox_published_total', { service: s }) > 0 }).toEqual({ s, published: true });
      for (const [s, group, topic] of [['payment', 'payment', 'appointment.events.v1'], ['appointment', 'appointment', 'payment.events.v1'], ['video', 'video', 'appointment.events.v1'], ['search', 'search', 'appointment.events.v1']] as const) {
        const lag = samplesOf(m(s), 'kafka_consumer_lag', { consumergroup: group, topic });
        // One series per partition (6 per topic), each small once the flow settled.
        expect({ s, partitions: lag.length }).toEqual({ s, partitions: 6 });
        for (const p of lag) expect(p.value).toBeLessThan(100);
      }
      expect(samplesOf(m('payment'), 'inbox_backlog', { service: 'payment' })).toEqual([expect.objectContaining({ value: 0 })]);
      expect(sumOf(m('appointment'), 'events_consumed_total', { group: 'appointment', type: 'payment.confirmed', outcome: 'done' })).toBe(1);
      expect(sumOf(m('video'), 'events_consumed_total', { group: 'video', type: 'appointment.confirmed', outcome: 'done' })).toBe(1);
      expect(sumOf(m('video'), 'events_delivery_delay_seconds_count', { group: 'video' })).toBeGreaterThanOrEqual(1);
    });

    it('has breaker states and cache hit/miss counts', () => {
      expect(samplesOf(m('payment'), 'circuit_breaker_state').map((x) => x.value)).toContain(0);
      expect(samplesOf(m('video'), 'circuit_breaker_state').map((x) => x.value)).toContain(0);
      const lookups = m('search');
      expect(sumOf(lookups, 'cache_lookups_total', { outcome: 'hit' })).toBeGreaterThanOrEqual(1);
      expect(sumOf(lookups, 'cache_lookups_total', { outcome: 'miss' })).toBeGreaterThanOrEqual(1);
    });
  });

  describe('logs', () => {
    const lines = (s: ServiceName) =>
      platform
        .output(s)
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
    // The gateway's access log is written in chunks, at least every quarter-second (bufferedStdout).
    beforeAll(() => eventually(async () => lines('gateway').some((l) => l.reqId === booking.requestId && l.msg === 'request completed'), 5_000, 50));

    it('writes no password, token or email of the requests, in any service', () => {
      const all = services.map((s) => platform.output(s)).join('\n');
      // The requests were logged (so the check below is not vacuous) ...
      expect(all).toMatch(/"url":"\/v1\/auth\/login"/);
      expect(all).toMatch(/"url":"\/v1\/appointments\?access_token=\[redacted\]&email=\[redacted\]"/);
      // ... and none of what they carried.
      for (const [what, secret] of Object.entries({ ...secrets, encodedEmail: encodeURIComponent(secrets.email), joinUrl: booking.joinUrl })) {
        if (!secret) continue;
        expect({ what, leaked: all.includes(secret) }).toEqual({ what, leaked: false });
      }
      expect(all).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/);
      expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\./);
    });

    it('carries the trace and span ids, and the gateway request id, inside requests', () => {
      const gateway = lines('gateway').filter((l) => l.reqId === booking.requestId);
      // One line per request (the access log), with its route, status and duration.
      expect(gateway.filter((l) => l.msg === 'request completed')).toEqual([expect.objectContaining({ req: expect.objectContaining({ method: 'POST', route: '/v1/appointments' }), res: { statusCode: 201 }, responseTime: expect.any(Number) })]);
      expect(gateway.filter((l) => l.msg === 'incoming request')).toEqual([]);
      for (const line of gateway) {
        expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
        expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
      }
      const traceId = gateway[0]!.trace_id;
      expect(receiver.spans.some((s) => s.traceId === traceId && s.service === 'gateway' && s.attributes['http.request.id'] === booking.requestId)).toBe(true);
    });
  });
});

function describeSpans(spans: ReceivedSpan[]): string {
  return spans
    .map((s) => `${s.service}:${s.kind}:${s.name}`)
    .sort()
    .join(', ');
}
