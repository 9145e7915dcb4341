import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '@cryptocare/platform';
import { KafkaBus } from '@cryptocare/events';
import { createKafkaTopics, eventually, infraUrls, uniqueName } from '@cryptocare/testing';

/**
 * The fixes of libs/events/src/kafkajs-fixes.ts (loaded with the Kafka bus) against the real
 * broker: kafkajs 2.2.4 is unmaintained, so what it gets wrong is fixed here and proven here.
 */
describe('kafkajs, as the Kafka bus runs it', () => {
  const { kafkaBrokers } = infraUrls();

  /** Timers armed with a negative delay (Node runs them after 1 ms) while `during` runs. */
  async function negativeTimers(during: () => Promise<void>): Promise<number> {
    const realSetTimeout = global.setTimeout;
    let negative = 0;
    const spy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      if (typeof ms === 'number' && ms < 0) negative++;
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout);
    try {
      await during();
    } finally {
      spy.mockRestore();
    }
    return negative;
  }

  it('leaves an idle broker connection idle (no 1 ms polling of an empty request queue)', async () => {
    new KafkaBus({ brokers: kafkaBrokers, clientId: 'fixes', logger: createLogger('kafka', 'silent') }); // loads the fixes
    const admin = new Kafka({ brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.listTopics(); // a connection that has answered a request
      const negative = await negativeTimers(() => new Promise((r) => setTimeout(r, 500)));
      expect(negative).toBe(0); // about 375 in half a second without the fix
      expect((await admin.listTopics()).length).toBeGreaterThan(0); // and it still answers
    } finally {
      await admin.disconnect();
    }
  });

  it('still sends requests that had to wait for an in-flight one', async () => {
    const topic = uniqueName('kafkajs-fixes');
    await createKafkaTopics(kafkaBrokers, [{ topic, numPartitions: 1 }]);
    const kafka = new Kafka({ brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    // One request in flight per connection: the other sends queue behind it.
    const producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    try {
      await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send({ topic, messages: [{ key: String(i), value: `m${i}` }] })));
      await eventually(async () => Number((await admin.fetchTopicOffsets(topic))[0]?.high) === 30, 10_000);
    } finally {
      await Promise.all([producer.disconnect(), admin.disconnect()]);
      await admin.connect().then(() => admin.deleteTopics({ topics: [topic] })).finally(() => admin.disconnect()).catch(() => undefined);
    }
  });
});
