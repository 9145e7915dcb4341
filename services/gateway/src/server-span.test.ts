import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createLogger } from '@cryptocare/platform';
import { inMemoryTracing } from '@cryptocare/testing/src/in-memory-tracing';
import { inRequestTrace, registerServerSpans } from './server-span';

const exporter = inMemoryTracing('gateway');

/** A gateway-like app: an access line per request written in onResponse, then the server spans. */
async function tracedApp() {
  const lines: Array<Record<string, unknown>> = [];
  const access = createLogger(
    'gateway',
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  const app = Fastify({ genReqId: () => 'req-42' });
  app.addHook('onResponse', async (request, reply) => inRequestTrace(request, () => access.info({ reqId: request.id, status: reply.statusCode }, 'request completed')));
  await registerServerSpans(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/v1/professionals/:id', async () => {
    // Work after an await, as a gRPC call would be: still inside the request's span.
    await new Promise((resolve) => setTimeout(resolve, 5));
    trace.getTracer('grpc').startSpan('search.SearchService/GetProfessional').end();
    return { ok: true };
  });
  app.post('/v1/appointments', async () => {
    throw Object.assign(new Error('slot 2026-12-03T10:00 for alice@example.ch is taken'), { statusCode: 500, code: 'SLOT_TAKEN' });
  });
  await app.ready();
  return { app, lines };
}

const serverSpans = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
function theServerSpan() {
  const spans = serverSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe('server spans made from fastify hooks', () => {
  it('names the span by route, keeps the query out and carries the request id', async () => {
    const { app } = await tracedApp();
    const answer = await app.inject({ method: 'GET', url: '/v1/professionals/p-1?q=cardio&email=bob%40example.ch' });
    expect(answer.statusCode).toBe(200);
    const span = theServerSpan();
    expect(span.name).toBe('GET /v1/professionals/:id');
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/v1/professionals/p-1',
      'url.scheme': 'http',
      'http.route': '/v1/professionals/:id',
      'http.request.id': 'req-42',
      'http.response.status_code': 200,
    });
    expect(JSON.stringify(span.attributes)).not.toMatch(/cardio|example\.ch/);
    expect(span.status.code).toBe(SpanStatusCode.OK);
    await app.close();
  });

  it("continues the caller's trace and parents the handler's spans, even after an await", async () => {
    const { app } = await tracedApp();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await app.inject({ method: 'GET', url: '/v1/professionals/p-1', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const server = theServerSpan();
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    const grpc = exporter.getFinishedSpans().find((s) => s.name === 'search.SearchService/GetProfessional')!;
    expect(grpc.spanContext().traceId).toBe(traceId);
    expect(grpc.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    await app.close();
  });

  it('marks a failure by its code only: the message may quote input', async () => {
    const { app } = await tracedApp();
    expect((await app.inject({ method: 'POST', url: '/v1/appointments' })).statusCode).toBe(500);
    const span = theServerSpan();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ 'error.type': 'SLOT_TAKEN', 'http.response.status_code': 500 });
    expect(JSON.stringify(span.attributes)).not.toMatch(/alice|2026-12-03/);
    await app.close();
  });

  it('writes the access line inside the trace, and traces no probe', async () => {
    const { app, lines } = await tracedApp();
    await app.inject({ method: 'GET', url: '/v1/professionals/p-1' });
    await app.inject({ method: 'GET', url: '/healthz' });
    const span = theServerSpan();
    expect(lines[0]).toMatchObject({ msg: 'request completed', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(lines[1]).toMatchObject({ msg: 'request completed' });
    expect(lines[1]).not.toHaveProperty('trace_id');
    await app.close();
  });
});
