import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createLogger } from '@cryptocare/platform';
import { KafkaBus } from '@cryptocare/events';
import { createKafkaTopics, eventually, infraUrls, uniqueName } from '@cryptocare/testing';

const logger = createLogger('test', 'silent');

/** Stands in for a kafkajs consumer: records calls, and crashes when told to (as kafkajs reports it). */
class FakeConsumer extends EventEmitter {
  readonly events = { CRASH: 'consumer.crash', CONNECT: 'consumer.connect', GROUP_JOIN: 'consumer.group_join', HEARTBEAT: 'consumer.heartbeat', FETCH_START: 'consumer.fetch_start' };
  readonly calls: string[] = [];
  failConnect = false;
  eachMessage: ((payload: unknown) => Promise<void>) | undefined;
  async connect() {
    this.calls.push('connect');
    if (this.failConnect) throw new Error('broker still down');
  }
  async subscribe() {
    this.calls.push('subscribe');
  }
  async run(config: { eachMessage: (payload: unknown) => Promise<void> }) {
    this.calls.push('run');
    this.eachMessage = config.eachMessage;
  }
  /** Delivers one message as kafkajs would. */
  deliver() {
    return this.eachMessage!({ topic: 't', partition: 0, message: { offset: '0', key: null, value: Buffer.from('v'), headers: {} }, heartbeat: async () => undefined });
  }
  async disconnect() {
    this.calls.push('disconnect');
  }
  crash(restart: boolean) {
    this.emit(this.events.CRASH, { payload: { error: new Error('The coordinator is not available'), groupId: 'g', restart } });
  }
}

describe('Kafka bus: consumers and the producer come back after the broker did', () => {
  it('re-creates a consumer that kafkajs gave up on (crash with restart: false), until one runs', async () => {
    const made: FakeConsumer[] = [];
    const client = {
      consumer: () => {
        const c = new FakeConsumer();
        if (made.length === 1) c.failConnect = true; // the first re-creation finds the broker still down
        made.push(c);
        return c as unknown as Consumer;
      },
      producer: () => {
        throw new Error('not used');
      },
      admin: () => {
        throw new Error('not used');
      },
    } as unknown as Kafka;
    const bus = new KafkaBus({ brokers: ['unused:1'], clientId: 'reconnect-test', logger, client, restartDelayMs: 10 });
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], handle: async () => undefined });
    expect(made).toHaveLength(1);

    // kafkajs restarts this one itself: nothing to do.
    made[0]!.crash(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(made).toHaveLength(1);

    made[0]!.crash(false);
    await eventually(async () => made.length === 3 && made[2]!.calls.includes('run'), 5_000, 10);
    expect(made[0]!.calls).toContain('disconnect');
    expect(made[1]!.calls).toEqual(['connect', 'disconnect']);
    expect(made[2]!.calls).toEqual(['connect', 'subscribe', 'run']);

    // Stopped: the running consumer leaves, and a later crash re-creates nothing.
    await sub.stop();
    expect(made[2]!.calls).toContain('disconnect');
    made[2]!.crash(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(made).toHaveLength(3);
  });

  it('re-creates a consumer that stalls without a crash, but not one that fetches or is busy in its handler', async () => {
    const made: FakeConsumer[] = [];
    const client = { consumer: () => (made.push(new FakeConsumer()), made.at(-1) as unknown as Consumer) } as unknown as Kafka;
    const bus = new KafkaBus({ brokers: ['unused:1'], clientId: 'stall-test', logger, client, restartDelayMs: 10, stallAfterMs: 200 });
    let release: () => void = () => undefined;
    let slow = false;
    const sub = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handle: () => (slow ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
    });
    // Alive: it fetches every 50 ms.
    const fetching = setInterval(() => made[0]!.emit('consumer.fetch_start', {}), 50);
    await new Promise((r) => setTimeout(r, 600));
    expect(made).toHaveLength(1);
    clearInterval(fetching);
    // Busy in a long handler (a database restarting): not judged.
    slow = true;
    const handled = made[0]!.deliver();
    await new Promise((r) => setTimeout(r, 600));
    expect(made).toHaveLength(1);
    release();
    await handled;
    // Silent and idle: replaced by a new consumer, which runs.
    await eventually(async () => made.length === 2 && made[1]!.calls.includes('run'), 5_000, 10);
    expect(made[0]!.calls).toContain('disconnect');
    await sub.stop();
    await new Promise((r) => setTimeout(r, 600));
    expect(made).toHaveLength(2);
  });

  it('replaces a producer whose sends keep failing once it has failed for long enough', async () => {
    const producers: Array<{ sends: number; disconnected: boolean }> = [];
    let failing = true;
    const client = {
      producer: () => {
        const p = { sends: 0, disconnected: false };
        producers.push(p);
        return {
          connect: async () => undefined,
          disconnect: async () => {
            p.disconnected = true;
          },
          send: async () => {
            p.sends++;
            if (failing) throw new Error('OUT_OF_ORDER_SEQUENCE_NUMBER');
          },
        };
      },
    } as unknown as Kafka;
    const bus = new KafkaBus({ brokers: ['unused:1'], clientId: 'stale-producer-test', logger, client, producerStaleAfterMs: 300 });
    const message = { key: 'k', value: Buffer.from('v'), headers: {} };
    await expect(bus.publish('t', [message])).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    await expect(bus.publish('t', [message])).rejects.toThrow();
    expect(producers).toHaveLength(1); // failing, but not for long enough yet
    await new Promise((r) => setTimeout(r, 300));
    await expect(bus.publish('t', [message])).rejects.toThrow();
    expect(producers[0]!.disconnected).toBe(true);
    failing = false;
    await bus.publish('t', [message]);
    expect(producers).toHaveLength(2);
    expect(producers[1]!.sends).toBe(1);
  });

  it('publishes again once the broker is reachable, after a first connect that failed', async () => {
    const { kafkaBrokers } = infraUrls();
    const topic = uniqueName('reconnect');
    await createKafkaTopics(kafkaBrokers, [{ topic, numPartitions: 1 }]);
    // A loopback TCP proxy in front of the shared broker (never touched): closed at first.
    const [brokerHost, brokerPort] = kafkaBrokers[0]!.split(':');
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(brokerPort), brokerHost);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as net.AddressInfo;
    await new Promise<void>((resolve) => proxy.close(() => resolve()));

    // Few retries so the failing connect gives up quickly (the bus's own client retries longer).
    const client = new Kafka({ clientId: 'reconnect-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 } });
    const bus = new KafkaBus({ brokers: [`127.0.0.1:${port}`], clientId: 'reconnect-test', logger, client });
    const message = { key: 'k', value: Buffer.from('v'), headers: {} };
    try {
      await expect(bus.publish(topic, [message])).rejects.toThrow();
      await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
      await bus.publish(topic, [message]);
      const admin = new Kafka({ clientId: 'reconnect-check', brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(Number(offsets[0]!.high)).toBe(1);
    } finally {
      await bus.close();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
