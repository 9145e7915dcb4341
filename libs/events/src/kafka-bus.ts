import { Kafka, logLevel, CompressionTypes, type Consumer, type Producer, type Admin, type IHeaders } from 'kafkajs';
import { context, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { contextFromHeaders, contextFromTraceparent, injectHeaders, jitteredBackoffMs, recordFailure } from '@cryptocare/platform';
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
  /** A crashed consumer that kafkajs gives up on is re-created after a jittered delay from here up to 30 s. */
  restartDelayMs?: number;
  /**
   * A consumer that shows no sign of life (no fetch, heartbeat or group join) for this long while
   * no handler runs is re-created (default 45 s; a healthy one fetches at least every 5 s).
   */
  stallAfterMs?: number;
  /** A producer whose sends have all failed for this long is replaced by a new one (default 30 s). */
  producerStaleAfterMs?: number;
  /** Tests only: stands in for the kafkajs client (e.g. a fake whose consumers crash). */
  client?: Pick<Kafka, 'consumer' | 'producer' | 'admin'>;
}

/** Readiness gives up on the broker after this long. */
const READY_TIMEOUT_MS = 3_000;

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
  private readonly kafka: Pick<Kafka, 'consumer' | 'producer' | 'admin'>;
  /** For readiness only: fails at once instead of retrying, so a probe answers within its timeout. */
  private readonly probeKafka: Pick<Kafka, 'admin'>;
  private probe: Promise<Admin> | undefined;
  private producerReady: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private readonly log: Logger;
  private closed = false;
  private readonly consumers = new Set<Consumer>();
  /** When the producer's sends started to fail, all of them since (undefined: the last one worked). */
  private failingSince: number | undefined;
  private connectedProducer: Producer | undefined;

  private readonly namespace: string;
  /** Topics this bus published to or subscribed to (namespaced): what the readiness probe asks about. */
  private readonly usedTopics = new Set<string>();

  constructor(private readonly options: KafkaBusOptions) {
    this.namespace = options.namespace ?? '';
    const log = options.logger.child({ component: 'kafka' });
    this.log = log;
    const logCreator = () => ({ level, log: entry }: { level: logLevel; log: { message: string } & Record<string, unknown> }) => {
      const { message, ...extra } = entry;
      if (level <= logLevel.ERROR) log.error(extra, message);
      else log.warn(extra, message);
    };
    this.kafka =
      options.client ??
      new Kafka({ clientId: options.clientId, brokers: options.brokers, logLevel: logLevel.WARN, logCreator, retry: { initialRetryTime: 100, retries: 8 } });
    this.probeKafka =
      options.client ??
      new Kafka({
        clientId: `${options.clientId}-readiness`,
        brokers: options.brokers,
        logLevel: logLevel.NOTHING,
        connectionTimeout: 1_000,
        requestTimeout: READY_TIMEOUT_MS,
        retry: { retries: 0 },
      });
  }

  /**
   * Readiness: the cluster answers a metadata request within a few seconds. A dedicated admin
   * client without retries, so an unreachable broker fails the probe instead of hanging it.
   * The request names one topic this bus uses: kafkajs encodes an empty topic list as null, which
   * the protocol reads as every topic, so its describeCluster() fetched the metadata of the whole
   * cluster every 5 s per replica (400 KB an answer on a broker holding a few thousand topics,
   * encoded by the broker and decoded here each time).
   */
  async checkReady(): Promise<void> {
    const probe = (this.probe ??= (async () => {
      const admin = this.probeKafka.admin();
      await admin.connect();
      return admin;
    })());
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe.then(async (admin) => {
          const [topic] = this.usedTopics;
          if (topic) await admin.fetchTopicMetadata({ topics: [topic] });
          else await admin.describeCluster();
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      // Reconnect on the next probe.
      if (this.probe === probe) this.probe = undefined;
      void probe.then((admin) => admin.disconnect()).catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    const fullTopic = this.ns(topic);
    this.usedTopics.add(fullTopic);
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
      this.failingSince = undefined;
    } catch (err) {
      for (const t of traced) recordFailure(t.span, err);
      this.replaceProducerIfStale(producer);
      throw err;
    } finally {
      for (const t of traced) t.span.end();
    }
  }

  /**
   * kafkajs restarts a consumer itself after a retriable crash (`restart: true`); after any other
   * (e.g. a broker gone longer than its retries) the consumer stays stopped, and this service
   * would silently stop consuming. Such a consumer is replaced by a new one after a jittered
   * delay, again and again until one runs; the subscription object stays the same.
   */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    for (const topic of options.topics) this.usedTopics.add(this.ns(topic));
    let current: Consumer | undefined;
    let stopped = false;
    let restartTimer: NodeJS.Timeout | undefined;
    let failures = 0;
    const liveness = { lastSignAt: Date.now(), handling: 0 };
    const retire = (consumer: Consumer) => {
      this.consumers.delete(consumer);
      if (current === consumer) current = undefined;
      return consumer.disconnect().catch(() => undefined);
    };
    const scheduleRestart = () => {
      if (stopped || this.closed || restartTimer) return;
      const delay = jitteredBackoffMs(failures++, { initialDelayMs: this.options.restartDelayMs ?? 1_000, maxDelayMs: 30_000 });
      this.log.warn({ groupId: options.groupId, delayMs: delay }, 'Kafka consumer stopped after a crash; re-creating it');
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopped || this.closed) return;
        start().then(
          () => {
            failures = 0;
          },
          (err) => {
            this.log.error({ err, groupId: options.groupId }, 'Kafka consumer could not be re-created; will try again');
            scheduleRestart();
          },
        );
      }, delay);
    };
    const start = async () => {
      const consumer = this.kafka.consumer({
        groupId: this.ns(options.groupId),
        sessionTimeout: 15_000,
        heartbeatInterval: 3_000,
        rebalanceTimeout: 20_000,
        retry: { retries: 10 },
      });
      current = consumer;
      this.consumers.add(consumer);
      liveness.lastSignAt = Date.now();
      const alive = () => {
        liveness.lastSignAt = Date.now();
      };
      for (const sign of [consumer.events.CONNECT, consumer.events.GROUP_JOIN, consumer.events.HEARTBEAT, consumer.events.FETCH_START]) consumer.on(sign, alive);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        this.log.error({ err: payload.error, groupId: options.groupId, restart: payload.restart }, 'Kafka consumer crashed');
        if (payload.restart || stopped) return;
        void retire(consumer).then(scheduleRestart);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: options.topics.map((t) => this.ns(t)), fromBeginning: options.fromBeginning ?? false });
        await this.run(consumer, options, liveness);
      } catch (err) {
        await retire(consumer);
        throw err;
      }
    };
    // kafkajs can also stall without a crash after its broker came back (kafkajs issue 659; a
    // consumer stuck in its retry backoff looks the same): such a consumer is replaced too.
    const stallAfterMs = this.options.stallAfterMs ?? 45_000;
    const watchdog = setInterval(() => {
      const consumer = current;
      if (!consumer || liveness.handling > 0 || Date.now() - liveness.lastSignAt < stallAfterMs) return;
      this.log.warn({ groupId: options.groupId, silentMs: Date.now() - liveness.lastSignAt }, 'Kafka consumer shows no sign of life; re-creating it');
      void retire(consumer).then(scheduleRestart);
    }, Math.max(10, Math.floor(stallAfterMs / 4)));
    watchdog.unref();
    await start().catch((err) => {
      clearInterval(watchdog);
      throw err;
    });
    return {
      stop: async () => {
        stopped = true;
        clearInterval(watchdog);
        clearTimeout(restartTimer);
        if (current) await retire(current);
      },
    };
  }

  private async run(consumer: Consumer, options: SubscribeOptions, liveness: { handling: number }): Promise<void> {
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
        liveness.handling++;
        try {
          await context.with(trace.setSpan(producerContext, span), () => options.handle(busMessage));
        } catch (err) {
          recordFailure(span, err);
          throw err;
        } finally {
          liveness.handling--;
          span.end();
        }
        await heartbeat();
      },
    });
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
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    const [producer, admin, probe] = await Promise.all([this.producerReady, this.admin, this.probe].map((p) => p?.catch(() => undefined)));
    await Promise.all([producer?.disconnect(), admin?.disconnect(), probe?.disconnect()]);
  }

  private ns(name: string): string {
    return this.namespace + name;
  }

  /**
   * Connected once and kept (kafkajs reconnects a connected producer by itself). A first connect
   * that failed (broker down when the service started) is forgotten, so the next publish, e.g.
   * the outbox relay's next pass, connects again instead of failing forever.
   */
  private getProducer(): Promise<Producer> {
    const ready = (this.producerReady ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
      await producer.connect();
      this.connectedProducer = producer;
      return producer;
    })());
    ready.catch(() => {
      if (this.producerReady === ready) this.producerReady = undefined;
    });
    return ready;
  }

  /**
   * kafkajs reconnects a producer by itself, but one whose sends keep failing after the broker
   * came back (e.g. an idempotent producer whose sequence the restarted broker refuses) never
   * recovers: after `producerStaleAfterMs` of nothing but failures it is replaced.
   */
  private replaceProducerIfStale(producer: Producer) {
    const now = Date.now();
    if (this.connectedProducer !== producer) return; // already replaced
    this.failingSince ??= now;
    if (now - this.failingSince < (this.options.producerStaleAfterMs ?? 30_000)) return;
    this.log.warn({ failingForMs: now - this.failingSince }, 'Kafka producer failed every send for too long; replacing it');
    this.failingSince = undefined;
    this.producerReady = undefined;
    this.connectedProducer = undefined;
    void producer.disconnect().catch(() => undefined);
  }

  /** As getProducer: a failed first connect is tried again next time. */
  private getAdmin(): Promise<Admin> {
    const ready = (this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })());
    ready.catch(() => {
      if (this.admin === ready) this.admin = undefined;
    });
    return ready;
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
