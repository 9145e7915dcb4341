import { Kafka, logLevel, CompressionTypes, type Consumer, type Producer, type Admin, type IHeaders } from 'kafkajs';
import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { contextFromHeaders, contextFromTraceparent, injectHeaders, recordFailure } from '@cryptocare/platform';
import type { BusMessage, EventBus, OutgoingMessage, SubscribeOptions, Subscription } from './bus';
import './kafkajs-fixes'; // kafkajs is unmaintained: what it gets wrong that we depend on

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /**
   * Prefix of every topic and consumer group, e.g. "t42." in a test run, so runs sharing one
   * broker never see each other's events. Empty in deployments.
   */
  namespace?: string;
}

const tracerOf = () => trace.getTracer('@cryptocare/events');

/**
 * Kafka through kafkajs. The producer is idempotent (no duplicates from its own retries); each
 * subscription is one consumer in its group, committing a message's offset only after its
 * handler resolved, so a crash redelivers (the idempotent consumer makes that harmless).
 *
 * Tracing (OpenTelemetry messaging conventions), done here rather than by the kafkajs
 * instrumentation because one batch of the outbox relay carries messages of many traces:
 * - each published message gets a PRODUCER span `send <topic>` whose parent is the trace context
 *   the message already carries in its `traceparent` header (the outbox row's, i.e. the request
 *   that caused the event), else the active context; the header is then rewritten to that span;
 * - each delivered message is handled inside a CONSUMER span `process <topic>` that is a child of
 *   the producer span (so a booking stays ONE trace across services) and also links to it (the
 *   messaging convention for consumers, which keeps the hop visible in tools that follow links).
 */
export class KafkaBus implements EventBus {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private producerReady: Promise<Producer> | undefined;
  private admin: Admin | undefined;
  private readonly consumers = new Set<Consumer>();

  private readonly namespace: string;

  constructor(private readonly options: KafkaBusOptions) {
    this.namespace = options.namespace ?? '';
    const log = options.logger.child({ component: 'kafka' });
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, log: entry }) => {
        const { message, ...extra } = entry;
        if (level <= logLevel.ERROR) log.error(extra, message);
        else log.warn(extra, message);
      },
      retry: { initialRetryTime: 100, retries: 8 },
    });
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    const fullTopic = this.ns(topic);
    const tracer = tracerOf();
    const traced = messages.map((m) => {
      const parent = m.headers?.traceparent ? contextFromTraceparent(m.headers.traceparent) : context.active();
      const span = tracer.startSpan(
        `send ${topic}`,
        { kind: SpanKind.PRODUCER, attributes: messageAttributes(fullTopic, 'send', m.key, m.headers) },
        parent,
      );
      const headers = injectHeaders(trace.setSpan(parent, span), { ...m.headers });
      return { span, message: { key: m.key, value: m.value, headers } };
    });
    try {
      await producer.send({
        topic: fullTopic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: traced.map((t) => t.message),
      });
    } catch (err) {
      for (const t of traced) recordFailure(t.span, err);
      throw err;
    } finally {
      for (const t of traced) t.span.end();
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: this.ns(options.groupId),
      sessionTimeout: 15_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 20_000,
      retry: { retries: 10 },
    });
    this.consumers.add(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics.map((t) => this.ns(t)), fromBeginning: options.fromBeginning ?? false });
    await consumer.run({
      // Offsets are committed only for messages whose handler resolved.
      autoCommit: true,
      autoCommitInterval: 500,
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        const busMessage: BusMessage = {
          topic: topic.slice(this.namespace.length),
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          value: message.value ?? Buffer.alloc(0),
          headers: readHeaders(message.headers),
        };
        const producerContext = contextFromHeaders(busMessage.headers);
        const producerSpan = trace.getSpanContext(producerContext);
        const span = tracerOf().startSpan(
          `process ${busMessage.topic}`,
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              ...messageAttributes(topic, 'process', busMessage.key, busMessage.headers),
              'messaging.consumer.group.name': options.groupId,
              'messaging.destination.partition.id': String(partition),
              'messaging.kafka.offset': Number(message.offset),
            },
            links: producerSpan && trace.isSpanContextValid(producerSpan) ? [{ context: producerSpan }] : [],
          },
          producerContext,
        );
        try {
          await context.with(trace.setSpan(producerContext, span), () => options.handle(busMessage));
        } catch (err) {
          recordFailure(span, err);
          throw err;
        } finally {
          span.end();
        }
        await heartbeat();
      },
    });
    return {
      stop: async () => {
        await consumer.disconnect();
        this.consumers.delete(consumer);
      },
    };
  }

  async lag(groupId: string, topics: string[]) {
    const admin = await this.getAdmin();
    const out: Array<{ topic: string; partition: number; lag: number }> = [];
    const committed = await admin.fetchOffsets({ groupId: this.ns(groupId), topics: topics.map((t) => this.ns(t)) });
    for (const { topic: fullTopic, partitions } of committed) {
      const topic = fullTopic.slice(this.namespace.length);
      const ends = await admin.fetchTopicOffsets(fullTopic);
      for (const p of partitions) {
        const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
        const at = Number(p.offset) < 0 ? Number(ends.find((e) => e.partition === p.partition)?.low ?? 0) : Number(p.offset);
        out.push({ topic, partition: p.partition, lag: Math.max(0, end - at) });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    if (this.producerReady) await (await this.producerReady).disconnect();
    if (this.admin) await this.admin.disconnect();
  }

  private ns(name: string): string {
    return this.namespace + name;
  }

  private getProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
      return producer;
    })();
    return this.producerReady;
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }
}

function messageAttributes(topic: string, operation: 'send' | 'process', key: string, headers: Record<string, string> | undefined): Attributes {
  return {
    'messaging.system': 'kafka',
    'messaging.destination.name': topic,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.kafka.message.key': key,
    ...(headers?.['event-id'] ? { 'messaging.message.id': headers['event-id'] } : {}),
    ...(headers?.['event-type'] ? { 'cryptocare.event.type': headers['event-type'] } : {}),
  };
}

function readHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : v.toString();
  }
  return out;
}
