// The outbox relay's passes on real PostgreSQL: what an idle poll and a woken pass cost in
// statements and transactions (each a round trip the service and the database pay for).
import { createLogger } from '@cryptocare/platform';
import { eventTablesSql, InProcessBus, Outbox, OutboxRelay, poolDatabase, type SqlDatabase } from '@cryptocare/events';
import { dropSchema, eventually, freshSchema } from '@cryptocare/testing';
import type pg from 'pg';

const logger = createLogger('test', 'silent');

/** The pool's database, counting what the relay asks of it. */
function counted(db: SqlDatabase) {
  const seen = { transactions: 0, outside: [] as string[] };
  const counting: SqlDatabase = {
    $executeRawUnsafe: (q, ...v) => (seen.outside.push(q), db.$executeRawUnsafe(q, ...v)),
    $queryRawUnsafe: (q, ...v) => (seen.outside.push(q), db.$queryRawUnsafe(q, ...v)),
    $transaction: (fn, options) => (seen.transactions++, db.$transaction(fn, options)),
  };
  return { db: counting, seen };
}

describe('outbox relay passes (real PostgreSQL)', () => {
  let schema: string;
  let pool: pg.Pool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('outbox_relay'));
    await pool.query(eventTablesSql(schema));
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await pool.query(`DELETE FROM "${schema}".outbox`);
  });
  afterAll(() => dropSchema(pool, schema));

  function relayOn(bus: InProcessBus, pollMs = 20) {
    const { db, seen } = counted(poolDatabase(pool));
    const relay = new OutboxRelay({ db, schema, bus, logger, service: 'appointment', pollMs });
    relays.push(relay);
    return { relay, seen };
  }

  async function commitEvents(outbox: Outbox, subjects: string[]) {
    await poolDatabase(pool).$transaction(async (tx) => {
      for (const s of subjects) await outbox.add(tx, 'appointment.expired', s, { appointmentId: s });
    });
    outbox.notifyCommitted();
  }

  const received = (bus: InProcessBus, topic: string) => {
    const keys: string[] = [];
    return bus.subscribe({ groupId: `g-${topic}`, topics: [topic], fromBeginning: true, handle: async (m) => void keys.push(m.key) }).then(() => keys);
  };

  it('an idle poll is one statement outside any transaction, not a transaction', async () => {
    const { relay, seen } = relayOn(new InProcessBus());
    relay.start();
    // The first pass (at start) may open a transaction; the polls after it must not.
    await eventually(async () => seen.outside.length >= 1);
    const transactionsAfterFirstPoll = seen.transactions;
    await eventually(async () => seen.outside.length >= 6);
    await relay.stop();
    expect(seen.transactions).toBe(transactionsAfterFirstPoll);
    expect(seen.transactions).toBeLessThanOrEqual(1);
    expect(new Set(seen.outside.map((q) => q.replace(/\s+/g, ' ')))).toEqual(new Set([`SELECT 1 AS found FROM "${schema}"."outbox" LIMIT 1`]));
  });

  it('a commit wakes one transaction that publishes its events in order; no empty pass follows a part batch', async () => {
    const bus = new InProcessBus();
    const topic = 'relay-woken';
    const keys = await received(bus, topic);
    const outbox = new Outbox(schema, 'appointment', () => topic);
    const { relay, seen } = relayOn(bus, 60_000); // no timer poll within the test: only the wake
    outbox.onCommitted(() => relay.wake());
    relay.start();
    await eventually(async () => seen.transactions >= 1); // the pass at start, on an empty outbox
    const before = seen.transactions;
    await commitEvents(outbox, ['a', 'b', 'c']);
    await eventually(async () => keys.length === 3 && keys);
    // Let a follow-up pass (if any) happen before counting.
    await new Promise((r) => setTimeout(r, 200));
    expect(keys).toEqual(['a', 'b', 'c']);
    expect(seen.transactions - before).toBe(1);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(0);
  });

  it('a full batch is followed by another pass at once, until the outbox is empty', async () => {
    const bus = new InProcessBus();
    const topic = 'relay-full';
    const keys = await received(bus, topic);
    const outbox = new Outbox(schema, 'appointment', () => topic);
    await commitEvents(outbox, ['k1', 'k2', 'k3', 'k4', 'k5']);
    const { db, seen } = counted(poolDatabase(pool));
    const relay = new OutboxRelay({ db, schema, bus, logger, service: 'appointment', pollMs: 60_000, batchSize: 2 });
    relays.push(relay);
    relay.start();
    await eventually(async () => keys.length === 5 && keys);
    await new Promise((r) => setTimeout(r, 200));
    expect(keys).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    // 2 + 2 + 1: the third batch is a part one, and nothing more runs until the next poll.
    expect(seen.transactions).toBe(3);
  });

  it('events left by a pass that failed are published by a later poll', async () => {
    const bus = new InProcessBus();
    const topic = 'relay-retry';
    const keys = await received(bus, topic);
    let failures = 1;
    const flaky: InProcessBus = Object.assign(Object.create(bus), {
      publish: (t: string, m: Parameters<InProcessBus['publish']>[1]) => (failures-- > 0 ? Promise.reject(new Error('broker down')) : bus.publish(t, m)),
    });
    const outbox = new Outbox(schema, 'appointment', () => topic);
    const { relay } = relayOn(flaky);
    outbox.onCommitted(() => relay.wake());
    relay.start();
    await commitEvents(outbox, ['r1']);
    await eventually(async () => keys.length === 1 && keys);
    expect(failures).toBeLessThan(0);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(0);
  });
});
