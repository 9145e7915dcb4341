// The Kafka readiness probe (every 5 s in every replica) asks the broker about one topic the bus
// uses, not about the whole cluster: kafkajs' describeCluster() sends an empty topic list as null,
// which the protocol reads as every topic (a shared broker's thousands of topics in each answer).
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createLogger } from '@cryptocare/platform';
import { KafkaBus } from '@cryptocare/events';
import { createKafkaTopics, infraUrls, uniqueName } from '@cryptocare/testing';

describe('Kafka bus readiness (real broker)', () => {
  it("asks for the metadata of a topic it uses, and the broker's answer names only that topic", async () => {
    const namespace = `${uniqueName('ready')}.`;
    await createKafkaTopics(infraUrls().kafkaBrokers, [`${namespace}probe.events`, `${namespace}other.events`].map((topic) => ({ topic, numPartitions: 1 })));
    const kafka = new Kafka({ clientId: 'readiness-test', brokers: infraUrls().kafkaBrokers, logLevel: logLevel.NOTHING });
    // The real client, with its admins' metadata answers recorded.
    const answers: Array<{ call: string; topics: string[] }> = [];
    const client = {
      consumer: kafka.consumer.bind(kafka),
      producer: kafka.producer.bind(kafka),
      admin: () => {
        const admin = kafka.admin();
        const recorded: Admin = Object.create(admin);
        recorded.describeCluster = async () => {
          const cluster = await admin.describeCluster();
          answers.push({ call: 'describeCluster', topics: [] });
          return cluster;
        };
        recorded.fetchTopicMetadata = async (options) => {
          const metadata = await admin.fetchTopicMetadata(options);
          answers.push({ call: 'fetchTopicMetadata', topics: metadata.topics.map((t) => t.name) });
          return metadata;
        };
        return recorded;
      },
    };
    const bus = new KafkaBus({ brokers: infraUrls().kafkaBrokers, clientId: 'readiness-test', logger: createLogger('test', 'silent'), namespace, client });
    try {
      // Before the bus uses any topic there is nothing narrower to ask about.
      await bus.checkReady();
      expect(answers.at(-1)).toEqual({ call: 'describeCluster', topics: [] });

      await bus.publish('probe.events', [{ key: 'k', value: Buffer.from('v'), headers: {} }]);
      await bus.checkReady();
      await bus.checkReady();
      expect(answers.slice(-2)).toEqual([
        { call: 'fetchTopicMetadata', topics: [`${namespace}probe.events`] },
        { call: 'fetchTopicMetadata', topics: [`${namespace}probe.events`] },
      ]);
    } finally {
      await bus.close();
    }
  });
});
