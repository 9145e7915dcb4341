import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { events } from '@cryptocare/contracts';
import { encodeEnvelope, InProcessBus, newEvent } from '@cryptocare/events';
import { prismaAdapter } from '@cryptocare/platform';
import { eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import { PrismaClient } from '../src/generated/prisma';
import { AuditTrail } from '../src/store/audit-trail';
import { GENESIS_HASH } from '../src/domain/audit-chain';
import { main } from '../src/main';

const run = promisify(execFile);
const ids = Array.from({ length: 6 }, (_, i) => `0190f0a0-0000-7000-8000-00000000000${i}`);

/**
 * The audit chain against real PostgreSQL: appends serialised and linked, the verifier (and the
 * verify-audit command) finding an edited, a deleted and a reordered entry, the database refusing
 * edits outside the retention job, pruning that keeps the chain verifiable, and other services'
 * events chained once each.
 */
describe('audit trail (real PostgreSQL)', () => {
  let pool: pg.Pool;
  const opened: PrismaClient[] = [];

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 4 });
  });
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.$disconnect()));
    await pool.end();
  });

  async function freshTrail() {
    const schema = await migratedSchema('identity');
    const db = new PrismaClient({ adapter: prismaAdapter(infraUrls().databaseUrl, schema) });
    opened.push(db);
    return { schema, db, trail: new AuditTrail(db, schema) };
  }

  /** What an attacker with the database's rights does: bypass the append-only rules (the retention job's switch). */
  async function tamper(schema: string, sql: string, values: unknown[] = []) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL search_path = "${schema}"`);
      await client.query(`SET LOCAL cryptocare.audit_retention = 'on'`);
      await client.query(sql, values);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  async function seed(trail: AuditTrail, n: number) {
    for (let i = 0; i < n; i++) await trail.recordAlone('auth.signed_in', { subjectId: ids[i % ids.length], objectId: ids[(i + 1) % ids.length], details: { method: 'password' } });
  }

  it('chains concurrent appends one after the other, from the genesis hash, and verifies', async () => {
    const { trail } = await freshTrail();
    // 20 appends at the same instant from separate transactions: the lock gives each its own place.
    await Promise.all(Array.from({ length: 20 }, (_, i) => trail.recordAlone('auth.sign_in_failed', { subjectId: ids[i % 6], details: { reason: 'bad_password' } })));
    const entries = (await trail.list({ limit: 100 })).reverse();
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    await expect(trail.verify()).resolves.toEqual({ checked: 20, head: { seq: 20, hash: entries[19]!.hash }, broken: null });
  });

  it('refuses free text, emails and unknown kinds before anything is written', async () => {
    const { trail } = await freshTrail();
    await expect(trail.recordAlone('auth.signed_in', { subjectId: 'alice@example.ch' })).rejects.toThrow(/subjectId must be a lower-case UUID/);
    await expect(trail.recordAlone('auth.signed_in', { details: { reason: 'I feel unwell' } })).rejects.toThrow(/short code/);
    await expect(trail.recordAlone('nope' as never, {})).rejects.toThrow(/unknown audit kind/);
    await expect(trail.verify()).resolves.toMatchObject({ checked: 0, broken: null });
  });

  it('the database refuses an update or a delete outside the retention job', async () => {
    const { schema, trail } = await freshTrail();
    await seed(trail, 2);
    for (const sql of [`UPDATE "${schema}".audit_entries SET kind = 'auth.signed_out' WHERE seq = 1`, `DELETE FROM "${schema}".audit_entries WHERE seq = 2`]) {
      await expect(pool.query(sql)).rejects.toThrow(/append-only/);
    }
    await expect(trail.verify()).resolves.toMatchObject({ checked: 2, broken: null });
  });

  describe('the verifier finds the first broken link', () => {
    it('an edited entry (its subject changed; then also its hash recomputed)', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 5);
      await tamper(schema, `UPDATE audit_entries SET subject_id = $1 WHERE seq = 3`, [ids[5]]);
      await expect(trail.verify()).resolves.toMatchObject({ checked: 2, broken: { seq: 3, problem: expect.stringMatching(/edited/) } });
    });

    it('an edited kind or instant (outside the content digest)', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 4);
      await tamper(schema, `UPDATE audit_entries SET occurred_at = occurred_at - interval '1 day' WHERE seq = 2`);
      await expect(trail.verify()).resolves.toMatchObject({ broken: { seq: 2, problem: expect.stringMatching(/hash differs/) } });
    });

    it('a deleted entry in the middle, and the first entries deleted without an anchor', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 5);
      await tamper(schema, `DELETE FROM audit_entries WHERE seq = 4`);
      await expect(trail.verify()).resolves.toMatchObject({ checked: 3, broken: { seq: 5, problem: 'entries 4..4 are missing (deleted)' } });
      const other = await freshTrail();
      await seed(other.trail, 3);
      await tamper(other.schema, `DELETE FROM audit_entries WHERE seq = 1`);
      await expect(other.trail.verify()).resolves.toMatchObject({ checked: 0, broken: { seq: 2, problem: expect.stringMatching(/no audit.pruned anchor/) } });
    });

    it('a deleted entry whose successors were renumbered to close the gap', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 5);
      await tamper(schema, `DELETE FROM audit_entries WHERE seq = 2`);
      // One row at a time (PostgreSQL checks the primary key after each row).
      await tamper(schema, `UPDATE audit_entries SET seq = 2 WHERE seq = 3; UPDATE audit_entries SET seq = 3 WHERE seq = 4; UPDATE audit_entries SET seq = 4 WHERE seq = 5`);
      await expect(trail.verify()).resolves.toMatchObject({ checked: 1, broken: { seq: 2, problem: expect.stringMatching(/does not link to entry 1/) } });
    });

    it('two entries swapped (reordered)', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 5);
      await tamper(schema, `UPDATE audit_entries SET seq = -1 WHERE seq = 2; UPDATE audit_entries SET seq = 2 WHERE seq = 3; UPDATE audit_entries SET seq = 3 WHERE seq = -1`);
      await expect(trail.verify()).resolves.toMatchObject({ checked: 1, broken: { seq: 2, problem: expect.stringMatching(/does not link to entry 1/) } });
    });

    it('content deleted before its retention passed (a fake prune)', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 3);
      await tamper(schema, `UPDATE audit_entries SET subject_id = NULL, object_id = NULL, details = NULL, pruned_at = now() WHERE seq = 2`);
      await expect(trail.verify()).resolves.toMatchObject({ broken: { seq: 2, problem: 'content deleted before its retention passed' } });
    });

    it('the verify-audit command exits 0 on a sound chain and 1 naming the first broken link', async () => {
      const { schema, trail } = await freshTrail();
      await seed(trail, 3);
      const command = [path.join(__dirname, '../../../node_modules/.bin/tsx'), [path.join(__dirname, '../src/verify-audit.ts')]] as const;
      const env = { ...process.env, DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent' };
      const ok = await run(command[0], [...command[1]], { env });
      expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, checked: 3, head: { seq: 3 } });
      await tamper(schema, `UPDATE audit_entries SET details = '[["method","stolen"]]' WHERE seq = 2`);
      const failed = await run(command[0], [...command[1]], { env }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed?.code).toBe(1);
      expect(JSON.parse(failed!.stderr)).toMatchObject({ ok: false, checked: 1, brokenAt: 2, problem: expect.stringMatching(/edited/) });
    }, 60_000);
  });

  it('retention prunes content past its kind’s retention and deletes the pruned prefix behind an anchor; the chain still verifies', async () => {
    const { schema, trail } = await freshTrail();
    const old = new Date(Date.now() - 200 * 86_400_000);
    // 1-3: failed sign-ins 200 days ago (kept 180 days); 4: an erasure 200 days ago (kept 10 years); 5-6: recent.
    for (let i = 0; i < 3; i++) await trail.recordAlone('auth.sign_in_failed', { subjectId: ids[0], details: { reason: 'bad_password' } }, { occurredAt: old });
    await trail.recordAlone('account.erased', { actorId: ids[1], subjectId: ids[1] }, { occurredAt: old });
    await trail.recordAlone('auth.sign_in_failed', { subjectId: ids[2], details: { reason: 'bad_password' } }, { occurredAt: old });
    await seed(trail, 1);
    const result = await trail.prune();
    expect(result).toEqual({ pruned: 4, deleted: 3 });
    const rows = (await pool.query(`SELECT seq::int, kind, subject_id, pruned_at IS NOT NULL AS pruned, details FROM "${schema}".audit_entries ORDER BY seq`)).rows;
    expect(rows).toEqual([
      { seq: 4, kind: 'account.erased', subject_id: ids[1], pruned: false, details: [] },
      { seq: 5, kind: 'auth.sign_in_failed', subject_id: null, pruned: true, details: null },
      { seq: 6, kind: 'auth.signed_in', subject_id: ids[0], pruned: false, details: [['method', 'password']] },
      { seq: 7, kind: 'audit.pruned', subject_id: null, pruned: false, details: [['lastHash', expect.stringMatching(/^[0-9a-f]{64}$/)], ['throughSeq', '3']] },
    ]);
    await expect(trail.verify()).resolves.toMatchObject({ checked: 4, broken: null });
    // A second run has nothing to prune; the next append still links to the anchor.
    await expect(trail.prune()).resolves.toMatchObject({ pruned: 0 });
    await seed(trail, 1);
    await expect(trail.verify()).resolves.toMatchObject({ broken: null });
    // Deleting the kept entry 4 as well is not covered by an anchor.
    await tamper(schema, `DELETE FROM audit_entries WHERE seq = 4`);
    await expect(trail.verify()).resolves.toMatchObject({ broken: { seq: 5, problem: expect.stringMatching(/entries 1..4 are missing/) } });
  });

  it('chains another service’s audit event once, however often it is delivered; refuses a forbidden one', async () => {
    const schema = await migratedSchema('identity');
    const bus = new InProcessBus(20);
    const deadLettered: unknown[] = [];
    await bus.subscribe({ groupId: 'dlq-watch', topics: [`${events.topics.audit}.dlq`], handle: async (m) => void deadLettered.push(m) });
    const service = await main(
      { DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test' },
      { bus },
    );
    try {
      const event = newEvent('payment', 'audit.recorded', ids[3]!, {
        kind: 'payment.refund_due',
        actorId: '',
        subjectId: ids[3]!,
        objectId: ids[4]!,
        details: { cause: 'cancelled_by_patient' },
        occurredAt: new Date().toISOString(),
      });
      const message = { key: ids[3]!, value: encodeEnvelope(event), headers: { 'event-id': event.id, 'event-type': event.type } };
      await bus.publish(events.topics.audit, [message, message]);
      const forged = newEvent('payment', 'audit.recorded', ids[3]!, { kind: 'payment.refund_due', actorId: '', subjectId: 'alice@example.ch', objectId: '', details: {}, occurredAt: '' });
      await bus.publish(events.topics.audit, [{ key: ids[3]!, value: encodeEnvelope(forged), headers: {} }, message]);
      // The forged one ends on the dead-letter topic, never in the trail; the copy after it is a no-op.
      await eventually(async () => deadLettered.length === 1);
      const entries = await eventually(async () => {
        const { rows } = await pool.query(`SELECT id::text, source, subject_id::text AS "subjectId", object_id::text AS "objectId", details FROM "${schema}".audit_entries WHERE kind = 'payment.refund_due'`);
        return rows.length > 0 ? rows : undefined;
      });
      expect(entries).toEqual([{ id: event.id, source: 'payment', subjectId: ids[3], objectId: ids[4], details: [['cause', 'cancelled_by_patient']] }]);
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".audit_entries WHERE kind = 'payment.refund_due'`);
      expect(rows[0].n).toBe(1);
    } finally {
      await service.stop();
    }
  });
});
