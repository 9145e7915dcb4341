import { table } from '@cryptocare/events';
import type { PrismaClient } from '../generated/prisma';
import { LOCKOUT, lockSeconds } from '../domain/lockout';

/** The per-address counters of failed sign-ins (domain/lockout.ts), in PostgreSQL: a restart keeps them. */
export class LoginThrottle {
  constructor(
    private readonly db: PrismaClient,
    private readonly schema: string,
    private readonly policy = LOCKOUT,
  ) {}

  /** Seconds the address stays locked (0: not locked). */
  async lockedFor(digest: string): Promise<number> {
    const [row] = await this.db.$queryRawUnsafe<Array<{ remaining: number | null }>>(
      `SELECT ceil(extract(epoch FROM (locked_until - now())))::int AS remaining FROM ${table(this.schema, 'login_throttle')} WHERE email_digest = $1 AND locked_until > now()`,
      digest,
    );
    return Math.max(0, row?.remaining ?? 0);
  }

  /** Counts one failure (atomically, concurrent failures each count); returns the lock it set, in seconds (0: none). */
  async recordFailure(digest: string): Promise<number> {
    const t = table(this.schema, 'login_throttle');
    const [row] = await this.db.$queryRawUnsafe<Array<{ failures: number }>>(
      `INSERT INTO ${t} AS t (email_digest, failures, updated_at) VALUES ($1, 1, now())
       ON CONFLICT (email_digest) DO UPDATE SET
         failures = CASE WHEN t.updated_at < now() - make_interval(secs => $2) THEN 1 ELSE t.failures + 1 END,
         updated_at = now()
       RETURNING failures`,
      digest,
      this.policy.forgetAfterSeconds,
    );
    const seconds = lockSeconds(row!.failures, this.policy);
    if (seconds > 0) {
      await this.db.$executeRawUnsafe(`UPDATE ${t} SET locked_until = now() + make_interval(secs => $2) WHERE email_digest = $1`, digest, seconds);
    }
    return seconds;
  }

  /** A success (or a password reset) starts the address over. */
  async clear(digest: string): Promise<void> {
    await this.db.loginThrottle.deleteMany({ where: { emailDigest: digest } });
  }

  /** Drops counters nobody touched for a day and no longer locked (unknown addresses pile up otherwise). */
  async forgetStale(): Promise<number> {
    return this.db.$executeRawUnsafe(
      `DELETE FROM ${table(this.schema, 'login_throttle')} WHERE updated_at < now() - make_interval(secs => $1) AND (locked_until IS NULL OR locked_until < now())`,
      this.policy.forgetAfterSeconds,
    );
  }
}
