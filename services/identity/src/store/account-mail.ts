import { v7 as uuidv7 } from 'uuid';
import { table } from '@cryptocare/events';
import type { Prisma, PrismaClient } from '../generated/prisma';
import { EMAIL_TOKEN_PURPOSES, hashEmailToken, newEmailToken, type EmailTokenPurpose } from '../domain/email-tokens';

/** What a mail job sends: its kind names the token purpose it carries. */
export type MailKind = EmailTokenPurpose;

export interface ClaimedMailJob {
  id: string;
  userId: string;
  kind: MailKind;
  attempts: number;
}

/** Attempts before a mail job is given up (logged); the delay doubles from 5 s up to 10 min. */
export const MAIL_MAX_ATTEMPTS = 10;
const retryDelaySeconds = (attempts: number) => Math.min(600, 5 * 2 ** Math.max(0, attempts - 1));
/** A claimed job not finished within this time (the worker died) is claimed again. */
const LEASE_SECONDS = 120;

/** The mail jobs and the single-use tokens they carry. */
export class AccountMailStore {
  constructor(
    private readonly db: PrismaClient,
    private readonly schema: string,
  ) {}

  /** Queues a mail in the caller's transaction: it is sent only if that transaction commits. */
  enqueue(tx: Prisma.TransactionClient, userId: string, kind: MailKind) {
    return tx.mailJob.create({ data: { id: uuidv7(), userId, kind } });
  }

  /** Takes the oldest due job, leased to this worker (several replicas never take the same one). */
  async claimDue(): Promise<ClaimedMailJob | undefined> {
    const t = table(this.schema, 'mail_jobs');
    const [row] = await this.db.$queryRawUnsafe<Array<{ id: string; user_id: string; kind: string; attempts: number }>>(
      `UPDATE ${t} SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $1)
       WHERE id = (SELECT id FROM ${t} WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                   ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, user_id, kind, attempts`,
      LEASE_SECONDS,
    );
    return row ? { id: row.id, userId: row.user_id, kind: row.kind as MailKind, attempts: row.attempts } : undefined;
  }

  /** A new token for the mail being sent now; returns the token itself (only its hash is kept). */
  async issueToken(userId: string, purpose: EmailTokenPurpose, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
    const token = newEmailToken();
    const expiresAt = new Date(now.getTime() + EMAIL_TOKEN_PURPOSES[purpose].lifetimeSeconds * 1000);
    await this.db.emailToken.create({ data: { id: uuidv7(), userId, purpose, tokenHash: hashEmailToken(token), expiresAt, createdAt: now } });
    return { token, expiresAt };
  }

  async markSent(jobId: string) {
    await this.db.mailJob.update({ where: { id: jobId }, data: { sentAt: new Date(), lastError: null } });
  }

  /** Nothing to send any more (user erased, already verified). */
  async drop(jobId: string) {
    await this.db.mailJob.deleteMany({ where: { id: jobId } });
  }

  /** Schedules the next attempt with backoff, or gives up after MAIL_MAX_ATTEMPTS; returns whether it gave up. */
  async markFailed(job: ClaimedMailJob, error: string): Promise<boolean> {
    const givingUp = job.attempts >= MAIL_MAX_ATTEMPTS;
    await this.db.mailJob.update({
      where: { id: job.id },
      data: givingUp
        ? { failedAt: new Date(), lastError: error.slice(0, 500) }
        : { nextAttemptAt: new Date(Date.now() + retryDelaySeconds(job.attempts) * 1000), lastError: error.slice(0, 500) },
    });
    return givingUp;
  }

  /** When the next job is due (the worker sleeps until then, or until kicked). */
  async nextDueAt(): Promise<Date | undefined> {
    const job = await this.db.mailJob.findFirst({ where: { sentAt: null, failedAt: null }, orderBy: { nextAttemptAt: 'asc' }, select: { nextAttemptAt: true } });
    return job?.nextAttemptAt;
  }

  /** Deletes tokens expired for a day and jobs finished for a week. */
  async forgetOld(): Promise<void> {
    const day = 86_400_000;
    await this.db.emailToken.deleteMany({ where: { expiresAt: { lt: new Date(Date.now() - day) } } });
    await this.db.mailJob.deleteMany({ where: { OR: [{ sentAt: { lt: new Date(Date.now() - 7 * day) } }, { failedAt: { lt: new Date(Date.now() - 7 * day) } }] } });
  }
}
