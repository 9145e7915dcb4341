import { eventually, uniqueName } from './infra';
import { kafkajs } from './kafkajs';
import { kafkaTopics } from './platform';

/** A needle found in the messages (key, value or a header) of a topic. */
export interface TopicHit {
  topic: string;
  needle: string;
  messages: number;
}

/**
 * Reads every message of every topic of a platform's namespace (scripts/infra/kafka/topics.txt,
 * dead-letter topics included) from the start to the end they have now, and searches each
 * message's key, value and headers, as raw bytes, for each needle (UTF-8, case-sensitive: protobuf
 * keeps strings as they were written). Resolves with the hits and how many messages were read.
 */
export async function scanTopics(brokers: string[], namespace: string, needles: string[]): Promise<{ hits: TopicHit[]; messagesRead: number }> {
  const { Kafka, logLevel } = await kafkajs();
  const kafka = new Kafka({ brokers, clientId: uniqueName('topic-scan'), logLevel: logLevel.NOTHING });
  const topics = kafkaTopics().map((t) => namespace + t.topic);
  const pending = new Map<string, number>(); // `${topic}/${partition}` → the offset after the last message
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > Number(p.low)) pending.set(`${topic}/${p.partition}`, Number(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const counts = new Map<string, number>();
  let messagesRead = 0;
  if (pending.size > 0) {
    const wanted = needles.map((n) => ({ needle: n, bytes: Buffer.from(n, 'utf8') }));
    const consumer = kafka.consumer({ groupId: uniqueName('topic-scan') });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: topics.filter((t) => [...pending.keys()].some((k) => k.startsWith(`${t}/`))), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const end = pending.get(`${topic}/${partition}`);
          if (end === undefined || Number(message.offset) >= end) return;
          messagesRead++;
          const parts = [message.key, message.value, ...Object.values(message.headers ?? {}).flat()].filter((b): b is Buffer => Buffer.isBuffer(b));
          for (const { needle, bytes } of wanted) {
            if (parts.some((b) => b.includes(bytes))) counts.set(`${topic}\n${needle}`, (counts.get(`${topic}\n${needle}`) ?? 0) + 1);
          }
          if (Number(message.offset) + 1 >= end) pending.delete(`${topic}/${partition}`);
        },
      });
      await eventually(async () => pending.size === 0, 60_000, 100);
    } finally {
      await consumer.disconnect();
    }
  }
  const hits = [...counts].map(([key, messages]) => {
    const [topic, needle] = key.split('\n') as [string, string];
    return { topic, needle, messages };
  });
  return { hits, messagesRead };
}
