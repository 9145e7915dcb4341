import { Kafka, logLevel, CompressionTypes, type Consumer, type Producer, type Admin, type IHeaders } from 'kafkajs';
import type { Logger } from 'pino';
import type { BusMessage, EventBus, OutgoingMessage, SubscribeOptions, Subscription } from './bus';

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

/**
 * Kafka through kafkajs. The producer is idempotent (no duplicates from its own retries); each
 * subscription is one consumer in its group, committing a message's offset only after its
 * handler resolved, so a crash redelivers (the idempotent consumer makes that harmless).
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
    await producer.send({
      topic: this.ns(topic),
      acks: -1,
      compression: CompressionTypes.None,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
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
        await options.handle(busMessage);
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

function readHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : v.toString();
  }
  return out;
}
