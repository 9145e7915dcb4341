import { v7 as uuidv7 } from 'uuid';
import { auditEntryProblem, auditKinds, type AuditFields, type AuditKindName } from '@cryptocare/contracts';
import { table, type SqlDatabase, type SqlTx } from '@cryptocare/events';
import { checkLink, contentDigest, entryHash, GENESIS_HASH, type AuditContent, type BrokenLink, type StoredEntry } from '../domain/audit-chain';

/** One entry as read back (content null once pruned). */
export interface AuditEntry {
  seq: number;
  id: string;
  kind: string;
  source: string;
  actorId: string | null;
  subjectId: string | null;
  objectId: string | null;
  details: Record<string, string>;
  occurredAt: Date;
  recordedAt: Date;
  hash: string;
  prevHash: string;
  pruned: boolean;
}

export interface AuditFilter {
  kind?: string;
  actorId?: string;
  subjectId?: string;
  from?: Date;
  to?: Date;
  /** Entries older than this sequence number (the previous page's cursor). */
  beforeSeq?: number;
  limit: number;
}

interface Row {
  seq: string;
  id: string;
  kind: string;
  source: string;
  actor_id: string | null;
  subject_id: string | null;
  object_id: string | null;
  details: Array<[string, string]> | null;
  occurred_at: Date;
  recorded_at: Date;
  content_digest: string;
  prev_hash: string;
  hash: string;
  pruned_at: Date | null;
}

export class AuditEntryRefused extends Error {}

const COLUMNS = `seq::text AS seq, id::text AS id, kind, source, actor_id::text AS actor_id, subject_id::text AS subject_id, object_id::text AS object_id,
  details, occurred_at, recorded_at, content_digest, prev_hash, hash, pruned_at`;

function toEntry(r: Row): AuditEntry {
  return {
    seq: Number(r.seq),
    id: r.id,
    kind: r.kind,
    source: r.source,
    actorId: r.actor_id,
    subjectId: r.subject_id,
    objectId: r.object_id,
    details: Object.fromEntries(r.details ?? []),
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
    hash: r.hash,
    prevHash: r.prev_hash,
    pruned: r.pruned_at !== null,
  };
}

function toStored(r: Row): StoredEntry {
  const content: AuditContent | null =
    r.pruned_at === null ? { id: r.id, source: r.source, actorId: r.actor_id, subjectId: r.subject_id, objectId: r.object_id, details: Object.fromEntries(r.details ?? []) } : null;
  return { seq: Number(r.seq), kind: r.kind, occurredAt: r.occurred_at, contentDigest: r.content_digest, prevHash: r.prev_hash, hash: r.hash, content, prunedAt: r.pruned_at };
}

/**
 * identity's audit trail (docs/compliance/audit.md): an append-only, hash-chained table. Appends
 * are serialised by a transaction-scoped advisory lock, so two transactions never chain to the
 * same previous entry; the lock is taken as the last step of the caller's transaction and held
 * only until it commits.
 */
export class AuditTrail {
  private readonly entries: string;
  private readonly lockKey: string;

  constructor(
    private readonly db: SqlDatabase,
    schema: string,
  ) {
    this.entries = table(schema, 'audit_entries');
    this.lockKey = `${schema}.audit_entries`;
  }

  /**
   * Appends one entry in `tx`, the transaction of the action it records (so the entry exists if
   * and only if the action committed). Call it last in the transaction: it holds the chain's lock
   * until commit. `id` deduplicates (an event id from another service: recorded once).
   *
   *   await audit.record(tx, 'auth.signed_in', { subjectId: user.id, objectId: sessionId });
   */
  async record(
    tx: SqlTx,
    kind: AuditKindName,
    fields: AuditFields,
    options: { id?: string; source?: string; occurredAt?: Date } = {},
  ): Promise<AuditEntry | undefined> {
    const problem = auditEntryProblem(kind, fields);
    if (problem) throw new AuditEntryRefused(problem);
    await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))::text`, this.lockKey);
    // Recorded already (an event delivered again): nothing to add. Checked under the lock (the
    // append-only rules rule out INSERT … ON CONFLICT).
    if (options.id && (await tx.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM ${this.entries} WHERE id = $1::uuid`, options.id)).length > 0) return undefined;
    const [last] = await tx.$queryRawUnsafe<Array<{ seq: string; hash: string }>>(`SELECT seq::text AS seq, hash FROM ${this.entries} ORDER BY ${this.entries}.seq DESC LIMIT 1`);
    // After pruning deleted a prefix the chain continues from the last entry kept (never empty: the anchor stays).
    const seq = last ? Number(last.seq) + 1 : 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const content: AuditContent = {
      id: options.id ?? uuidv7(),
      source: options.source ?? 'identity',
      actorId: fields.actorId || null,
      subjectId: fields.subjectId || null,
      objectId: fields.objectId || null,
      details: fields.details ?? {},
    };
    // Millisecond precision: what the column stores is what was hashed.
    const occurredAt = new Date(Math.floor((options.occurredAt ?? new Date()).getTime()));
    const digest = contentDigest(content);
    const hash = entryHash({ seq, prevHash, kind, occurredAt, contentDigest: digest });
    const rows = await tx.$queryRawUnsafe<Row[]>(
      `INSERT INTO ${this.entries} (seq, id, kind, source, actor_id, subject_id, object_id, details, occurred_at, content_digest, prev_hash, hash)
       VALUES ($1::bigint, $2::uuid, $3, $4, $5::uuid, $6::uuid, $7::uuid, $8::jsonb, $9::timestamptz, $10, $11, $12)
       RETURNING ${COLUMNS}`,
      String(seq),
      content.id,
      kind,
      content.source,
      content.actorId,
      content.subjectId,
      content.objectId,
      JSON.stringify(Object.entries(content.details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      occurredAt.toISOString(),
      digest,
      prevHash,
      hash,
    );
    return toEntry(rows[0]!);
  }

  /** Records in a transaction of its own (an action that wrote nothing else, e.g. a failed sign-in). */
  recordAlone(kind: AuditKindName, fields: AuditFields, options: { id?: string; source?: string; occurredAt?: Date } = {}) {
    return this.db.$transaction((tx) => this.record(tx, kind, fields, options));
  }

  /** One page, newest first; the next page starts below the last seq returned. */
  async list(filter: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (filter.kind) add('kind = ?', filter.kind);
    if (filter.actorId) add('actor_id = ?::uuid', filter.actorId);
    if (filter.subjectId) add('subject_id = ?::uuid', filter.subjectId);
    if (filter.from) add('occurred_at >= ?::timestamptz', filter.from.toISOString());
    if (filter.to) add('occurred_at < ?::timestamptz', filter.to.toISOString());
    if (filter.beforeSeq !== undefined) add('seq < ?::bigint', String(filter.beforeSeq));
    values.push(filter.limit);
    const rows = await this.db.$queryRawUnsafe<Row[]>(
      `SELECT ${COLUMNS} FROM ${this.entries} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${this.entries}.seq DESC LIMIT $${values.length}`,
      ...values,
    );
    return rows.map(toEntry);
  }

  /** Every entry naming the person, as actor or subject, oldest first (their export). */
  async entriesOf(userId: string): Promise<AuditEntry[]> {
    const rows = await this.db.$queryRawUnsafe<Row[]>(
      `SELECT ${COLUMNS} FROM ${this.entries} WHERE actor_id = $1::uuid OR subject_id = $1::uuid ORDER BY ${this.entries}.seq`,
      userId,
    );
    return rows.map(toEntry);
  }

  /**
   * Walks the whole chain in order and returns the first broken link, if any, with how many
   * entries were checked and the head (seq and hash, worth recording outside the database: only an
   * outside copy of the head reveals entries cut from the end).
   */
  async verify(now = new Date(), batch = 1_000): Promise<{ checked: number; head: { seq: number; hash: string } | null; broken: BrokenLink | null }> {
    let previous: { seq: number; hash: string } | undefined;
    let checked = 0;
    let after = '0';
    for (;;) {
      const rows = await this.db.$queryRawUnsafe<Row[]>(`SELECT ${COLUMNS} FROM ${this.entries} WHERE seq > $1::bigint ORDER BY ${this.entries}.seq LIMIT $2`, after, batch);
      if (rows.length === 0) break;
      for (const row of rows) {
        const entry = toStored(row);
        if (!previous) {
          const start = await this.checkStart(entry);
          if (start) return { checked, head: null, broken: { seq: entry.seq, problem: start } };
        }
        const problem = checkLink(entry, previous, now);
        if (problem) return { checked, head: previous ?? null, broken: { seq: entry.seq, problem } };
        previous = { seq: entry.seq, hash: entry.hash };
        checked++;
      }
      after = rows[rows.length - 1]!.seq;
    }
    return { checked, head: previous ?? null, broken: null };
  }

  /** The first entry kept is entry 1 on the genesis hash, or continues what an anchor says was pruned. */
  private async checkStart(first: StoredEntry): Promise<string | undefined> {
    if (first.seq === 1) return first.prevHash === GENESIS_HASH ? undefined : 'the first entry does not start from the genesis hash';
    const anchors = await this.db.$queryRawUnsafe<Row[]>(
      `SELECT ${COLUMNS} FROM ${this.entries} WHERE kind = 'audit.pruned' AND details @> $1::jsonb`,
      JSON.stringify([['throughSeq', String(first.seq - 1)]]),
    );
    if (!anchors.some((a) => Object.fromEntries(a.details ?? []).lastHash === first.prevHash)) {
      return `entries 1..${first.seq - 1} are missing and no audit.pruned anchor records their deletion (deleted)`;
    }
    return undefined;
  }

  /**
   * The retention job: entries past their kind's retention lose their content (ids, details; the
   * digest and hash stay, so every link is still checked), then the leading run of pruned entries
   * is deleted and an `audit.pruned` anchor records the last deleted entry's number and hash.
   */
  async prune(now = new Date()): Promise<{ pruned: number; deleted: number }> {
    return this.db.$transaction(
      async (tx) => {
        await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))::text`, this.lockKey);
        await tx.$executeRawUnsafe(`SET LOCAL cryptocare.audit_retention = 'on'`);
        let pruned = 0;
        for (const [kind, { retentionDays }] of Object.entries(auditKinds)) {
          if (!Number.isFinite(retentionDays)) continue;
          pruned += await tx.$executeRawUnsafe(
            `UPDATE ${this.entries} SET actor_id = NULL, subject_id = NULL, object_id = NULL, details = NULL, pruned_at = $3::timestamptz
             WHERE kind = $1 AND pruned_at IS NULL AND occurred_at < $3::timestamptz - make_interval(days => $2::int)`,
            kind,
            retentionDays,
            now.toISOString(),
          );
        }
        // The leading run of pruned entries and older anchors (the new anchor supersedes them), but
        // never the newest entry (the chain continues from it).
        const [run] = await tx.$queryRawUnsafe<Array<{ seq: string | null }>>(
          `SELECT (min(seq) - 1)::text AS seq FROM ${this.entries} WHERE pruned_at IS NULL AND kind <> 'audit.pruned'`,
        );
        const [newest] = await tx.$queryRawUnsafe<Array<{ seq: string | null }>>(`SELECT max(seq)::text AS seq FROM ${this.entries}`);
        const through = run?.seq != null ? Number(run.seq) : newest?.seq != null ? Number(newest.seq) - 1 : 0;
        const [last] = through > 0 ? await tx.$queryRawUnsafe<Array<{ hash: string }>>(`SELECT hash FROM ${this.entries} WHERE seq = $1::bigint`, String(through)) : [];
        let deleted = 0;
        if (last) {
          // Anchor first (appended while the rows it describes are still there), then the deletion.
          await this.record(tx, 'audit.pruned', { details: { throughSeq: String(through), lastHash: last.hash } }, { occurredAt: now });
          deleted = await tx.$executeRawUnsafe(`DELETE FROM ${this.entries} WHERE seq <= $1::bigint`, String(through));
        }
        return { pruned, deleted };
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }
}
