import type { Logger } from '@cryptocare/platform';
import type { PrismaClient } from '../generated/prisma';
import type { AccountMailStore, ClaimedMailJob } from '../store/account-mail';
import { accountMail } from './account-mails';
import type { Mailer } from './mailer';

/**
 * Sends the queued account mails (store/account-mail.ts): at least once, with retries and backoff.
 * Kicked right after a transaction that queued one commits; a timer catches the rest (retries,
 * jobs of a replica that died). The token is made just before the send, so a crash between the
 * two leaves an unused token that expires, and the retry mails a fresh one.
 */
export class MailWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: { db: PrismaClient; mail: AccountMailStore; mailer: Mailer; publicBaseUrl: string; logger: Logger; pollMs: number },
  ) {}

  start() {
    this.schedule(0);
  }

  /** Something was queued: send it now rather than at the next poll. */
  kick() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.deps.mailer.close();
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms).unref();
  }

  private async run() {
    if (this.stopped || this.running) return;
    this.running = this.drain()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'mail worker failed; retried at the next poll'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else this.schedule(this.deps.pollMs);
      });
    await this.running;
  }

  private async drain() {
    for (let job = await this.deps.mail.claimDue(); job && !this.stopped; job = await this.deps.mail.claimDue()) await this.send(job);
  }

  private async send(job: ClaimedMailJob) {
    const { db, mail, mailer, logger } = this.deps;
    const user = await db.user.findUnique({ where: { id: job.userId } });
    if (!user?.email || user.erasedAt || (job.kind === 'verify_email' && user.emailVerifiedAt)) return mail.drop(job.id);
    try {
      const { token } = await mail.issueToken(user.id, job.kind);
      await mailer.send(accountMail(job.kind, { to: user.email, displayName: user.displayName, token, publicBaseUrl: this.deps.publicBaseUrl }));
      await mail.markSent(job.id);
    } catch (err) {
      const gaveUp = await mail.markFailed(job, err instanceof Error ? err.message : String(err));
      logger[gaveUp ? 'error' : 'warn']({ err, jobId: job.id, kind: job.kind, attempt: job.attempts }, gaveUp ? 'account mail given up' : 'account mail failed; retrying later');
    }
  }
}
