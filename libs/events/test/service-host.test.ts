import net from 'node:net';
import { createLogger, databasePool } from '@cryptocare/platform';
import { encodeEnvelope, eventTablesSql, hostService, InProcessBus, KafkaBus, newEvent, Outbox, type EventBus, type HostedService } from '@cryptocare/events';
import { dropSchema, eventually, freshSchema, infraUrls, pgSqlDatabase } from '@cryptocare/testing';
import type pg from 'pg';

const logger = createLogger('test', 'silent');

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function readyz(service: HostedService): Promise<{ status: number; body: { ready: boolean; checks: Record<string, string>; degraded: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; checks: Record<string, string>; degraded: string[] } };
}

describe('hosted service: readiness and graceful stop (real PostgreSQL, real Kafka)', () => {
  const { databaseUrl, kafkaBrokers } = infraUrls();
  let schema: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('service_host_it'));
    await pool.query(eventTablesSql(schema));
  });
  afterAll(() => dropSchema(pool, schema));

  const host = (bus: EventBus, extra: Partial<Parameters<typeof hostService>[0]> = {}) =>
    hostService({
      name: 'host-test',
      logger,
      grpc: { host: '127.0.0.1', port: 0, reflection: false },
      http: { host: '127.0.0.1', port: 0 },
      // The test's pool is not the service's: the host ends its own on stop.
      db: { ...pgSqlDatabase(pool), $disconnect: async () => undefined },
      pool: databasePool(databaseUrl, { max: 2 }),
      schema,
      bus,
      ownsBus: true,
      outbox: new Outbox(schema, 'host-test'),
      services: [],
      ...extra,
    });

  it('reports the bus as degraded when Kafka is unreachable (still ready: the outbox holds events), and ok when it answers', async () => {
    const lost = await host(new KafkaBus({ brokers: [`127.0.0.1:${await closedPort()}`], clientId: 'host-test', logger }));
    try {
      const started = Date.now();
      const report = await readyz(lost);
      expect(report.status).toBe(200);
      expect(report.body.checks.database).toBe('ok');
      expect(report.body.checks.bus).not.toBe('ok');
      expect(report.body.degraded).toEqual(['bus']);
      expect(Date.now() - started).toBeLessThan(5_000); // a probe answers within its timeout
    } finally {
      await lost.stop();
    }
    const reachable = await host(new KafkaBus({ brokers: kafkaBrokers, clientId: 'host-test', logger }));
    try {
      const report = await readyz(reachable);
      expect(report.body.checks).toMatchObject({ database: 'ok', bus: 'ok' });
      expect(report.status).toBe(200);
    } finally {
      await reachable.stop();
    }
  });

  it('publishes the outbox through its own pool, not the service’s Prisma client, and ends that pool when it stops', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    await bus.subscribe({ groupId: 'host-relay-watch', topics: ['appointment.events.v1'], fromBeginning: true, handle: async (message) => void seen.push(message.headers['event-id']!) });
    const own = databasePool(databaseUrl, { max: 2 });
    // Prisma's interactive transactions cost ~0.7 ms of CPU each: the relay must not use them.
    const prismaLike = { ...pgSqlDatabase(pool), $transaction: () => Promise.reject(new Error('the relay used the Prisma client')), $disconnect: async () => undefined };
    const service = await host(bus, { db: prismaLike, pool: own });
    const outbox = new Outbox(schema, 'host-test');
    const event = await pgSqlDatabase(pool).$transaction((tx) => outbox.add(tx, 'appointment.expired', 'a-relay', { appointmentId: 'a-relay' }));
    service.relay.wake();
    await eventually(async () => seen.includes(event.id));
    await service.stop();
    expect(own.ended).toBe(true);
  });

  it('answers 503 while stopping, and lets the consumer finish and record the event in hand', async () => {
    const bus = new InProcessBus();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let handlerStarted = false;
    const service = await host(bus, {
      consumers: [
        {
          groupId: 'host-drain',
          topics: ['appointment.events.v1'],
          handlers: {
            'appointment.expired': async () => {
              handlerStarted = true;
              await held;
            },
          },
        },
      ],
    });
    expect((await readyz(service)).status).toBe(200);
    const event = newEvent('appointment', 'appointment.expired', 'a-drain', { appointmentId: 'a-drain' });
    await bus.publish('appointment.events.v1', [{ key: 'a-drain', value: encodeEnvelope(event), headers: {} }]);
    await eventually(async () => handlerStarted);

    let stopped = false;
    const stopping = service.stop().then(() => (stopped = true));
    try {
      const during = await readyz(service);
      expect(during.status).toBe(503);
      expect(during.body.checks.shutdown).toMatch(/draining/);
      await new Promise((r) => setTimeout(r, 200));
      expect(stopped).toBe(false); // still waiting for the message in hand
    } finally {
      release(); // also when an expectation failed, so the stop completes
      await stopping;
    }
    const rows = await pool.query(`SELECT 1 FROM "${schema}".processed_events WHERE consumer = 'host-drain' AND event_id = $1`, [event.id]);
    expect(rows.rowCount).toBe(1);
  });
});
