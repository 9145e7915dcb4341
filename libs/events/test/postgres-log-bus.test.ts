import { type ChildProcess } from 'node:child_process';
import type pg from 'pg';
import { createLogger } from '@cryptocare/platform';
import { eventTablesSql, Outbox, OutboxRelay, PostgresLogBus, type BusMessage } from '@cryptocare/events';
import { dropSchema, eventually, freshSchema, infraUrls, pgSqlDatabase, uniqueName } from '@cryptocare/testing';
import { startConsumer } from './fixtures/start-consumer';

const logger = createLogger('test', 'silent');

const out = (key: string, n?: number) => ({ key, value: Buffer.from(`${key}${n === undefined ? '' : `#${n}`}`), headers: { 'event-id': `${key}-${n ?? 0}` } });
const text = (m: BusMessage) => m.value.toString();


/**
 * The embedded mode's durable bus against the real PostgreSQL, each test in a log schema of its own:
 * Kafka's guarantees (order per topic, one message at a time per group, offsets committed after the
 * handler, redelivery after a crash) without Kafka.
 */
describe('PostgresLogBus (real PostgreSQL)', () => {
  const { databaseUrl } = infraUrls();
  let schema: string;
  let pool: pg.Pool;
  const logSchemas: string[] = [];
  const buses: PostgresLogBus[] = [];
  const children: ChildProcess[] = [];

  const newBus = (options: Partial<ConstructorParameters<typeof PostgresLogBus>[0]> = {}) => {
    const logSchema = options.schema ?? uniqueName('bus_log');
    if (!logSchemas.includes(logSchema)) logSchemas.push(logSchema);
    const bus = new PostgresLogBus({ connectionString: databaseUrl, schema: logSchema, logger, pollMs: 100, redeliveryDelayMs: 20, ...options });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('bus_it'));
    await pool.query(eventTablesSql(schema));
    await pool.query(`CREATE TABLE "${schema}".bookings (id text PRIMARY KEY)`);
    // No unique constraint on purpose: a second application of an event would show as a second row.
    await pool.query(`CREATE TABLE "${schema}".effects (event_id uuid NOT NULL, appointment_id text NOT NULL)`);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const b of buses) await b.close();
    for (const s of logSchemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await dropSchema(pool, schema);
  });

  it('delivers every message to every group, in publish order per topic, one at a time', async () => {
    const bus = newBus();
    const seen: Record<string, string[]> = { a: [], b: [] };
    const inFlight: Record<string, number> = { a: 0, b: 0 };
    let maxInFlight = 0;
    const handler = (group: string) => async (m: BusMessage) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight[group]!);
      await new Promise((r) => setTimeout(r, 2));
      seen[group]!.push(`${m.topic}:${text(m)}`);
      inFlight[group]!--;
    };
    await bus.subscribe({ groupId: 'a', topics: ['t1', 't2'], fromBeginning: true, handle: handler('a') });
    await bus.publish('t1', [out('x', 1), out('y', 2)]);
    await bus.publish('t2', [out('z', 1)]);
    await bus.publish('t1', [out('x', 3)]);
    await bus.subscribe({ groupId: 'b', topics: ['t1'], fromBeginning: true, handle: handler('b') });
    await bus.publish('t1', [out('y', 4)]);
    const expected = { a: ['t1:x#1', 't1:y#2', 't2:z#1', 't1:x#3', 't1:y#4'], b: ['t1:x#1', 't1:y#2', 't1:x#3', 't1:y#4'] };
    await eventually(async () => seen.a!.length === 5 && seen.b!.length === 4);
    expect(seen).toEqual(expected);
    expect(maxInFlight).toBe(1); // per group
    const [message] = await new Promise<BusMessage[]>((resolve) => {
      void bus.subscribe({ groupId: 'peek', topics: ['t2'], fromBeginning: true, handle: async (m) => resolve([m]) });
    });
    expect(message).toMatchObject({ topic: 't2', key: 'z', headers: { 'event-id': 'z-1' }, partition: 0 });
    expect(Buffer.isBuffer(message!.value)).toBe(true);
  });

  it('keeps a topic in order with no gaps while many publishers race', async () => {
    const bus = newBus();
    const got: string[] = [];
    await bus.subscribe({ groupId: 'racer', topics: ['race'], fromBeginning: true, handle: async (m) => void got.push(text(m)) });
    // A second bus on the same log: another process publishing at the same time.
    const other = newBus({ schema: logSchemas.at(-1) });
    await Promise.all(
      Array.from({ length: 8 }, (_, p) =>
        (async () => {
          for (let i = 0; i < 15; i++) await (p % 2 ? other : bus).publish('race', [out(`p${p}`, i)]);
        })(),
      ),
    );
    await eventually(async () => got.length >= 120, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(120);
    for (let p = 0; p < 8; p++) {
      const mine = got.filter((g) => g.startsWith(`p${p}#`));
      expect(mine).toEqual(Array.from({ length: 15 }, (_, i) => `p${p}#${i}`));
    }
    expect((await bus.lag('racer', ['race']))[0]!.lag).toBe(0);
  });

  it('starts a new group at the end unless fromBeginning, and a known group where it left off', async () => {
    const bus = newBus();
    await bus.publish('t', [out('old')]);
    const fresh: string[] = [];
    const all: string[] = [];
    const freshSub = await bus.subscribe({ groupId: 'new-only', topics: ['t'], fromBeginning: false, handle: async (m) => void fresh.push(text(m)) });
    const allSub = await bus.subscribe({ groupId: 'everything', topics: ['t'], fromBeginning: true, handle: async (m) => void all.push(text(m)) });
    await bus.publish('t', [out('new')]);
    await eventually(async () => fresh.length === 1 && all.length === 2);
    expect(fresh).toEqual(['new']);
    expect(all).toEqual(['old', 'new']);
    await freshSub.stop();
    await allSub.stop();

    await bus.publish('t', [out('while-away')]);
    const again: string[] = [];
    // fromBeginning only matters for a group never seen: this one resumes after 'new'.
    await bus.subscribe({ groupId: 'everything', topics: ['t'], fromBeginning: true, handle: async (m) => void again.push(text(m)) });
    await eventually(async () => again.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(again).toEqual(['while-away']);
  });

  it('delivers a message again while its handler fails, holding back the next, and counts it as lag', async () => {
    const bus = newBus();
    const attempts: string[] = [];
    let failures = 3;
    await bus.subscribe({
      groupId: 'flaky',
      topics: ['f'],
      fromBeginning: true,
      handle: async (m) => {
        attempts.push(text(m));
        if (text(m) === 'first' && failures-- > 0) throw new Error('not yet');
      },
    });
    expect(await bus.lag('flaky', ['f', 'unused'])).toEqual([
      { topic: 'f', partition: 0, lag: 0 },
      { topic: 'unused', partition: 0, lag: 0 },
    ]);
    await bus.publish('f', [out('first'), out('second')]);
    await eventually(async () => attempts.includes('second'));
    expect(attempts).toEqual(['first', 'first', 'first', 'first', 'second']);
    await eventually(async () => (await bus.lag('flaky', ['f']))[0]!.lag === 0);
    // A group that never committed is behind by the whole log, as Kafka reports it.
    expect(await bus.lag('nobody', ['f'])).toEqual([{ topic: 'f', partition: 0, lag: 2 }]);
  });

  it('stop lets the message in hand finish and commits it; the next subscriber goes on from there', async () => {
    const bus = newBus();
    let release!: () => void;
    const inHand = new Promise<void>((r) => (release = r));
    const first: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'stopper',
      topics: ['s'],
      fromBeginning: true,
      handle: async (m) => {
        if (text(m) === 'one') await inHand;
        first.push(text(m));
      },
    });
    await bus.publish('s', [out('one'), out('two')]);
    await eventually(async () => (await bus.lag('stopper', ['s']))[0]!.lag === 2);
    await new Promise((r) => setTimeout(r, 200));
    const stopped = sub.stop();
    release();
    await stopped;
    expect(first).toEqual(['one']);
    expect(await bus.lag('stopper', ['s'])).toEqual([{ topic: 's', partition: 0, lag: 1 }]);
    const second: string[] = [];
    await bus.subscribe({ groupId: 'stopper', topics: ['s'], fromBeginning: true, handle: async (m) => void second.push(text(m)) });
    await eventually(async () => second.length === 1);
    expect(second).toEqual(['two']);
  });

  it('sweeps messages past retention that every group has consumed, and offsets of groups idle as long', async () => {
    const bus = newBus({ retentionMs: 60_000 });
    const logSchema = logSchemas.at(-1)!;
    const got: string[] = [];
    await bus.publish('r', [out('m1'), out('m2'), out('m3')]);
    // 'reader' is live and consumes everything; 'laggard' stopped after m1, an hour ago.
    await bus.subscribe({ groupId: 'reader', topics: ['r'], fromBeginning: true, handle: async (m) => void got.push(text(m)) });
    await eventually(async () => got.length === 3);
    const m1 = (await pool.query(`SELECT seq FROM "${logSchema}".messages WHERE topic = 'r' ORDER BY seq LIMIT 1`)).rows[0].seq;
    await pool.query(`INSERT INTO "${logSchema}".consumer_offsets (group_id, topic, seq, updated_at) VALUES ('laggard', 'r', $1, now())`, [m1]);
    await pool.query(`INSERT INTO "${logSchema}".consumer_offsets (group_id, topic, seq, updated_at) VALUES ('gone', 'r', 0, now() - interval '2 minutes')`);
    await pool.query(`UPDATE "${logSchema}".messages SET created_at = now() - interval '2 minutes' WHERE topic = 'r'`);
    await pool.query(`UPDATE "${logSchema}".consumer_offsets SET updated_at = now() - interval '2 minutes' WHERE group_id = 'reader'`);
    await bus.publish('r', [out('m4')]);

    // 'gone' is forgotten; m1 is consumed by all remaining groups and old: deleted. m2, m3 are old
    // but 'laggard' still needs them; m4 is recent. The live 'reader' keeps its offset.
    expect(await bus.sweep()).toEqual({ messages: 1, offsets: 1 });
    const left = await pool.query(`SELECT convert_from(value, 'UTF8') AS v FROM "${logSchema}".messages WHERE topic = 'r' ORDER BY seq`);
    expect(left.rows.map((r) => r.v)).toEqual(['m2', 'm3', 'm4']);
    const groups = await pool.query(`SELECT group_id FROM "${logSchema}".consumer_offsets WHERE topic = 'r' ORDER BY group_id`);
    expect(groups.rows.map((r) => r.group_id)).toEqual(['laggard', 'reader']);
    await eventually(async () => got.length === 4);
  });

  it('sweeps on its own, a while after the first subscription', async () => {
    const bus = newBus({ retentionMs: 60_000, firstSweepAfterMs: 300, sweepEveryMs: 200 });
    const logSchema = logSchemas.at(-1)!;
    const got: string[] = [];
    await bus.publish('auto', [out('a1'), out('a2')]);
    await bus.subscribe({ groupId: 'auto-reader', topics: ['auto'], fromBeginning: true, handle: async (m) => void got.push(text(m)) });
    await eventually(async () => got.length === 2);
    await pool.query(`UPDATE "${logSchema}".messages SET created_at = now() - interval '2 minutes'`);
    const count = async () => (await pool.query(`SELECT count(*)::int AS n FROM "${logSchema}".messages`)).rows[0].n;
    await eventually(async () => (await count()) === 0, 5_000);
  });

  it('redelivers a message the relay published (its outbox row gone) after the consuming process is killed before committing', async () => {
    const bus = newBus();
    const logSchema = logSchemas.at(-1)!;
    const topic = 'appointment.events.v1';
    const group = 'appointment-effects';
    const env = { BUS: 'postgres', BUS_SCHEMA: logSchema, DATABASE_URL: databaseUrl, SCHEMA: schema, TOPIC: topic, GROUP: group };
    const db = pgSqlDatabase(pool);
    const outbox = new Outbox(schema, 'appointment', () => topic);
    const relay = new OutboxRelay({ db, schema, bus, logger, service: 'appointment' });
    const held = (appointmentId: string) =>
      db.$transaction(async (tx) => {
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
    const effects = async (id: string) => (await pool.query(`SELECT event_id FROM "${schema}".effects WHERE appointment_id = $1`, [id])).rows;
    const outboxRows = async () => (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n;

    // Killed in the handler, before the effect: nothing applied, the offset not moved.
    const first = startConsumer({ ...env, CRASH_IN_HANDLER: '1' });
    children.push(first.child);
    await eventually(async () => first.lines.includes('READY'), 60_000);
    const early = await held('a-killed-early');
    expect(await relay.publishBatch()).toBe(1);
    expect(await outboxRows()).toBe(0);
    expect(await first.exited).toBeNull();
    expect(first.lines).toEqual(expect.arrayContaining([`DELIVERED ${early.id}`, 'CRASHING']));
    expect(await effects('a-killed-early')).toEqual([]);

    // Killed after the effect committed, before the handler returned: applied once, offset not moved.
    const second = startConsumer({ ...env, CRASH_AFTER_EFFECT: '1' });
    children.push(second.child);
    await eventually(async () => second.lines.includes('CRASHING'), 60_000);
    expect(await second.exited).toBeNull();
    expect(second.lines.filter((l) => l.startsWith('DELIVERED'))).toEqual([`DELIVERED ${early.id}`]);
    expect(await effects('a-killed-early')).toEqual([{ event_id: early.id }]);
    expect(await bus.lag(group, [topic])).toEqual([{ topic, partition: 0, lag: 1 }]);

    // After the restart the same event comes again and is not applied twice; later ones follow.
    const third = startConsumer(env);
    children.push(third.child);
    await eventually(async () => third.lines.includes(`DELIVERED ${early.id}`), 60_000);
    const later = await held('a-after-restart');
    await relay.publishBatch();
    await eventually(async () => (await effects('a-after-restart')).length === 1, 30_000);
    expect(third.lines.filter((l) => l.startsWith('DELIVERED'))).toEqual([`DELIVERED ${early.id}`, `DELIVERED ${later.id}`]);
    expect(await effects('a-killed-early')).toEqual([{ event_id: early.id }]);
    await eventually(async () => (await bus.lag(group, [topic]))[0]!.lag === 0);
    third.child.kill('SIGTERM');
  }, 120_000);
});
