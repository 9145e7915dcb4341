import * as grpc from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { video } from '@cryptocare/contracts';
import { inMemoryTracing } from '@cryptocare/testing/src/in-memory-tracing';
import { createGrpcClient, defineService, startGrpcServer, type GrpcClient, type RunningGrpcServer } from './grpc';
import { notFound } from './errors';
import { createLogger } from './logger';

// The spans below are made by grpc.ts itself.
const exporter = inMemoryTracing('test');
let server: RunningGrpcServer;
let client: GrpcClient<typeof video, 'VideoService'>;
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  const service = defineService(
    video,
    'VideoService',
    {
      async getMeeting(request) {
        if (request.appointmentId === 'missing') throw notFound('MEETING_NOT_FOUND', 'no meeting for this appointment');
        if (request.appointmentId === 'boom') throw new Error('database down');
        // Work after an await, as a query would be: still in the call's trace.
        await new Promise((resolve) => setTimeout(resolve, 5));
        trace.getTracer('pg').startSpan('SELECT meetings').end();
        return { meeting: { appointmentId: request.appointmentId, provider: 'zoom', joinUrl: 'https://zoom.example/j/1' } };
      },
      getJoinLink: async () => ({}),
      linkHost: async () => ({}),
      ingestZoomWebhook: async () => ({}),
    },
    logger,
  );
  server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [service], logger, reflection: false });
  client = createGrpcClient(video, 'VideoService', `dns:///127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
});

afterAll(async () => {
  client.close();
  await server.shutdown(1_000);
});

const spansOf = (kind: SpanKind) => exporter.getFinishedSpans().filter((s) => s.kind === kind);
/** Server spans end when the answer is sent, which may be just after the client has it. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('gRPC spans made by the client and the handler wrapper', () => {
  it("makes a client span under the caller's span and a server span under it, in one trace", async () => {
    const request = trace.getTracer('t').startSpan('GET /v1/appointments/:id/meeting');
    await context.with(trace.setSpan(context.active(), request), () => client.getMeeting({ appointmentId: 'a1' }));
    request.end();
    await settled();
    const [clientSpan] = spansOf(SpanKind.CLIENT);
    const [serverSpan] = spansOf(SpanKind.SERVER);
    const query = exporter.getFinishedSpans().find((s) => s.name === 'SELECT meetings');
    expect(clientSpan).toMatchObject({ name: 'cryptocare.video.v1.VideoService/GetMeeting' });
    expect(clientSpan!.attributes).toEqual({ 'rpc.system': 'grpc', 'rpc.service': 'cryptocare.video.v1.VideoService', 'rpc.method': 'GetMeeting', 'rpc.grpc.status_code': 0 });
    expect(clientSpan!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(serverSpan!.name).toBe('cryptocare.video.v1.VideoService/GetMeeting');
    expect(serverSpan!.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(serverSpan!.parentSpanContext?.spanId).toBe(clientSpan!.spanContext().spanId);
    expect(query!.parentSpanContext?.spanId).toBe(serverSpan!.spanContext().spanId);
  });

  it("marks failures: the server's own as errors, a refusal only on the client's side", async () => {
    await expect(client.getMeeting({ appointmentId: 'missing' })).rejects.toMatchObject({ code: 'MEETING_NOT_FOUND' });
    await expect(client.getMeeting({ appointmentId: 'boom' })).rejects.toMatchObject({ status: grpc.status.INTERNAL });
    await settled();
    const byCode = (kind: SpanKind, code: grpc.status) => spansOf(kind).find((s) => s.attributes['rpc.grpc.status_code'] === code)!;
    expect(byCode(SpanKind.SERVER, grpc.status.NOT_FOUND).status.code).toBe(SpanStatusCode.UNSET);
    expect(byCode(SpanKind.CLIENT, grpc.status.NOT_FOUND).status.code).toBe(SpanStatusCode.ERROR);
    expect(byCode(SpanKind.SERVER, grpc.status.INTERNAL).status.code).toBe(SpanStatusCode.ERROR);
    expect(byCode(SpanKind.CLIENT, grpc.status.INTERNAL).status.code).toBe(SpanStatusCode.ERROR);
  });

  it("leaves the caller's metadata as it was", async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'req-1');
    await client.getMeeting({ appointmentId: 'a2' }, { metadata });
    expect(metadata.getMap()).toEqual({ 'x-request-id': 'req-1' });
  });
});
