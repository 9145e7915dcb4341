import pg from 'pg';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { BusMessage, EventBus, OutgoingMessage, SubscribeOptions, Subscription } from './bus';
import { inTransaction, table } from './sql';

export interface PostgresLogBusOptions {
  /** The database that holds the log (embedded mode: the embedded PostgreSQL). */
  connectionString: string;
  /** Schema of the log's tables, created by the bus if missing. Default "bus". */
  schema?: string;
  logger: Logger;
  /** A group looks for new messages at least this often; a publish in this process wakes it at once. */
  pollMs?: number;
  /** Pause before a message whose handler failed is delivered again. */
  redeliveryDelayMs?: number;
  /** Messages older than this, consumed by every group, are deleted; so are offsets of groups idle as long. */
  retentionMs?: number;
  /** How often the retention sweep runs (default hourly). */
  sweepEveryMs?: number;
  /** The first sweep, this long after the first subscription (default a minute). */
  firstSweepAfterMs?: number;
  /** Messages read per query. */
  batchSize?: number;
}

interface Group {
  id: string;
  topics: string[];
  handle: SubscribeOptions['handle'];
  stopped: boolean;
  /** The delivery loop, while it runs. */
  running: Promise<void> | undefined;
  /** Woken while running: look again once done. */
  again: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface MessageRow {
  topic: string;
  seq: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The embedded mode's bus, with Kafka's guarantee: topics are append-only logs in PostgreSQL and
 * each consumer group has a committed offset per topic, advanced only after its handler resolved.
 * So a message the outbox relay published (and then deleted from its outbox) survives a crash of
 * the process before any consumer is done with it, and is delivered again after the restart (the
 * idempotent consumer makes that harmless).
 *
 *   <schema>.messages(topic, seq bigserial, key, value bytea, headers jsonb, created_at)
 *   <schema>.consumer_offsets(group_id, topic, seq, updated_at)
 *
 * Semantics otherwise as the in-process bus: each group sees every message of its topics, in
 * publish order per topic, one at a time; a failed handler gets the same message again after a
 * pause; a new group starts at the oldest message (`fromBeginning`) or at the current end.
 * Publishers of one topic are serialised by an advisory lock, so `seq` order is commit order and a
 * group never moves its offset past a message that commits later.
 */
export class PostgresLogBus implements EventBus {
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly messages: string;
  private readonly offsets: string;
  private readonly groups = new Map<string, Group>();
  private readonly pollMs: number;
  private readonly redeliveryDelayMs: number;
  private readonly retentionMs: number;
  private readonly batchSize: number;
  private ready: Promise<void> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private firstSweep: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private closed = false;

  constructor(private readonly options: PostgresLogBusOptions) {
    this.schema = options.schema ?? 'bus';
    this.messages = table(this.schema, 'messages');
    this.offsets = table(this.schema, 'consumer_offsets');
    this.pollMs = options.pollMs ?? 500;
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 200;
    this.retentionMs = options.retentionMs ?? 7 * DAY_MS;
    this.batchSize = options.batchSize ?? 100;
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 5 });
    // An idle client losing its server (e.g. PostgreSQL restarting) must not crash the process.
    this.pool.on('error', (err) => options.logger.warn({ err }, 'event bus: idle database connection failed'));
  }

  /** Creates the schema and tables if missing (idempotent, safe with several processes). */
  migrate(): Promise<void> {
    this.ready ??= inTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('cryptocare.bus.migrate'))`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.messages} (
          topic text NOT NULL,
          seq bigserial NOT NULL,
          key text NOT NULL,
          value bytea NOT NULL,
          headers jsonb NOT NULL DEFAULT '{}',
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (topic, seq)
        )`);
      await client.query(`CREATE INDEX IF NOT EXISTS messages_created_at ON ${this.messages} (created_at)`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.offsets} (
          group_id text NOT NULL,
          topic text NOT NULL,
          seq bigint NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (group_id, topic)
        )`);
    }).catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.migrate();
    await inTransaction(this.pool, async (client) => {
      // Until this transaction commits, no later publish on the topic can take a sequence number.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, [this.schema, topic]);
      await client.query(
        `INSERT INTO ${this.messages} (topic, key, value, headers)
         SELECT $1, m.key, m.value, m.headers
         FROM unnest($2::text[], $3::bytea[], $4::jsonb[]) WITH ORDINALITY AS m(key, value, headers, n)
         ORDER BY m.n`,
        [topic, messages.map((m) => m.key), messages.map((m) => m.value), messages.map((m) => JSON.stringify(m.headers ?? {}))],
      );
    });
    // Consumers in this process hear of it at once; others within a poll interval.
    for (const group of this.groups.values()) if (group.topics.includes(topic)) this.wake(group);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.groups.has(options.groupId)) throw new Error(`group ${options.groupId} already subscribed`);
    await this.migrate();
    // A new group starts at the oldest message or at the current end; a known group where it left off.
    await this.pool.query(
      `INSERT INTO ${this.offsets} (group_id, topic, seq)
       SELECT $1, t.topic, CASE WHEN $3::boolean THEN 0 ELSE coalesce((SELECT max(seq) FROM ${this.messages} m WHERE m.topic = t.topic), 0) END
       FROM unnest($2::text[]) AS t(topic)
       ON CONFLICT (group_id, topic) DO NOTHING`,
      [options.groupId, options.topics, options.fromBeginning ?? false],
    );
    const group: Group = { id: options.groupId, topics: [...options.topics], handle: options.handle, stopped: false, running: undefined, again: false, timer: undefined };
    this.groups.set(group.id, group);
    this.ensureSweeper();
    this.wake(group);
    return {
      stop: async () => {
        group.stopped = true;
        if (group.timer) clearTimeout(group.timer);
        await group.running;
        this.groups.delete(group.id);
      },
    };
  }

  /** Per topic: messages after the group's committed offset (all of them for a group never seen). */
  async lag(groupId: string, topics: string[]): Promise<Array<{ topic: string; partition: number; lag: number }>> {
    await this.migrate();
    const { rows } = await this.pool.query<{ topic: string; lag: string }>(
      `SELECT t.topic, (SELECT count(*) FROM ${this.messages} m WHERE m.topic = t.topic AND m.seq > coalesce(o.seq, 0)) AS lag
       FROM unnest($2::text[]) WITH ORDINALITY AS t(topic, n)
       LEFT JOIN ${this.offsets} o ON o.group_id = $1 AND o.topic = t.topic
       ORDER BY t.n`,
      [groupId, topics],
    );
    return rows.map((r) => ({ topic: r.topic, partition: 0, lag: Number(r.lag) }));
  }

  /**
   * Retention, as Kafka's: deletes messages older than the retention period that every group with
   * an offset on their topic has consumed, and the offsets of groups idle for that long (e.g. the
   * per-process groups of earlier runs). Groups subscribed here count as active.
   */
  async sweep(): Promise<{ messages: number; offsets: number }> {
    await this.migrate();
    return inTransaction(this.pool, async (client) => {
      const live = [...this.groups.keys()];
      if (live.length > 0) await client.query(`UPDATE ${this.offsets} SET updated_at = now() WHERE group_id = ANY($1::text[])`, [live]);
      const cutoff = new Date(Date.now() - this.retentionMs);
      const offsets = await client.query(`DELETE FROM ${this.offsets} WHERE updated_at < $1`, [cutoff]);
      const messages = await client.query(
        `DELETE FROM ${this.messages} m
         WHERE m.created_at < $1 AND NOT EXISTS (SELECT 1 FROM ${this.offsets} o WHERE o.topic = m.topic AND o.seq < m.seq)`,
        [cutoff],
      );
      return { messages: messages.rowCount ?? 0, offsets: offsets.rowCount ?? 0 };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.firstSweep) clearTimeout(this.firstSweep);
    for (const group of this.groups.values()) {
      group.stopped = true;
      if (group.timer) clearTimeout(group.timer);
    }
    await Promise.all([...this.groups.values()].map((g) => g.running));
    await this.sweeping;
    this.groups.clear();
    await this.pool.end();
  }

  private ensureSweeper() {
    if (this.firstSweep || this.closed) return;
    const run = () => {
      if (this.sweeping || this.closed) return;
      this.sweeping = this.sweep()
        .catch((err) => this.options.logger.warn({ err }, 'event bus: retention sweep failed; will retry'))
        .finally(() => (this.sweeping = undefined));
    };
    // Not at once: the groups of this process subscribe one after another, and a group not yet
    // subscribed after a long stop would look idle and lose its offset.
    this.firstSweep = setTimeout(() => {
      context.with(ROOT_CONTEXT, run);
      this.sweeper = setInterval(() => context.with(ROOT_CONTEXT, run), this.options.sweepEveryMs ?? 60 * 60 * 1000);
      this.sweeper.unref();
    }, this.options.firstSweepAfterMs ?? 60_000);
    this.firstSweep.unref();
  }

  /** Look for messages now (or right after the pass in progress). */
  private wake(group: Group) {
    if (group.stopped) return;
    if (group.running) {
      group.again = true;
      return;
    }
    this.schedule(group, 0);
  }

  private schedule(group: Group, delayMs: number) {
    if (group.timer) clearTimeout(group.timer);
    // Deliveries run in no request's trace (the consumer continues each event's own).
    group.timer = setTimeout(() => context.with(ROOT_CONTEXT, () => void this.run(group)), delayMs);
  }

  private async run(group: Group) {
    group.timer = undefined;
    if (group.stopped || group.running) return;
    let next = this.pollMs;
    group.running = this.deliverAvailable(group).then(
      (more) => {
        if (more) next = 0;
      },
      (err) => {
        this.options.logger.warn({ err, group: group.id }, 'event bus: delivery pass failed; will retry');
        next = this.redeliveryDelayMs;
      },
    );
    await group.running;
    group.running = undefined;
    if (group.stopped) return;
    if (group.again) {
      group.again = false;
      next = 0;
    }
    this.schedule(group, next);
  }

  /** Delivers one batch in order; true when there may be more. */
  private async deliverAvailable(group: Group): Promise<boolean> {
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT m.topic, m.seq::text AS seq, m.key, m.value, m.headers
       FROM ${this.messages} m JOIN ${this.offsets} o ON o.group_id = $1 AND o.topic = m.topic
       WHERE m.topic = ANY($2::text[]) AND m.seq > o.seq
       ORDER BY m.seq LIMIT $3`,
      [group.id, group.topics, this.batchSize],
    );
    for (const row of rows) {
      const message: BusMessage = { topic: row.topic, key: row.key, value: row.value, headers: { ...row.headers }, partition: 0, offset: row.seq };
      for (;;) {
        try {
          await group.handle(message);
          break;
        } catch (err) {
          // As Kafka would: the same message again, after a pause. Stopping leaves it uncommitted.
          this.options.logger.debug({ err, group: group.id, topic: row.topic, seq: row.seq }, 'event bus: handler failed; redelivering');
          if (group.stopped) return false;
          await new Promise((r) => setTimeout(r, this.redeliveryDelayMs));
          if (group.stopped) return false;
        }
      }
      // Committed only now: a crash before this line delivers the message again after a restart.
      await this.pool.query(`UPDATE ${this.offsets} SET seq = $3, updated_at = now() WHERE group_id = $1 AND topic = $2 AND seq < $3`, [group.id, row.topic, row.seq]);
      if (group.stopped) return false;
    }
    return rows.length === this.batchSize;
  }
}
