import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { kafkajs } from './kafkajs';

/** The real servers' addresses, as scripts/infra/up.sh exported them (see jest-global-setup). */
export function infraUrls() {
  const { DATABASE_URL, REDIS_URL, KAFKA_BROKERS } = process.env;
  if (!DATABASE_URL || !REDIS_URL || !KAFKA_BROKERS) {
    throw new Error('DATABASE_URL, REDIS_URL and KAFKA_BROKERS must be set: run `make test` or scripts/infra/up.sh');
  }
  return { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, kafkaBrokers: KAFKA_BROKERS.split(',') };
}

/** A name unique to this test run, safe as a schema, topic or group name. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Creates a fresh schema and returns it with a pool; drop it with `dropSchema`. */
export async function freshSchema(prefix: string): Promise<{ schema: string; pool: pg.Pool }> {
  const schema = uniqueName(prefix);
  const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 5 });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return { schema, pool };
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}

export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Creates Kafka topics for a test and waits until every partition has a leader. kafkajs' own
 * `waitForLeaders` gives up on "does not host this topic-partition", which a broker answers for a
 * moment after creating topics while other clients create theirs; this waits it out.
 */
export async function createKafkaTopics(brokers: string[], topics: Array<{ topic: string; numPartitions: number }>): Promise<void> {
  const { Kafka, logLevel } = await kafkajs();
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics, waitForLeaders: false });
    await eventually(async () => {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      return described.length === topics.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
    }, 30_000, 200);
  } finally {
    await admin.disconnect();
  }
}
