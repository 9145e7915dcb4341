import { context, trace, type Context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { events } from '@cryptocare/contracts';
import { contextFromTraceparent, counter, histogram, isInfrastructureOutage, jitteredBackoffMs, latencyBuckets, redeliveryPolicy, sloBuckets } from '@cryptocare/platform';
import type { BusMessage, EventBus, Subscription } from './bus';
import { decodeEnvelope, type AnyDomainEvent, type DomainEvent } from './envelope';
import { table, type SqlDatabase, type SqlTx } from './sql';

export type EventHandlers = {
  [T in events.EventType]?: (event: DomainEvent<T>, tx: SqlTx) => Promise<void>;
};

export interface IdempotentConsumerOptions {
  bus: EventBus;
  db: SqlDatabase;
  /** The consuming service's schema (holds `processed_events`). */
  schema: string;
  /** Consumer group, e.g. "appointment". */
  groupId: string;
  topics: string[];
  handlers: EventHandlers;
  logger: Logger;
  /** Attempts before the message goes to `<topic>.dlq`. */
  maxAttempts?: number;
  /** Ceiling of the first retry's delay (jittered down to half of it); doubles each retry. */
  retryDelayMs?: number;
  /** No retry waits longer than this. */
  retryMaxDelayMs?: number;
  /**
   * While the database is unreachable (isInfrastructureOutage), the event is not dead-lettered:
   * its delivery waits and tries again (first wait about this long, doubling, jittered) until the
   * database answers or the consumer stops. Default 500 ms, at most 10 s between tries.
   */
  outageRetryDelayMs?: number;
  /** Called after a handler's transaction committed (e.g. to wake the outbox relay). */
  afterCommit?: () => void;
  /**
   * Work around each delivery of a handled event, outside its transaction: e.g. a slow provider
   * call before it (so no connection and row lock are held meanwhile), a clean-up after it.
   * `deliver` runs the handler (with its retries and dead-lettering).
   */
  around?: (event: AnyDomainEvent, deliver: () => Promise<void>) => Promise<void>;
}

const consumed = counter('events_consumed_total', 'Events handled by consumers', ['group', 'type', 'outcome']);
const handling = histogram('events_handling_seconds', 'Time a consumer spends on one event (retries included)', ['group', 'type'], latencyBuckets);
const deliveryDelay = histogram(
  'events_delivery_delay_seconds',
  'From an event being recorded (its time) to a consumer starting on it: outbox relay + Kafka + queueing',
  ['group', 'type'],
  sloBuckets,
);

/**
 * The trace a handler runs in. With Kafka the bus already opened a CONSUMER span, child of the
 * producer span, in the event's trace: keep it. Otherwise (in-process bus, tracing off upstream,
 * a message without headers) continue the trace recorded in the envelope.
 */
function handlerContext(traceparent: string): Context {
  const active = trace.getSpanContext(context.active());
  if (!traceparent) return context.active();
  if (active && trace.isSpanContextValid(active) && traceparent.split('-')[1] === active.traceId) return context.active();
  return contextFromTraceparent(traceparent);
}

/**
 * At-least-once delivery, exactly-once effect (ARCHITECTURE section 5): the handler's effect and
 * a `processed_events(consumer, event_id)` row are written in one transaction, so a redelivered
 * event (after a crash before the offset commit) finds its row and does nothing. A handler that
 * keeps failing is retried with backoff, then parked on `<topic>.dlq` with the error; but not
 * while the failure is the database being unreachable (restarting, connections cut): that is no
 * fault of the event, so its delivery waits for the database and is not dead-lettered.
 */
export async function startIdempotentConsumer(options: IdempotentConsumerOptions): Promise<Subscription> {
  const { bus, db, schema, groupId, handlers, logger } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const retryPolicy = { maxAttempts, initialDelayMs: retryDelayMs, maxDelayMs: options.retryMaxDelayMs ?? 5_000 };
  const processed = table(schema, 'processed_events');
  const outageDelayMs = options.outageRetryDelayMs ?? 500;
  let stopping = false;
  const wakeOnStop = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeOnStop.delete(done);
        resolve();
      }
      wakeOnStop.add(done);
    });

  async function handleOnce(event: DomainEvent, handler: (event: DomainEvent, tx: SqlTx) => Promise<void>): Promise<'done' | 'duplicate'> {
    return db.$transaction(
      async (tx) => {
        const inserted = await tx.$executeRawUnsafe(
          `INSERT INTO ${processed} (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING`,
          groupId,
          event.id,
        );
        if (inserted === 0) return 'duplicate' as const;
        await handler(event, tx);
        return 'done' as const;
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
  }

  async function handle(message: BusMessage): Promise<void> {
    const event = decodeEnvelope(message.value);
    if ('unknownType' in event) {
      consumed.labels(groupId, event.unknownType, 'ignored').inc();
      return;
    }
    const handler = handlers[event.type] as ((event: DomainEvent, tx: SqlTx) => Promise<void>) | undefined;
    if (!handler) return;
    const recordedAt = Date.parse(event.time);
    if (Number.isFinite(recordedAt)) deliveryDelay.labels(groupId, event.type).observe(Math.max(0, Date.now() - recordedAt) / 1000);
    // The handler runs in the producer's trace, so one booking is one trace across services.
    await context.with(handlerContext(event.traceparent), () => (options.around ? options.around(event, () => deliver(event, handler, message)) : deliver(event, handler, message)));
  }

  async function deliver(event: AnyDomainEvent, handler: (event: DomainEvent, tx: SqlTx) => Promise<void>, message: BusMessage): Promise<void> {
    const started = Date.now();
    const span = trace.getActiveSpan();
    span?.setAttributes({ 'cryptocare.event.type': event.type, 'cryptocare.event.id': event.id, 'cryptocare.event.subject': event.subject });
    const done = (outcome: string) => {
      consumed.labels(groupId, event.type, outcome).inc();
      handling.labels(groupId, event.type).observe((Date.now() - started) / 1000);
      span?.setAttribute('cryptocare.event.outcome', outcome);
    };
    // One policy per delivery (a cheap object), so its retry log names this event.
    const retries = redeliveryPolicy(retryPolicy);
    retries.onRetry(({ delay, attempt, ...reason }) => {
      const err = 'error' in reason ? reason.error : undefined;
      logger.warn({ err, eventId: event.id, type: event.type, attempt, delayMs: delay }, 'event handler failed; retrying');
    });
    let attempt = 0;
    try {
      let outcome: 'done' | 'duplicate';
      for (let outage = 0; ; outage++) {
        try {
          outcome = await retries.execute(async () => {
            attempt++;
            return handleOnce(event, handler);
          });
          break;
        } catch (err) {
          if (!isInfrastructureOutage(err)) throw err;
          // Stopping: the message stays uncommitted and is delivered again after the restart.
          if (stopping) {
            done('interrupted');
            throw err;
          }
          const delayMs = jitteredBackoffMs(outage, { initialDelayMs: outageDelayMs, maxDelayMs: 10_000 });
          logger.warn({ err, eventId: event.id, type: event.type, outageRetry: outage + 1, delayMs }, 'database unreachable; the event waits for it (not dead-lettered)');
          await pause(delayMs);
        }
      }
      done(outcome);
      if (outcome === 'done') options.afterCommit?.();
    } catch (err) {
      if (stopping && isInfrastructureOutage(err)) throw err;
      logger.error({ err, eventId: event.id, type: event.type, topic: message.topic, attempts: attempt }, 'event failed; sent to dead-letter topic');
      await bus.publish(`${message.topic}.dlq`, [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq-error': err instanceof Error ? err.message.slice(0, 500) : String(err),
            'dlq-consumer': groupId,
            'dlq-partition': String(message.partition ?? ''),
            'dlq-offset': String(message.offset ?? ''),
          },
        },
      ]);
      done('dead_lettered');
    }
  }

  const subscription = await bus.subscribe({ groupId, topics: options.topics, fromBeginning: true, handle });
  return {
    async stop() {
      stopping = true;
      for (const wake of [...wakeOnStop]) wake();
      await subscription.stop();
    },
  };
}

/** DDL shared by every service's first migration (kept here so the shapes match the code). */
export const eventTablesSql = (schema: string) => `
CREATE TABLE IF NOT EXISTS ${table(schema, 'outbox')} (
  id uuid PRIMARY KEY,
  topic text NOT NULL,
  key text NOT NULL,
  type text NOT NULL,
  payload bytea NOT NULL,
  traceparent text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_created_at ON ${table(schema, 'outbox')} (created_at, id);
CREATE TABLE IF NOT EXISTS ${table(schema, 'processed_events')} (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);`;
