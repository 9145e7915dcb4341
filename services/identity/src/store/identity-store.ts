import { v7 as uuidv7 } from 'uuid';
import { table, type Outbox } from '@cryptocare/events';
import type { Prisma, PrismaClient, RefreshToken, User } from '../generated/prisma';
import { REFRESH_TOKEN_DAYS } from '../domain/tokens';
import type { SigningKeyRing } from './signing-keys';
import type { AuditTrail } from './audit-trail';
import type { AccountMailStore } from './account-mail';
import type { EmailTokenPurpose } from '../domain/email-tokens';
import { emailDigest } from '../domain/lockout';

export type { RefreshToken, User };

export class EmailTakenError extends Error {}

type Tx = Prisma.TransactionClient;

/** identity's tables, through Prisma. */
export class IdentityStore {
  constructor(
    private readonly db: PrismaClient,
    private readonly outbox: Outbox,
    private readonly schema: string,
    private readonly keyRing: SigningKeyRing,
    /** Every security event below is chained in the transaction of its change. */
    readonly audit: AuditTrail,
    private readonly mail: AccountMailStore,
    /** Called after a transaction that queued a mail commits (the mail worker sends it now). */
    private readonly mailQueued: () => void = () => undefined,
  ) {}

  /**
   * Creates the user and its `identity.user_registered` event in one transaction, with the mail
   * that asks to verify the address (unless `verified`: the bootstrap admin).
   */
  async createUser(
    input: { email: string; passwordHash: string; role: string; displayName: string; region: string; verified?: boolean },
    /** More writes of the sign-up, in its transaction (the consents given). */
    after?: (tx: Tx, user: User) => Promise<void>,
  ): Promise<User> {
    const { verified, ...data } = input;
    try {
      const user = await this.db.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { id: uuidv7(), ...data, emailVerifiedAt: verified ? new Date() : null } });
        await this.outbox.add(tx, 'identity.user_registered', created.id, { userId: created.id, role: created.role, region: created.region });
        await after?.(tx, created);
        await this.audit.record(tx, 'account.registered', { subjectId: created.id, details: { role: created.role, region: created.region } });
        if (!verified) await this.mail.enqueue(tx, created.id, 'verify_email');
        return created;
      });
      this.outbox.notifyCommitted();
      if (!verified) this.mailQueued();
      return user;
    } catch (err) {
      if ((err as { code?: string }).code === 'P2002') throw new EmailTakenError();
      throw err;
    }
  }

  findByEmail(email: string) {
    return this.db.user.findUnique({ where: { email } });
  }

  findById(id: string) {
    return this.db.user.findUnique({ where: { id } });
  }

  /** The display names of the live (not erased) patients among `ids`, by id. */
  async patientNames(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.db.user.findMany({ where: { id: { in: ids }, role: 'patient', erasedAt: null }, select: { id: true, displayName: true } });
    return new Map(rows.map((r) => [r.id, r.displayName]));
  }

  /** A new sign-in (session = token family), recorded as auth.signed_in with how it began. */
  async issueRefreshToken(userId: string, tokenHash: string, familyId = uuidv7(), method: 'password' | 'registration' = 'password') {
    const expiresAt = new Date(Date.now() + REFRESH_TOKEN_DAYS * 86_400_000);
    await this.db.$transaction(async (tx) => {
      await tx.refreshToken.create({ data: { id: uuidv7(), familyId, userId, tokenHash, expiresAt } });
      await this.audit.record(tx, 'auth.signed_in', { subjectId: userId, objectId: familyId, details: { method } });
    });
  }

  /** A refused sign-in; the account only when the email names one (the email is never recorded). */
  async recordFailedSignIn(userId: string | undefined, reason: 'bad_password' | 'unknown_account' | 'erased_account') {
    await this.audit.recordAlone('auth.sign_in_failed', { subjectId: userId ?? null, details: { reason } });
  }

  /**
   * Rotates a refresh token. Returns the user and family when the token is current; when it was
   * already replaced or revoked (a reuse: stolen or replayed), revokes the whole family.
   */
  async rotateRefreshToken(
    tokenHash: string,
    nextHash: string,
  ): Promise<{ outcome: 'rotated'; user: User; familyId: string } | { outcome: 'reused'; familyId: string } | { outcome: 'invalid' }> {
    return this.db.$transaction(async (tx) => {
      const [token] = await tx.$queryRawUnsafe<Array<{ id: string; family_id: string; user_id: string; expires_at: Date; replaced_at: Date | null; revoked_at: Date | null }>>(
        // Locks the row so two concurrent refreshes with one token cannot both rotate it.
        `SELECT id, family_id, user_id, expires_at, replaced_at, revoked_at FROM ${table(this.schema, 'refresh_tokens')} WHERE token_hash = $1 FOR UPDATE`,
        tokenHash,
      );
      if (!token) return { outcome: 'invalid' as const };
      if (token.replaced_at || token.revoked_at) {
        const revoked = await tx.refreshToken.updateMany({ where: { familyId: token.family_id, revokedAt: null }, data: { revokedAt: new Date() } });
        await this.audit.record(tx, 'auth.refresh_reused', { subjectId: token.user_id, objectId: token.family_id, details: { tokensRevoked: String(revoked.count) } });
        return { outcome: 'reused' as const, familyId: token.family_id };
      }
      if (token.expires_at.getTime() <= Date.now()) return { outcome: 'invalid' as const };
      const user = await tx.user.findUnique({ where: { id: token.user_id } });
      if (!user || user.erasedAt) return { outcome: 'invalid' as const };
      await tx.refreshToken.update({ where: { id: token.id }, data: { replacedAt: new Date() } });
      await tx.refreshToken.create({
        data: { id: uuidv7(), familyId: token.family_id, userId: user.id, tokenHash: nextHash, expiresAt: new Date(Date.now() + REFRESH_TOKEN_DAYS * 86_400_000) },
      });
      return { outcome: 'rotated' as const, user, familyId: token.family_id };
    });
  }

  /** Ends the session (family) of a refresh token; returns its family id, if the token exists. */
  async revokeFamilyOf(tokenHash: string): Promise<string | undefined> {
    return this.db.$transaction(async (tx) => {
      const token = await tx.refreshToken.findUnique({ where: { tokenHash } });
      if (!token) return undefined;
      const revoked = await tx.refreshToken.updateMany({ where: { familyId: token.familyId, revokedAt: null }, data: { revokedAt: new Date() } });
      // Signing out an already ended session changes nothing and records nothing.
      if (revoked.count > 0) await this.audit.record(tx, 'auth.signed_out', { actorId: token.userId, subjectId: token.userId, objectId: token.familyId });
      return token.familyId;
    });
  }

  /**
   * Revokes the refresh tokens of every open sign-in of the user; returns how many sign-ins
   * (families) ended. Two calls at once end them once: the second's update waits for the first's
   * rows and finds them revoked, so it records nothing.
   */
  async revokeEverySession(userId: string): Promise<number> {
    return this.db.$transaction(async (tx) => {
      const revoked = await tx.refreshToken.updateManyAndReturn({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() }, select: { familyId: true } });
      const sessions = new Set(revoked.map((t) => t.familyId)).size;
      if (sessions > 0) await this.audit.record(tx, 'auth.signed_out_everywhere', { actorId: userId, subjectId: userId, details: { sessionsEnded: String(sessions) } });
      return sessions;
    });
  }

  /** Every refresh token issued to the user, newest first (the export's sign-in history). */
  sessionsOf(userId: string): Promise<RefreshToken[]> {
    return this.db.refreshToken.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  }

  /**
   * Erases a user: email, password and name go, every session ends and its history is deleted
   * (a refresh token presented later is simply unknown), and `identity.user_erased` (in the same
   * transaction) tells the other services. The row stays as a tombstone (id, role, region,
   * created_at, erased_at) so the id is never reused. Returns undefined when there is no such
   * user; erasing twice is harmless.
   */
  async eraseUser(userId: string, now = new Date()): Promise<Date | undefined> {
    const erasedAt = await this.db.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { id: userId } });
      if (!user) return undefined;
      if (user.erasedAt) return user.erasedAt;
      await tx.user.update({ where: { id: userId }, data: { email: null, passwordHash: null, displayName: 'Erased user', erasedAt: now } });
      await tx.refreshToken.deleteMany({ where: { userId } });
      // Consents end with the account; the audit trail keeps their history (ids and versions only).
      await tx.consent.deleteMany({ where: { userId } });
      // Mailed tokens and pending mails go; so does the sign-in counter of the address.
      await tx.emailToken.deleteMany({ where: { userId } });
      await tx.mailJob.deleteMany({ where: { userId } });
      if (user.email) await tx.loginThrottle.deleteMany({ where: { emailDigest: emailDigest(user.email) } });
      await this.outbox.add(tx, 'identity.user_erased', userId, { userId });
      await this.audit.record(tx, 'account.erased', { actorId: userId, subjectId: userId });
      return now;
    });
    this.outbox.notifyCommitted();
    return erasedAt;
  }

  /** Queues a verification mail, unless the user is unknown, erased or verified already. */
  async queueVerificationMail(userId: string): Promise<'queued' | 'already_verified' | 'no_user'> {
    const outcome = await this.db.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { id: userId } });
      if (!user || user.erasedAt) return 'no_user' as const;
      if (user.emailVerifiedAt) return 'already_verified' as const;
      await this.mail.enqueue(tx, userId, 'verify_email');
      return 'queued' as const;
    });
    if (outcome === 'queued') this.mailQueued();
    return outcome;
  }

  /** Queues a reset mail when the address has a (not erased) account; says nothing either way. */
  async queuePasswordResetMail(email: string): Promise<void> {
    const queued = await this.db.$transaction(async (tx) => {
      const user = await tx.user.findUnique({ where: { email } });
      if (!user || user.erasedAt) return false;
      await this.mail.enqueue(tx, user.id, 'password_reset');
      return true;
    });
    if (queued) this.mailQueued();
  }

  /** The user of a token that is unused and unexpired, without using it. */
  async userOfValidToken(purpose: EmailTokenPurpose, tokenHash: string): Promise<User | undefined> {
    const token = await this.db.emailToken.findUnique({ where: { tokenHash }, include: { user: true } });
    if (!token || token.purpose !== purpose || token.usedAt || token.expiresAt.getTime() <= Date.now() || token.user.erasedAt) return undefined;
    return token.user;
  }

  /** Uses a token (once: two concurrent uses, one wins) in `tx`; returns its user id. */
  private async useToken(tx: Prisma.TransactionClient, purpose: EmailTokenPurpose, tokenHash: string): Promise<string | undefined> {
    const [row] = await tx.$queryRawUnsafe<Array<{ user_id: string }>>(
      `UPDATE ${table(this.schema, 'email_tokens')} SET used_at = now() WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() RETURNING user_id`,
      tokenHash,
      purpose,
    );
    return row?.user_id;
  }

  /** Uses a verification token; returns the verified user, or undefined for an unknown, used or expired token. */
  async verifyEmail(tokenHash: string): Promise<User | undefined> {
    return this.db.$transaction(async (tx) => {
      const userId = await this.useToken(tx, 'verify_email', tokenHash);
      if (!userId) return undefined;
      const user = await tx.user.findUnique({ where: { id: userId } });
      if (!user || user.erasedAt) return undefined;
      if (user.emailVerifiedAt) return user;
      const verified = await tx.user.update({ where: { id: userId }, data: { emailVerifiedAt: new Date() } });
      await this.audit.record(tx, 'account.email_verified', { actorId: userId, subjectId: userId });
      return verified;
    });
  }

  /** The sign-ins of a user that may still have live access tokens (their refresh tokens have not expired). */
  async liveSessionIds(userId: string): Promise<string[]> {
    const rows = await this.db.refreshToken.findMany({ where: { userId, expiresAt: { gt: new Date() } }, distinct: ['familyId'], select: { familyId: true } });
    return rows.map((r) => r.familyId);
  }

  /**
   * Uses a reset token and sets the new password in one transaction: every other reset token of
   * the user is spent, every refresh token revoked, the address unlocked and (the mail reached
   * its owner) verified. Returns the user id, or undefined when the token is not valid.
   */
  async resetPassword(tokenHash: string, passwordHash: string): Promise<string | undefined> {
    return this.db.$transaction(async (tx) => {
      const userId = await this.useToken(tx, 'password_reset', tokenHash);
      if (!userId) return undefined;
      const user = await tx.user.findUnique({ where: { id: userId } });
      if (!user?.email || user.erasedAt) return undefined;
      const now = new Date();
      await tx.user.update({ where: { id: userId }, data: { passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? now } });
      await tx.emailToken.updateMany({ where: { userId, purpose: 'password_reset', usedAt: null }, data: { usedAt: now } });
      const revoked = await tx.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
      await tx.loginThrottle.deleteMany({ where: { emailDigest: emailDigest(user.email) } });
      await this.audit.record(tx, 'account.password_reset', { subjectId: userId, details: { sessionsRevoked: String(revoked.count) } });
      return userId;
    });
  }

  /**
   * Sets a new password and revokes the refresh tokens of every sign-in but `keepSessionId`;
   * returns false when the user is gone.
   */
  async changePassword(userId: string, passwordHash: string, keepSessionId: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const updated = await tx.user.updateMany({ where: { id: userId, erasedAt: null }, data: { passwordHash } });
      if (updated.count === 0) return false;
      const revoked = await tx.refreshToken.updateMany({ where: { userId, revokedAt: null, familyId: { not: keepSessionId } }, data: { revokedAt: new Date() } });
      await this.audit.record(tx, 'account.password_changed', { actorId: userId, subjectId: userId, details: { sessionsRevoked: String(revoked.count) } });
      return true;
    });
  }

  /** The key that signs now and every published public key (rotation: store/signing-keys.ts). */
  signingKeys() {
    return this.keyRing.signingKeys();
  }
}
