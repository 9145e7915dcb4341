import { createLogger } from '@cryptocare/platform';
import { encodeEnvelope, eventTablesSql, InProcessBus, newEvent, startIdempotentConsumer, type BusMessage } from '@cryptocare/events';
import { dropSchema, eventually, freshSchema, pgSqlDatabase } from '@cryptocare/testing';
import type pg from 'pg';

const logger = createLogger('test', 'silent');

describe('idempotent consumer (real PostgreSQL)', () => {
  let schema: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('consumer_it'));
    await pool.query(eventTablesSql(schema));
    await pool.query(`CREATE TABLE "${schema}".effects (appointment_id text NOT NULL)`);
  });
  afterAll(() => dropSchema(pool, schema));

  const message = (appointmentId: string, id?: string): BusMessage => {
    const event = newEvent('appointment', 'appointment.expired', appointmentId, { appointmentId });
    if (id) event.id = id;
    return { topic: 'appointment.events.v1', key: appointmentId, value: encodeEnvelope(event), headers: { 'event-id': event.id } };
  };

  it('applies a redelivered event once', async () => {
    const bus = new InProcessBus();
    const sub = await startIdempotentConsumer({
      bus,
      db: pgSqlDatabase(pool),
      schema,
      groupId: 'once',
      topics: ['appointment.events.v1'],
      logger,
      handlers: {
        'appointment.expired': async (event, tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO "${schema}".effects VALUES ($1)`, event.data.appointmentId);
        },
      },
    });
    const m = message('a-dup');
    await bus.publish(m.topic, [m, m, m]);
    await eventually(async () => (await bus.lag('once', [m.topic]))[0]!.lag === 0);
    const rows = await pool.query(`SELECT * FROM "${schema}".effects WHERE appointment_id = 'a-dup'`);
    expect(rows.rowCount).toBe(1);
    await sub.stop();
  });

  it('rolls the effect back with the failure, retries, then parks the event on the dead-letter topic', async () => {
    const bus = new InProcessBus();
    const dlq: BusMessage[] = [];
    await bus.subscribe({ groupId: 'dlq-reader', topics: ['appointment.events.v1.dlq'], handle: async (m) => void dlq.push(m) });
    let attempts = 0;
    const sub = await startIdempotentConsumer({
      bus,
      db: pgSqlDatabase(pool),
      schema,
      groupId: 'failing',
      topics: ['appointment.events.v1'],
      logger,
      maxAttempts: 3,
      retryDelayMs: 5,
      handlers: {
        'appointment.expired': async (event, tx) => {
          attempts++;
          await tx.$executeRawUnsafe(`INSERT INTO "${schema}".effects VALUES ($1)`, event.data.appointmentId);
          throw new Error('downstream refused');
        },
      },
    });
    const m = message('a-poison');
    await bus.publish(m.topic, [m]);
    await eventually(async () => dlq.length === 1);
    expect(attempts).toBe(3);
    expect(dlq[0]!.headers['dlq-error']).toBe('downstream refused');
    expect(dlq[0]!.headers['dlq-consumer']).toBe('failing');
    const rows = await pool.query(`SELECT * FROM "${schema}".effects WHERE appointment_id = 'a-poison'`);
    expect(rows.rowCount).toBe(0);
    const processed = await pool.query(`SELECT * FROM "${schema}".processed_events WHERE consumer = 'failing'`);
    expect(processed.rowCount).toBe(0);
    await sub.stop();
  });
  it('runs the around hook outside the transaction, before and after the handler, for handled events only', async () => {
    const bus = new InProcessBus();
    const steps: string[] = [];
    const sub = await startIdempotentConsumer({
      bus,
      db: pgSqlDatabase(pool),
      schema,
      groupId: 'around',
      topics: ['appointment.events.v1'],
      logger,
      handlers: {
        'appointment.expired': async (event, tx) => {
          // now() is the transaction's start: it differs from this statement's start only inside a
          // transaction that already ran a statement (the processed_events insert).
          const rows = await tx.$queryRawUnsafe<Array<{ fresh: boolean }>>('SELECT now() = statement_timestamp() AS fresh');
          steps.push(`handler ${event.data.appointmentId} in-transaction=${rows[0]?.fresh === false}`);
        },
      },
      around: async (event, deliver) => {
        steps.push(`before ${event.type}`);
        await deliver();
        steps.push(`after ${event.type}`);
      },
    });
    // No handler for appointment.cancelled: neither the hook nor a handler runs for it.
    const held = newEvent('appointment', 'appointment.cancelled', 'a-x', { appointmentId: 'a-x', reason: '', wasPaid: false, cancelledBy: 'patient' });
    await bus.publish('appointment.events.v1', [{ key: 'a-x', value: encodeEnvelope(held), headers: {} }, message('a-around')]);
    await eventually(async () => steps.length === 3);
    expect(steps).toEqual(['before appointment.expired', 'handler a-around in-transaction=true', 'after appointment.expired']);
    await sub.stop();
  });
});
