import { type ChildProcess } from 'node:child_process';
import { createLogger } from '@cryptocare/platform';
import { eventTablesSql, KafkaBus, Outbox, OutboxRelay } from '@cryptocare/events';
import { createKafkaTopics, dropSchema, eventually, freshSchema, infraUrls, pgSqlDatabase, uniqueName } from '@cryptocare/testing';
import { startConsumer } from './fixtures/start-consumer';
import type pg from 'pg';

const logger = createLogger('test', 'silent');


describe('outbox → real Kafka → idempotent consumer in another process', () => {
  const { databaseUrl, kafkaBrokers } = infraUrls();
  let schema: string;
  let pool: pg.Pool;
  let topic: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('events_it'));
    await pool.query(eventTablesSql(schema));
    await pool.query(`CREATE TABLE "${schema}".bookings (id text PRIMARY KEY)`);
    // No unique constraint on purpose: a second application of an event would show as a second row.
    await pool.query(`CREATE TABLE "${schema}".effects (event_id uuid NOT NULL, appointment_id text NOT NULL)`);
    topic = uniqueName('events-it');
    await createKafkaTopics(kafkaBrokers, [{ topic, numPartitions: 3 }, { topic: `${topic}.dlq`, numPartitions: 1 }]);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await dropSchema(pool, schema);
  });

  async function bookAndPublish(appointmentId: string, bus: KafkaBus) {
    const db = pgSqlDatabase(pool);
    const outbox = new Outbox(schema, 'appointment', () => topic);
    const event = await db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO "${schema}".bookings (id) VALUES ($1)`, appointmentId);
      return outbox.add(tx, 'appointment.held', appointmentId, {
        appointmentId,
        patientId: 'p1',
        professionalId: 'd1',
        startAt: '2026-12-01T09:00:00Z',
        endAt: '2026-12-01T09:30:00Z',
        price: { amount: '120.00', currency: 'CHF' },
        holdExpiresAt: '2026-11-30T10:00:00Z',
      });
    });
    const relay = new OutboxRelay({ db, schema, bus, logger, service: 'appointment' });
    expect(await relay.publishBatch()).toBe(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(0);
    return event;
  }

  it('a rolled-back transaction publishes nothing', async () => {
    const db = pgSqlDatabase(pool);
    const outbox = new Outbox(schema, 'appointment', () => topic);
    await expect(
      db.$transaction(async (tx) => {
        await outbox.add(tx, 'appointment.expired', 'a-rolled-back', { appointmentId: 'a-rolled-back' });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(0);
  });

  it('applies an event exactly once even when the consumer dies after the effect and before the offset commit', async () => {
    const group = uniqueName('events-it-group');
    const env = { DATABASE_URL: databaseUrl, KAFKA_BROKERS: kafkaBrokers.join(','), SCHEMA: schema, TOPIC: topic, GROUP: group };
    const bus = new KafkaBus({ brokers: kafkaBrokers, clientId: 'events-it-producer', logger });
    try {
      const first = startConsumer({ ...env, CRASH_AFTER_EFFECT: '1' });
      children.push(first.child);
      await eventually(async () => first.lines.includes('READY'), 60_000);
      const event = await bookAndPublish('a-crash', bus);

      // The first consumer applies the effect, then is killed before acknowledging.
      expect(await first.exited).toBeNull();
      expect(first.lines).toEqual(expect.arrayContaining([`DELIVERED ${event.id}`, 'CRASHING']));
      const effects = async () => (await pool.query(`SELECT event_id FROM "${schema}".effects WHERE appointment_id = 'a-crash'`)).rows;
      expect(await effects()).toHaveLength(1);

      // A new consumer in the same group gets the same event again and does not apply it twice.
      const second = startConsumer(env);
      children.push(second.child);
      await eventually(async () => second.lines.includes(`DELIVERED ${event.id}`), 60_000);
      const later = await bookAndPublish('a-after-crash', bus);
      await eventually(async () => second.lines.includes(`DELIVERED ${later.id}`), 30_000);
      await eventually(async () => (await pool.query(`SELECT 1 FROM "${schema}".effects WHERE appointment_id = 'a-after-crash'`)).rowCount === 1);

      expect(await effects()).toEqual([{ event_id: event.id }]);
      const processed = await pool.query(`SELECT consumer FROM "${schema}".processed_events WHERE event_id = $1`, [event.id]);
      expect(processed.rows).toEqual([{ consumer: group }]);
      second.child.kill('SIGTERM');
    } finally {
      await bus.close();
    }
  }, 120_000);
});
