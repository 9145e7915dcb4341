import { createLogger } from '@cryptocare/platform';
import { encodeEnvelope, eventTablesSql, InProcessBus, isInfrastructureOutage, newEvent, startIdempotentConsumer, type BusMessage } from '@cryptocare/events';
import { dropSchema, eventually, freshSchema, infraUrls, pgSqlDatabase, startTcpProxy } from '@cryptocare/testing';
import pg from 'pg';
import { Writable } from 'node:stream';

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
  it('retries with jittered exponential delays within bounds, then dead-letters after the last attempt', async () => {
    // The consumer's own log line for each retry carries the delay it chose.
    const retryLog: Array<{ eventId: string; attempt: number; delayMs: number }> = [];
    const capture = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) {
          const entry = JSON.parse(line) as { msg?: string; eventId: string; attempt: number; delayMs: number };
          if (entry.msg === 'event handler failed; retrying') retryLog.push({ eventId: entry.eventId, attempt: entry.attempt, delayMs: entry.delayMs });
        }
        callback();
      },
    });
    const bus = new InProcessBus();
    const dlq: BusMessage[] = [];
    await bus.subscribe({ groupId: 'jitter-dlq-reader', topics: ['appointment.events.v1.dlq'], handle: async (m) => void dlq.push(m) });
    const attempts = new Map<string, number>();
    const sub = await startIdempotentConsumer({
      bus,
      db: pgSqlDatabase(pool),
      schema,
      groupId: 'jitter',
      topics: ['appointment.events.v1'],
      logger: createLogger('test', 'warn', capture),
      maxAttempts: 4,
      retryDelayMs: 20,
      retryMaxDelayMs: 50,
      handlers: {
        'appointment.expired': async (event) => {
          attempts.set(event.data.appointmentId, (attempts.get(event.data.appointmentId) ?? 0) + 1);
          throw new Error('still refused');
        },
      },
    });
    const poison = ['j-1', 'j-2', 'j-3', 'j-4', 'j-5'].map((id) => message(id));
    await bus.publish('appointment.events.v1', poison);
    await eventually(async () => dlq.length === poison.length, 15_000);
    // Bounded: 4 calls per event, then its dead letter with the last error.
    expect([...attempts.values()]).toEqual([4, 4, 4, 4, 4]);
    expect(dlq.map((m) => m.headers['dlq-error'])).toEqual(poison.map(() => 'still refused'));
    expect(retryLog).toHaveLength(poison.length * 3);
    // Each delay lies between half and all of its exponential step (20, 40, then capped at 50).
    const step = (attempt: number) => Math.min(50, 20 * 2 ** (attempt - 1));
    for (const { attempt, delayMs } of retryLog) {
      expect(delayMs).toBeGreaterThanOrEqual(step(attempt) / 2);
      expect(delayMs).toBeLessThanOrEqual(step(attempt));
    }
    // Jittered: without jitter the 15 delays would take exactly 3 values (20, 40, 50).
    expect(new Set(retryLog.map((r) => r.delayMs)).size).toBeGreaterThan(3);
    expect(new Set(retryLog.filter((r) => r.attempt === 1).map((r) => r.delayMs)).size).toBeGreaterThan(1);
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

  describe('through a database outage (a proxy in front of PostgreSQL cuts every connection)', () => {
    const outageLog = () => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          for (const line of String(chunk).split('\n').filter(Boolean)) lines.push((JSON.parse(line) as { msg: string }).msg);
          callback();
        },
      });
      return { lines, logger: createLogger('test', 'warn', stream) };
    };
    const proxiedPool = async () => {
      const url = new URL(infraUrls().databaseUrl);
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(url.port) });
      url.port = String(proxy.address.port);
      const proxied = new pg.Pool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 2_000 });
      proxied.on('error', () => undefined); // idle clients cut by the proxy
      return { proxy, proxied };
    };

    it('waits for the database instead of dead-lettering the event, then applies it once', async () => {
      const { proxy, proxied } = await proxiedPool();
      const { lines, logger: log } = outageLog();
      const bus = new InProcessBus();
      const dlq: BusMessage[] = [];
      await bus.subscribe({ groupId: 'outage-dlq-reader', topics: ['appointment.events.v1.dlq'], handle: async (m) => void dlq.push(m) });
      const sub = await startIdempotentConsumer({
        bus,
        db: pgSqlDatabase(proxied),
        schema,
        groupId: 'outage',
        topics: ['appointment.events.v1'],
        logger: log,
        maxAttempts: 2,
        retryDelayMs: 5,
        outageRetryDelayMs: 20,
        handlers: {
          'appointment.expired': async (event, tx) => {
            await tx.$executeRawUnsafe(`INSERT INTO "${schema}".effects VALUES ($1)`, event.data.appointmentId);
          },
        },
      });
      try {
        proxy.cut();
        await bus.publish('appointment.events.v1', [message('a-outage')]);
        // Far more tries than the retry budget of 2 attempts: before, the event was dead-lettered.
        await eventually(async () => lines.filter((l) => l.startsWith('database unreachable')).length >= 3, 20_000);
        expect(dlq).toEqual([]);
        proxy.restore();
        await eventually(async () => (await pool.query(`SELECT 1 FROM "${schema}".effects WHERE appointment_id = 'a-outage'`)).rowCount === 1, 20_000);
        expect(dlq).toEqual([]);
      } finally {
        proxy.restore();
        await sub.stop();
        await proxied.end();
        await proxy.close();
      }
    });

    it('stops during an outage without dead-lettering the event in hand (it is delivered again after the restart)', async () => {
      const { proxy, proxied } = await proxiedPool();
      const { lines, logger: log } = outageLog();
      const bus = new InProcessBus();
      const dlq: BusMessage[] = [];
      await bus.subscribe({ groupId: 'stop-dlq-reader', topics: ['appointment.events.v1.dlq'], handle: async (m) => void dlq.push(m) });
      const sub = await startIdempotentConsumer({
        bus,
        db: pgSqlDatabase(proxied),
        schema,
        groupId: 'outage-stop',
        topics: ['appointment.events.v1'],
        logger: log,
        maxAttempts: 2,
        retryDelayMs: 5,
        outageRetryDelayMs: 20,
        handlers: { 'appointment.expired': async () => undefined },
      });
      try {
        proxy.cut();
        await bus.publish('appointment.events.v1', [message('a-stop')]);
        await eventually(async () => lines.some((l) => l.startsWith('database unreachable')), 20_000);
        await sub.stop();
        expect(dlq).toEqual([]);
      } finally {
        proxy.restore();
        await sub.stop();
        await proxied.end();
        await proxy.close();
      }
    });
  });

  it('tells an outage (server gone, connection cut, pool unable to connect) from a failing event', () => {
    const prisma = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(isInfrastructureOutage(prisma('P1017', 'Server has closed the connection.'))).toBe(true);
    expect(isInfrastructureOutage(prisma('P2024', 'Timed out fetching a new connection from the connection pool.'))).toBe(true);
    expect(isInfrastructureOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isInfrastructureOutage(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isInfrastructureOutage(new Error('wrapped', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(isInfrastructureOutage(new Error('downstream refused'))).toBe(false);
    expect(isInfrastructureOutage(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(false);
    expect(isInfrastructureOutage(prisma('P2002', 'Unique constraint failed'))).toBe(false);
  });
});
