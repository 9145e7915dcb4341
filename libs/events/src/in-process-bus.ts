import type { BusMessage, EventBus, OutgoingMessage, SubscribeOptions, Subscription } from './bus';

interface Group {
  topics: Set<string>;
  queue: BusMessage[];
  handle: SubscribeOptions['handle'];
  draining: Promise<void> | undefined;
  stopped: boolean;
}

/**
 * A bus in memory, for tests and a single service run without Kafka: topics are in-memory logs,
 * each consumer group sees every message once, in publish order, one at a time. A failed handler
 * is retried after a pause, as Kafka would redeliver. Nothing survives the process, not even a
 * message already taken from the outbox: embedded mode uses PostgresLogBus instead.
 */
export class InProcessBus implements EventBus {
  private readonly logs = new Map<string, BusMessage[]>();
  private readonly groups = new Map<string, Group>();

  constructor(private readonly redeliveryDelayMs = 200) {}

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const log = this.logs.get(topic) ?? [];
    this.logs.set(topic, log);
    for (const m of messages) {
      const message: BusMessage = { topic, key: m.key, value: m.value, headers: { ...m.headers }, partition: 0, offset: String(log.length) };
      log.push(message);
      for (const group of this.groups.values()) {
        if (!group.stopped && group.topics.has(topic)) {
          group.queue.push(message);
          this.drain(group);
        }
      }
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.groups.has(options.groupId)) throw new Error(`group ${options.groupId} already subscribed`);
    const group: Group = { topics: new Set(options.topics), queue: [], handle: options.handle, draining: undefined, stopped: false };
    if (options.fromBeginning) {
      for (const topic of options.topics) group.queue.push(...(this.logs.get(topic) ?? []));
    }
    this.groups.set(options.groupId, group);
    this.drain(group);
    return {
      stop: async () => {
        group.stopped = true;
        await group.draining;
        this.groups.delete(options.groupId);
      },
    };
  }

  async lag(groupId: string, topics: string[]) {
    const group = this.groups.get(groupId);
    return topics.map((topic) => ({ topic, partition: 0, lag: group ? group.queue.filter((m) => m.topic === topic).length : 0 }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.groups.keys()].map((id) => this.groups.get(id)?.draining));
    for (const g of this.groups.values()) g.stopped = true;
  }

  private drain(group: Group) {
    if (group.draining || group.queue.length === 0) return;
    group.draining = this.deliver(group).finally(() => {
      group.draining = undefined;
      if (!group.stopped && group.queue.length > 0) this.drain(group);
    });
  }

  private async deliver(group: Group) {
    // Yield first, so publish() returns before handlers run (as with a real broker).
    await Promise.resolve();
    while (!group.stopped && group.queue.length > 0) {
      const message = group.queue[0]!;
      try {
        await group.handle(message);
        group.queue.shift();
      } catch {
        await new Promise((r) => setTimeout(r, this.redeliveryDelayMs));
      }
    }
  }
}
