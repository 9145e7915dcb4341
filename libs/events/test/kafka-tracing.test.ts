import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type pg from 'pg';
import { createLogger, currentTraceId } from '@cryptocare/platform';
import { eventTablesSql, KafkaBus, Outbox, OutboxRelay, startIdempotentConsumer } from '@cryptocare/events';
import { createKafkaTopics, dropSchema, eventually, freshSchema, infraUrls, pgSqlDatabase, uniqueName } from '@cryptocare/testing';
import { inMemoryTracing } from '@cryptocare/testing/src/in-memory-tracing';

/**
 * Trace context over the outbox and real Kafka: the request that recorded an event, the relay's
 * PRODUCER span and the consumer's CONSUMER span are one trace, whatever context the relay runs in.
 */
describe('tracing through the outbox and Kafka', () => {
  const { kafkaBrokers } = infraUrls();
  const exporter = inMemoryTracing('events-test');
  const lines: Array<Record<string, any>> = [];
  const logger = createLogger(
    'appointment',
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  let schema: string;
  let pool: pg.Pool;
  let topic: string;
  let bus: KafkaBus;

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('events_trace'));
    await pool.query(eventTablesSql(schema));
    topic = uniqueName('events-trace');
    await createKafkaTopics(kafkaBrokers, [{ topic, numPartitions: 2 }]);
    bus = new KafkaBus({ brokers: kafkaBrokers, clientId: 'events-trace', logger: createLogger('kafka', 'silent') });
  }, 60_000);

  afterAll(async () => {
    await bus?.close();
    await dropSchema(pool, schema);
  });

  it('makes the request, the publish and the consumption one trace; the consumer span is a child of and linked to the producer span', async () => {
    const db = pgSqlDatabase(pool);
    const outbox = new Outbox(schema, 'appointment', () => topic);
    const seen: Array<{ traceId: string; eventId: string }> = [];
    const group = uniqueName('events-trace-group');
    const subscription = await startIdempotentConsumer({
      bus,
      db,
      schema,
      groupId: group,
      topics: [topic],
      logger,
      handlers: {
        'appointment.expired': async (event) => {
          seen.push({ traceId: currentTraceId(), eventId: event.id });
          logger.info({ eventId: event.id }, 'handled');
        },
      },
    });
    try {
      // The request: records the event inside its span.
      const request = trace.getTracer('test').startSpan('POST /v1/appointments/:id/cancel', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      const event = await context.with(trace.setSpan(ROOT_CONTEXT, request), () =>
        db.$transaction((tx) => outbox.add(tx, 'appointment.expired', 'a-1', { appointmentId: 'a-1' })),
      );
      request.end();
      expect(event.traceparent).toBe(`00-${request.spanContext().traceId}-${request.spanContext().spanId}-01`);

      // The relay runs later, in another trace (here: one of its own), as it would after a wake-up.
      const relay = new OutboxRelay({ db, schema, bus, logger, service: 'appointment' });
      const unrelated = trace.getTracer('test').startSpan('unrelated', {}, ROOT_CONTEXT);
      expect(await context.with(trace.setSpan(ROOT_CONTEXT, unrelated), () => relay.publishBatch())).toBe(1);
      unrelated.end();

      await eventually(async () => seen.length === 1, 30_000);
      const spans = await eventually(async () => {
        const all = exporter.getFinishedSpans();
        return all.some((s) => s.kind === SpanKind.CONSUMER) ? all : undefined;
      });
      const send = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
      const processSpan = spans.find((s) => s.kind === SpanKind.CONSUMER)!;
      const traceId = request.spanContext().traceId;

      expect(send.name).toBe(`send ${topic}`);
      expect(send.spanContext().traceId).toBe(traceId);
      expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(send.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.message.id': event.id });

      expect(processSpan.name).toBe(`process ${topic}`);
      expect(processSpan.spanContext().traceId).toBe(traceId);
      expect(processSpan.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(processSpan.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
      expect(processSpan.attributes).toMatchObject({ 'messaging.consumer.group.name': group, 'cryptocare.event.type': 'appointment.expired', 'cryptocare.event.outcome': 'done' });

      // The handler ran in that trace, and its log line says so.
      expect(seen).toEqual([{ traceId, eventId: event.id }]);
      expect(lines.find((l) => l.msg === 'handled')).toMatchObject({ trace_id: traceId, span_id: processSpan.spanContext().spanId });

      // Lag per partition, as /metrics reports it.
      const lag = await eventually(async () => {
        const rows = await bus.lag(group, [topic]);
        return rows.length === 2 && rows.every((r) => r.lag === 0) ? rows : undefined;
      }, 15_000);
      expect(lag.map((r) => r.partition).sort()).toEqual([0, 1]);
    } finally {
      await subscription.stop();
    }
  }, 90_000);
});
