import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { inMemoryTracing } from '@cryptocare/testing/src/in-memory-tracing';
import { createLogger, safeUrl, scrubSecrets } from './logger';
import { instrumentations, serviceNameFromProcess, startTelemetry, telemetryWanted } from './telemetry';
import { continueTrace, contextFromHeaders, currentTraceId, currentTraceparent, injectHeaders } from './trace';

describe('telemetry configuration (OTEL_* variables)', () => {
  it('is off unless an exporter or an OTLP endpoint is asked for, and OTEL_SDK_DISABLED wins', () => {
    expect(telemetryWanted({})).toBe(false);
    expect(telemetryWanted({ OTEL_SERVICE_NAME: 'payment' })).toBe(false);
    expect(telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' })).toBe(true);
    expect(telemetryWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel-collector:4318/v1/traces' })).toBe(true);
    expect(telemetryWanted({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(telemetryWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' })).toBe(false);
    expect(telemetryWanted({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' })).toBe(false);
    expect(telemetryWanted({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' })).toBe(true);
  });

  it('names the service from OTEL_SERVICE_NAME, else from the entry script', () => {
    expect(serviceNameFromProcess({ OTEL_SERVICE_NAME: 'video' }, ['node', '/app/services/payment/dist/main.js'])).toBe('video');
    expect(serviceNameFromProcess({}, ['node', '/app/services/payment/dist/main.js'])).toBe('payment');
    expect(serviceNameFromProcess({}, ['node', '/work/main/services/gateway/src/main.ts'])).toBe('gateway');
    expect(serviceNameFromProcess({}, ['node', '/usr/lib/node_modules/jest/bin/jest.js'])).toBe('cryptocare');
  });

  it('runs every instrumentation unless OTEL_NODE_DISABLED_INSTRUMENTATIONS / _ENABLED_ leave some out', () => {
    const names = (env: NodeJS.ProcessEnv) => instrumentations(env).map((i) => i.instrumentationName.replace('@opentelemetry/instrumentation-', ''));
    expect(names({})).toEqual(['undici', 'pg', 'ioredis']);
    expect(names({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: ' pg, IORedis ,' })).toEqual(['undici']);
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'undici,pg' })).toEqual(['undici', 'pg']);
    expect(names({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'undici,pg', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' })).toEqual(['undici']);
    expect(names({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: '' })).toHaveLength(3);
  });

  it('starts nothing by default (tests and development pay nothing)', async () => {
    const telemetry = startTelemetry('identity', { env: {} });
    expect(telemetry).toMatchObject({ enabled: false, serviceName: 'identity' });
    expect(currentTraceparent()).toBe('');
    await telemetry.shutdown();
  });
});

describe('with an SDK installed (in-memory exporter)', () => {
  const exporter = inMemoryTracing('test');

  function capture() {
    const lines: Array<Record<string, any>> = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    return { lines, stream };
  }

  it('writes trace_id and span_id on every log line inside a span, and none outside', () => {
    const { lines, stream } = capture();
    const log = createLogger('appointment', 'info', stream).child({ reqId: 'req-1' });
    log.info('outside');
    const span = trace.getTracer('t').startSpan('booking');
    context.with(trace.setSpan(context.active(), span), () => log.info({ appointmentId: 'a1' }, 'inside'));
    span.end();
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ msg: 'inside', reqId: 'req-1', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId, trace_flags: '01' });
  });

  it('carries the context through message headers and the stored traceparent', () => {
    const span = trace.getTracer('t').startSpan('request');
    const headers = context.with(trace.setSpan(context.active(), span), () => {
      expect(currentTraceId()).toBe(span.spanContext().traceId);
      expect(currentTraceparent()).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      return injectHeaders(context.active(), { 'event-id': 'e1' });
    });
    span.end();
    expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(trace.getSpanContext(contextFromHeaders(headers))).toMatchObject({ traceId: span.spanContext().traceId, isRemote: true });
    expect(currentTraceId()).toBe('');
  });

  it('continues a stored trace and links to the one that triggered the work', async () => {
    const booking = trace.getTracer('t').startSpan('POST /v1/appointments', {}, ROOT_CONTEXT);
    const stored = `00-${booking.spanContext().traceId}-${booking.spanContext().spanId}-01`;
    booking.end();
    const webhook = trace.getTracer('t').startSpan('POST /webhooks/swiss-bitcoin-pay', {}, ROOT_CONTEXT);
    const traceId = await context.with(trace.setSpan(ROOT_CONTEXT, webhook), () => continueTrace('payment.confirm', stored, async () => currentTraceId()));
    webhook.end();
    expect(traceId).toBe(booking.spanContext().traceId);
    const confirm = exporter.getFinishedSpans().find((s) => s.name === 'payment.confirm')!;
    expect(confirm.parentSpanContext?.spanId).toBe(booking.spanContext().spanId);
    expect(confirm.links.map((l) => l.context.spanId)).toEqual([webhook.spanContext().spanId]);
  });
});

describe('log hygiene helpers', () => {
  it('masks query values, emails, bearer tokens, JWTs and URL credentials', () => {
    expect(safeUrl('/v1/appointments?access_token=abc&email=a%40b.ch&limit=5')).toBe('/v1/appointments?access_token=[redacted]&email=[redacted]&limit=[redacted]');
    expect(safeUrl('/v1/me')).toBe('/v1/me');
    const line = scrubSecrets(
      '{"msg":"failed for alice@example.ch with Bearer abc.def-ghi, token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig, db postgresql://user:s3cret@db:5432/x"}',
    );
    for (const secret of ['alice@example.ch', 'abc.def-ghi', 'eyJhbGciOiJIUzI1NiJ9', 's3cret']) expect(line).not.toContain(secret);
    expect(line).toContain('[email]');
    expect(line).toContain('postgresql://[redacted]@db:5432/x');
  });

  it('masks an email wherever its run of letters starts, in short and very long lines alike', () => {
    expect(scrubSecrets('id=abc123alice.b+x@mail.example.ch, then x.y@z.io.')).toBe('id=[email], then [email].');
    expect(scrubSecrets(`${'x'.repeat(20_000)}@example.ch`)).toBe('[email]');
    expect(scrubSecrets(`name ${'x'.repeat(20_000)}@ (no domain)`)).toBe(`name ${'x'.repeat(20_000)}@ (no domain)`);
    // Lines without the strings a pattern needs are left as they are.
    const plain = '{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","url":"/v1/professionals/5b7c8a52"}';
    expect(scrubSecrets(plain)).toBe(plain);
  });

  it('logs a request by method and path only', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('gateway', 'info', stream);
    log.info(
      {
        req: { method: 'POST', url: '/v1/auth/login?token=t-123', headers: { authorization: 'Bearer t-456', cookie: 'sid=t-789' }, body: { email: 'bob@example.ch', password: 'pw-1' }, ip: '203.0.113.9' },
        nested: { deeper: { password: 'pw-2', email: 'carol@example.ch', token: 't-000' } },
      },
      'incoming request',
    );
    const out = lines.join('');
    for (const secret of ['t-123', 't-456', 't-789', 'bob@example.ch', 'pw-1', '203.0.113.9', 'pw-2', 'carol@example.ch', 't-000']) expect(out).not.toContain(secret);
    expect(JSON.parse(out).req).toEqual({ method: 'POST', url: '/v1/auth/login?token=[redacted]' });
  });
});
