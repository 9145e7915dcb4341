import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { events } from '@cryptocare/contracts';
import { counter, gauge } from '@cryptocare/platform';
import type { EventBus, OutgoingMessage } from './bus';
import { encodeEnvelope, newEvent, topicOf, type DomainEvent } from './envelope';
import { table, type SqlDatabase, type SqlTx } from './sql';

/**
 * The transactional outbox (ARCHITECTURE section 5). A service records the events of a state
 * change in its own `outbox` table, in the same transaction as the change; the relay publishes
 * them afterwards. So an event is published if and only if its change committed.
 *
 * Table (in each producer's schema, see its migrations):
 *   outbox(id uuid pk, topic text, key text, type text, payload bytea, traceparent text,
 *          created_at timestamptz)
 */
export class Outbox {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly schema: string,
    private readonly source: string,
    /** Which topic an event type goes to; the standard topics unless a test isolates itself. */
    private readonly topicFor: (type: events.EventType) => string = topicOf,
  ) {}

  async add<T extends events.EventType>(tx: SqlTx, type: T, subject: string, data: events.EventData<T>): Promise<DomainEvent<T>> {
    const event = newEvent(this.source, type, subject, data);
    await tx.$executeRawUnsafe(
      `INSERT INTO ${table(this.schema, 'outbox')} (id, topic, key, type, payload, traceparent, created_at)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::timestamptz)`,
      event.id,
      this.topicFor(type),
      subject,
      type,
      encodeEnvelope(event),
      event.traceparent,
      event.time,
    );
    return event;
  }

  /** Tells the relay there is work, after the transaction that added events committed. */
  notifyCommitted(): void {
    for (const listener of this.listeners) listener();
  }

  onCommitted(listener: () => void): void {
    this.listeners.add(listener);
  }
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  type: string;
  payload: Buffer | Uint8Array;
  traceparent: string | null;
}

const backlog = gauge('outbox_backlog', 'Events written to the outbox and not yet published', ['service']);
const oldestAge = gauge('outbox_oldest_age_seconds', 'Age of the oldest unpublished outbox event', ['service']);
const published = counter('outbox_published_total', 'Outbox events published to the bus, by topic', ['service', 'topic']);

export interface OutboxRelayOptions {
  db: SqlDatabase;
  schema: string;
  bus: EventBus;
  logger: Logger;
  service: string;
  batchSize?: number;
  /** Poll interval when idle; a local commit wakes the relay at once. */
  pollMs?: number;
}

/**
 * Publishes outbox rows in commit order. Rows are locked with FOR UPDATE SKIP LOCKED so replicas
 * share the work without publishing a row twice; a row is deleted only after Kafka acknowledged
 * it, so a crash in between republishes it (consumers deduplicate by event id).
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: OutboxRelayOptions) {}

  private get batchSize(): number {
    return this.options.batchSize ?? 200;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Publish now (called after a local commit). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: publishes up to a batch; returns how many rows went out. */
  async publishBatch(): Promise<number> {
    const { db, schema, bus } = this.options;
    return db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRawUnsafe<OutboxRow[]>(
          `SELECT id::text AS id, topic, key, type, payload, traceparent FROM ${table(schema, 'outbox')}
           ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          this.batchSize,
        );
        if (rows.length === 0) return 0;
        const byTopic = new Map<string, OutgoingMessage[]>();
        for (const row of rows) {
          const list = byTopic.get(row.topic) ?? [];
          byTopic.set(row.topic, list);
          const headers: Record<string, string> = { 'event-id': row.id, 'event-type': row.type };
          if (row.traceparent) headers.traceparent = row.traceparent;
          list.push({ key: row.key, value: Buffer.from(row.payload), headers });
        }
        // Each message keeps the traceparent of the transaction that recorded it: the bus opens its
        // producer span in that trace, not in the relay's (which has none).
        for (const [topic, messages] of byTopic) {
          await bus.publish(topic, messages);
          published.labels(this.options.service, topic).inc(messages.length);
        }
        await tx.$executeRawUnsafe(`DELETE FROM ${table(schema, 'outbox')} WHERE id = ANY($1::uuid[])`, rows.map((r) => r.id));
        return rows.length;
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
  }

  async measureBacklog(): Promise<{ count: number; oldestAgeSeconds: number }> {
    const rows = await this.options.db.$queryRawUnsafe<Array<{ count: bigint | number; age: number | null }>>(
      `SELECT count(*) AS count, EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS age FROM ${table(this.options.schema, 'outbox')}`,
    );
    const count = Number(rows[0]?.count ?? 0);
    const oldestAgeSeconds = Number(rows[0]?.age ?? 0);
    backlog.labels(this.options.service).set(count);
    oldestAge.labels(this.options.service).set(oldestAgeSeconds);
    return { count, oldestAgeSeconds };
  }

  private schedule(delay: number, woken = true) {
    if (this.timer) clearTimeout(this.timer);
    // A commit inside a request wakes the relay; its passes must not run (and record their
    // queries) inside that request's trace, nor chain every later pass to it.
    this.timer = setTimeout(() => context.with(ROOT_CONTEXT, () => void this.loop(woken)), delay);
  }

  /**
   * Whether the outbox holds a row, in one statement outside any transaction. The idle poll asks
   * this first: a pass is a transaction of three round trips (BEGIN, the locking SELECT, COMMIT)
   * even when it finds nothing, and each service polls four times a second. Rows another replica
   * has locked count too; that pass then finds nothing, as it would have anyway.
   */
  private async holdsRows(): Promise<boolean> {
    const rows = await this.options.db.$queryRawUnsafe<unknown[]>(`SELECT 1 AS found FROM ${table(this.options.schema, 'outbox')} LIMIT 1`);
    return rows.length > 0;
  }

  /** A woken pass (a local commit, or a full batch before it) goes straight to the transaction. */
  private async loop(woken: boolean) {
    if (this.stopped || this.running) return;
    let published = 0;
    this.running = (async () => {
      try {
        if (woken || (await this.holdsRows())) published = await this.publishBatch();
      } catch (err) {
        this.options.logger.warn({ err }, 'outbox relay pass failed; will retry');
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    // Another pass at once only if the batch was full or a commit came meanwhile: a part batch
    // emptied what this replica could lock, and rows committed since then wake it themselves
    // (here, or in the replica that wrote them). An empty pass after each batch doubled the
    // relay's transactions under load.
    const more = published >= this.batchSize || this.again;
    this.again = false;
    if (more) this.schedule(0);
    else this.schedule(this.options.pollMs ?? 250, false);
  }
}
