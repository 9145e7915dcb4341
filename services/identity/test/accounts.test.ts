// Accounts in identity against the real PostgreSQL and a real SMTP conversation (the mail catcher):
// lockout with backoff, the password policy, email verification and password reset.
import { status } from '@grpc/grpc-js';
import net from 'node:net';
import { common, identity } from '@cryptocare/contracts';
import { createGrpcClient, type GrpcClient } from '@cryptocare/platform';
import { InProcessBus } from '@cryptocare/events';
import { MemoryCache, RevocationList } from '@cryptocare/cache';
import { createMailCatcher, type MailCatcher } from '@cryptocare/simulators';
import { currentConsents, eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import pg from 'pg';
import { main } from '../src/main';
import { tokenInMail } from '../src/mail/account-mails';
import { emailDigest } from '../src/domain/lockout';
import { ACCESS_TOKEN_SECONDS } from '../src/domain/tokens';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'violet-harbor-cactus-42';

describe('identity accounts: lockout, password policy, verification, reset (real PostgreSQL, SMTP)', () => {
  let service: Awaited<ReturnType<typeof main>>;
  let client: GrpcClient<typeof identity, 'IdentityService'>;
  let schema: string;
  let db: pg.Client;
  let mail: MailCatcher;
  let smtpUrl: string;
  const cache = new MemoryCache();
  const revocations = new RevocationList(cache, ACCESS_TOKEN_SECONDS + 60);
  const env = () => ({
    DATABASE_URL: infraUrls().databaseUrl,
    DATABASE_SCHEMA: schema,
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    SMTP_URL: smtpUrl,
    PUBLIC_BASE_URL: 'https://app.cryptocare.test',
  });
  const start = async () => {
    service = await main(env(), { bus: new InProcessBus(), cache });
    client = createGrpcClient(identity, 'IdentityService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 10_000 });
  };

  beforeAll(async () => {
    schema = await migratedSchema('identity');
    mail = createMailCatcher();
    ({ smtpUrl } = await mail.listen());
    db = new pg.Client({ connectionString: infraUrls().databaseUrl });
    await db.connect();
    await start();
  });

  afterAll(async () => {
    client.close();
    await service.stop();
    await mail.close();
    await db.end();
  });

  const register = (email: string, password = PASSWORD, displayName = 'Alice') =>
    client.register({ email, password, role: identity.Role.ROLE_PATIENT, displayName, region: common.Region.REGION_CH, consents: currentConsents() });
  const login = (email: string, password: string) => client.login({ email, password });
  /** SQL with "SCHEMA" standing for this run's schema. */
  const sql = (text: string, ...values: unknown[]) => db.query(text.replaceAll('"SCHEMA"', `"${schema}"`), values);
  /** Time passes: the address's lock ends now. */
  const lockEnds = (email: string) => sql(`UPDATE "SCHEMA".login_throttle SET locked_until = now() - interval '1 second' WHERE email_digest = $1`, emailDigest(email));
  /** Expects ACCOUNT_LOCKED with a wait of `seconds` (counted down by the few seconds a loaded machine may take between the calls). */
  const expectLocked = async (attempt: Promise<unknown>, seconds: number) => {
    const err = (await attempt.then(
      () => undefined,
      (e: unknown) => e,
    )) as { status: number; code: string; details?: { retryAfterSeconds?: number } } | undefined;
    expect(err).toMatchObject({ status: status.RESOURCE_EXHAUSTED, code: 'ACCOUNT_LOCKED' });
    const wait = err!.details!.retryAfterSeconds!;
    expect(wait).toBeLessThanOrEqual(seconds);
    expect(wait).toBeGreaterThan(seconds - 5);
  };
  /** The audit entries of these kinds about a user, oldest first (details as the chain keeps them: sorted pairs). */
  const auditOf = async (userId: string, ...kinds: string[]) =>
    (await sql(`SELECT kind, actor_id, details FROM "SCHEMA".audit_entries WHERE subject_id = $1 AND kind = ANY($2) ORDER BY seq`, userId, kinds)).rows as Array<{ kind: string; actor_id: string | null; details: Array<[string, string]> }>;
  const tokenOf = async (to: string, subject: RegExp, notIn: string[] = []) => {
    const found = await mail.waitFor(to, (m) => subject.test(m.subject) && !notIn.includes(tokenInMail(m.text) ?? ''));
    return tokenInMail(found.text)!;
  };

  describe('lockout', () => {
    it('locks an address after five failures, doubles the lock with each further failure, and a success resets the counter', async () => {
      await register('locked@example.ch');
      for (let i = 0; i < 5; i++) await expect(login('locked@example.ch', `wrong-guess-${i}`)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      // Locked: even the right password is refused, with the time to wait.
      await expectLocked(login('locked@example.ch', PASSWORD), 30);
      await lockEnds('locked@example.ch');
      await expect(login('locked@example.ch', 'wrong-again')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      await expectLocked(login('locked@example.ch', PASSWORD), 60);
      await lockEnds('locked@example.ch');
      await expect(login('locked@example.ch', PASSWORD)).resolves.toMatchObject({ user: { email: 'locked@example.ch' } });
      // The success started over: one more failure locks nothing.
      await expect(login('locked@example.ch', 'wrong-once')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      await expect(login('locked@example.ch', PASSWORD)).resolves.toBeDefined();
    });

    it('bounds the lock at fifteen minutes', async () => {
      await register('bounded@example.ch');
      await sql(`INSERT INTO "SCHEMA".login_throttle (email_digest, failures, updated_at) VALUES ($1, 40, now())`, emailDigest('bounded@example.ch'));
      await expect(login('bounded@example.ch', 'wrong')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      await expectLocked(login('bounded@example.ch', PASSWORD), 900);
    });

    it('locks an unknown address exactly like a known one (no enumeration)', async () => {
      await register('known@example.ch');
      // The answers, with the seconds left of a lock masked (they may differ by one between the runs).
      const outcomes = async (email: string) => {
        const seen: unknown[] = [];
        for (let i = 0; i < 5; i++) seen.push(await login(email, `guess-${i}-abcdef`).catch((err: { status: number; code: string; message: string }) => [err.status, err.code, err.message]));
        await expectLocked(login(email, `guess-5-abcdef`), 30);
        return seen;
      };
      const known = await outcomes('known@example.ch');
      expect(await outcomes('never-registered@example.ch')).toEqual(known);
      expect(known).toEqual(Array(5).fill([status.UNAUTHENTICATED, 'INVALID_CREDENTIALS', expect.any(String)]));
    });

    it('survives a restart of identity (the counter is in PostgreSQL)', async () => {
      await register('restart@example.ch');
      for (let i = 0; i < 5; i++) await login('restart@example.ch', `nope-${i}-nope`).catch(() => undefined);
      client.close();
      await service.stop();
      await start();
      await expect(login('restart@example.ch', PASSWORD)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    });
  });

  describe('password policy', () => {
    it('refuses common and personal passwords at sign-up with feedback', async () => {
      await expect(register('weak@example.ch', 'password1234')).rejects.toMatchObject({
        status: status.INVALID_ARGUMENT,
        code: 'WEAK_PASSWORD',
        details: { warning: expect.any(String), suggestions: expect.any(Array) },
      });
      await expect(register('xylophia.trendwick@example.ch', 'xylophiatrendwick', 'Xylophia Trendwick')).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
      // Strong for someone else: the user's own name is what made it weak.
      await expect(register('someone-else@example.ch', 'xylophiatrendwick', 'Someone Else')).resolves.toBeDefined();
      const { rows } = await sql(`SELECT count(*)::int AS n FROM "SCHEMA".users WHERE email IN ('weak@example.ch', 'xylophia.trendwick@example.ch')`);
      expect(rows[0].n).toBe(0);
    });
  });

  describe('email verification', () => {
    it('mails a link whose token verifies the address once', async () => {
      const { user } = await register('verify-me@example.ch');
      expect(user!.emailVerified).toBe(false);
      const message = await mail.waitFor('verify-me@example.ch', (m) => /confirm your email/i.test(m.subject));
      expect(message.from).toBe('no-reply@cryptocare.ch');
      const token = tokenInMail(message.text)!;
      expect(message.text).toContain(`https://app.cryptocare.test/#/verify-email?token=${token}`);
      // Only the hash is stored.
      const { rows } = await sql(`SELECT token_hash FROM "SCHEMA".email_tokens WHERE user_id = $1`, user!.id);
      expect(rows.length).toBe(1);
      expect(rows[0].token_hash).not.toContain(token);
      const verified = await client.verifyEmail({ token });
      expect(verified.user).toMatchObject({ id: user!.id, emailVerified: true });
      expect((await client.getUser({ userId: user!.id })).user!.emailVerified).toBe(true);
      await expect(client.verifyEmail({ token })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_TOKEN' });
      await expect(client.resendVerification({ userId: user!.id })).resolves.toEqual({ alreadyVerified: true });
      // In the audit trail once, by its holder.
      expect(await auditOf(user!.id, 'account.email_verified')).toEqual([{ kind: 'account.email_verified', actor_id: user!.id, details: [] }]);
    });

    it('resends a new link; an expired one is refused', async () => {
      const { user } = await register('resend@example.ch');
      const first = await tokenOf('resend@example.ch', /confirm/i);
      await expect(client.resendVerification({ userId: user!.id })).resolves.toEqual({ alreadyVerified: false });
      const second = await tokenOf('resend@example.ch', /confirm/i, [first]);
      expect(second).not.toBe(first);
      await sql(`UPDATE "SCHEMA".email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, user!.id);
      await expect(client.verifyEmail({ token: second })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
      for (const token of ['', 'x'.repeat(43), 'a\u0000b', '../../etc/passwd'.padEnd(43, 'a')]) await expect(client.verifyEmail({ token })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    });

    it('refuses sign-in past the grace period until the address is verified, mailing a fresh link', async () => {
      const { user, tokens } = await register('unverified-week@example.ch');
      const first = await tokenOf('unverified-week@example.ch', /confirm/i);
      // Eight days later, still unverified.
      await sql(`UPDATE "SCHEMA".users SET created_at = now() - interval '8 days' WHERE id = $1`, user!.id);
      await expect(login('unverified-week@example.ch', PASSWORD)).rejects.toMatchObject({ status: status.PERMISSION_DENIED, code: 'EMAIL_NOT_VERIFIED' });
      await expect(client.refresh({ refreshToken: tokens!.refreshToken })).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
      // A wrong password learns nothing about it.
      await expect(login('unverified-week@example.ch', 'not-the-password-1')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      const fresh = await tokenOf('unverified-week@example.ch', /confirm/i, [first]);
      await client.verifyEmail({ token: fresh });
      await expect(login('unverified-week@example.ch', PASSWORD)).resolves.toMatchObject({ user: { emailVerified: true } });
    });

    it('retries a mail until the SMTP server takes it (queued in the database, not lost)', async () => {
      // A port where nothing listens yet: the first attempt fails, the job waits and retries.
      const port = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const saved = smtpUrl;
      smtpUrl = `smtp://127.0.0.1:${port}`;
      client.close();
      await service.stop();
      await start();
      const late = createMailCatcher();
      try {
        const { user } = await register('retried@example.ch');
        await eventually(async () => {
          const { rows } = await sql(`SELECT attempts, last_error, sent_at FROM "SCHEMA".mail_jobs WHERE user_id = $1`, user!.id);
          return rows[0]?.attempts >= 1 && rows[0].last_error && rows[0].sent_at === null;
        }, 15_000);
        await late.listen({ smtp: port });
        const message = await late.waitFor('retried@example.ch', undefined, 30_000);
        expect(tokenInMail(message.text)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      } finally {
        smtpUrl = saved;
        client.close();
        await service.stop();
        await late.close();
        await start();
      }
    }, 60_000);
  });

  describe('password reset', () => {
    it('mails a single-use link; the new password must pass the policy; the old one and every session end; the lock goes', async () => {
      const { user, tokens } = await register('reset@example.ch');
      const second = await login('reset@example.ch', PASSWORD);
      for (let i = 0; i < 5; i++) await login('reset@example.ch', `wrong-${i}-wrong`).catch(() => undefined);
      await expect(login('reset@example.ch', PASSWORD)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });

      await expect(client.requestPasswordReset({ email: ' Reset@Example.ch ' })).resolves.toEqual({});
      const token = await tokenOf('reset@example.ch', /reset your/i);
      await expect(client.confirmPasswordReset({ token, newPassword: 'password1234' })).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
      // The refused password did not spend the link.
      await expect(client.confirmPasswordReset({ token, newPassword: NEW_PASSWORD })).resolves.toEqual({});
      await expect(client.confirmPasswordReset({ token, newPassword: 'another-fine-passphrase-9' })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

      await expect(login('reset@example.ch', PASSWORD)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      const fresh = await login('reset@example.ch', NEW_PASSWORD);
      // The mail reached its owner: the address is verified too.
      expect(fresh.user!.emailVerified).toBe(true);
      // Both earlier sessions end: their refresh tokens are refused, their access tokens revoked.
      for (const old of [tokens!, second.tokens!]) await expect(client.refresh({ refreshToken: old.refreshToken })).rejects.toMatchObject({ status: status.UNAUTHENTICATED });
      const sessionOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string; iat: number };
      for (const old of [tokens!, second.tokens!]) {
        const { sid, iat } = sessionOf(old.accessToken);
        await expect(revocations.isRevoked({ userId: user!.id, sessionId: sid, issuedAt: iat * 1000 })).resolves.toBe(true);
      }
      const now = sessionOf(fresh.tokens!.accessToken);
      await expect(revocations.isRevoked({ userId: user!.id, sessionId: now.sid, issuedAt: now.iat * 1000 })).resolves.toBe(false);
      // In the audit trail once, with the sessions it ended (the refused attempts recorded nothing).
      expect(await auditOf(user!.id, 'account.password_reset')).toEqual([{ kind: 'account.password_reset', actor_id: null, details: [['sessionsRevoked', '2']] }]);
    });

    it('refuses an expired reset token', async () => {
      const { user } = await register('expired-reset@example.ch');
      await client.requestPasswordReset({ email: 'expired-reset@example.ch' });
      const token = await tokenOf('expired-reset@example.ch', /reset your/i);
      await sql(`UPDATE "SCHEMA".email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND purpose = 'password_reset'`, user!.id);
      await expect(client.confirmPasswordReset({ token, newPassword: NEW_PASSWORD })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
      await expect(login('expired-reset@example.ch', PASSWORD)).resolves.toBeDefined();
    });

    it('issues reset tokens that live 30 minutes and verification tokens that live 24 hours', async () => {
      const { user } = await register('lifetimes@example.ch');
      await client.requestPasswordReset({ email: 'lifetimes@example.ch' });
      await tokenOf('lifetimes@example.ch', /reset your/i);
      const { rows } = await sql(`SELECT purpose, extract(epoch FROM expires_at - created_at)::int AS seconds FROM "SCHEMA".email_tokens WHERE user_id = $1 ORDER BY purpose`, user!.id);
      expect(rows).toEqual([
        { purpose: 'password_reset', seconds: 30 * 60 },
        { purpose: 'verify_email', seconds: 24 * 60 * 60 },
      ]);
    });

    it('answers an unknown or malformed address the same, and mails nothing', async () => {
      for (const email of ['nobody-here@example.ch', 'not an address', '\u0000@x.ch']) await expect(client.requestPasswordReset({ email })).resolves.toEqual({});
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(mail.messages('nobody-here@example.ch')).toEqual([]);
      const { rows } = await sql(`SELECT count(*)::int AS n FROM "SCHEMA".mail_jobs j JOIN "SCHEMA".users u ON u.id = j.user_id WHERE u.email = 'nobody-here@example.ch'`);
      expect(rows[0].n).toBe(0);
      // Sign-in with such an address fails like any wrong password, never with a 500.
      await expect(login('\u0000@x.ch', 'whatever-password-1')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    });

    it('lets only one of two simultaneous confirmations with one token win', async () => {
      await register('race@example.ch');
      await client.requestPasswordReset({ email: 'race@example.ch' });
      const token = await tokenOf('race@example.ch', /reset your/i);
      const results = await Promise.allSettled([
        client.confirmPasswordReset({ token, newPassword: NEW_PASSWORD }),
        client.confirmPasswordReset({ token, newPassword: 'another-fine-passphrase-9' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'INVALID_TOKEN' } });
    });
  });

  describe('password change', () => {
    it('needs the current password, applies the policy, and ends every other session', async () => {
      const { user, tokens } = await register('change@example.ch');
      const other = await login('change@example.ch', PASSWORD);
      const sessionOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string; iat: number };
      const mine = sessionOf(tokens!.accessToken);
      const change = (currentPassword: string, newPassword: string) => client.changePassword({ userId: user!.id, sessionId: mine.sid, currentPassword, newPassword });
      await expect(change('not-my-password-1', NEW_PASSWORD)).rejects.toMatchObject({ status: status.PERMISSION_DENIED, code: 'WRONG_PASSWORD' });
      await expect(change(PASSWORD, 'password1234')).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
      await expect(change(PASSWORD, NEW_PASSWORD)).resolves.toEqual({});
      await expect(login('change@example.ch', PASSWORD)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      await expect(login('change@example.ch', NEW_PASSWORD)).resolves.toBeDefined();
      // The other sign-in ends; this one goes on.
      await expect(client.refresh({ refreshToken: other.tokens!.refreshToken })).rejects.toMatchObject({ status: status.UNAUTHENTICATED });
      const theirs = sessionOf(other.tokens!.accessToken);
      await expect(revocations.isRevoked({ userId: user!.id, sessionId: theirs.sid, issuedAt: theirs.iat * 1000 })).resolves.toBe(true);
      await expect(revocations.isRevoked({ userId: user!.id, sessionId: mine.sid, issuedAt: mine.iat * 1000 })).resolves.toBe(false);
      await expect(client.refresh({ refreshToken: tokens!.refreshToken })).resolves.toBeDefined();
      expect(await auditOf(user!.id, 'account.password_changed')).toEqual([{ kind: 'account.password_changed', actor_id: user!.id, details: [['sessionsRevoked', '1']] }]);
    });

    it('counts wrong current passwords towards the lockout', async () => {
      const { user, tokens } = await register('change-guess@example.ch');
      const sid = JSON.parse(Buffer.from(tokens!.accessToken.split('.')[1]!, 'base64url').toString()).sid as string;
      for (let i = 0; i < 5; i++) {
        await expect(client.changePassword({ userId: user!.id, sessionId: sid, currentPassword: `guess-${i}-guess`, newPassword: NEW_PASSWORD })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
      }
      await expectLocked(client.changePassword({ userId: user!.id, sessionId: sid, currentPassword: PASSWORD, newPassword: NEW_PASSWORD }), 30);
      await expectLocked(login('change-guess@example.ch', PASSWORD), 30);
    });
  });

  describe('sign out everywhere', () => {
    it('ends every session of the user at once (refresh and access tokens), once, and touches nobody else', async () => {
      const sessionOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string; iat: number };
      const { user, tokens } = await register('everywhere@example.ch');
      const other = await login('everywhere@example.ch', PASSWORD);
      // A rotated sign-in counts once.
      const rotated = await client.refresh({ refreshToken: other.tokens!.refreshToken });
      const bystander = await register('bystander@example.ch');
      // Two calls at the same instant: the sessions end once, one entry is recorded.
      const [a, b] = await Promise.all([client.logOutEverywhere({ userId: user!.id }), client.logOutEverywhere({ userId: user!.id })]);
      expect([a.sessionsEnded, b.sessionsEnded].sort()).toEqual([0, 2]);
      for (const t of [tokens!, rotated.tokens!]) {
        await expect(client.refresh({ refreshToken: t.refreshToken })).rejects.toMatchObject({ status: status.UNAUTHENTICATED });
        const s = sessionOf(t.accessToken);
        await expect(revocations.isRevoked({ userId: user!.id, sessionId: s.sid, issuedAt: s.iat * 1000 })).resolves.toBe(true);
      }
      expect(await auditOf(user!.id, 'auth.signed_out_everywhere')).toEqual([{ kind: 'auth.signed_out_everywhere', actor_id: user!.id, details: [['sessionsEnded', '2']] }]);
      // Idempotent: nothing left to end, nothing recorded.
      await expect(client.logOutEverywhere({ userId: user!.id })).resolves.toEqual({ sessionsEnded: 0 });
      expect(await auditOf(user!.id, 'auth.signed_out_everywhere')).toHaveLength(1);
      // A new sign-in works at once (its access token is not caught by the revocation).
      const fresh = await login('everywhere@example.ch', PASSWORD);
      const f = sessionOf(fresh.tokens!.accessToken);
      await expect(revocations.isRevoked({ userId: user!.id, sessionId: f.sid, issuedAt: f.iat * 1000 })).resolves.toBe(false);
      await expect(client.refresh({ refreshToken: fresh.tokens!.refreshToken })).resolves.toBeDefined();
      // Another user's session goes on.
      const theirs = sessionOf(bystander.tokens!.accessToken);
      await expect(revocations.isRevoked({ userId: bystander.user!.id, sessionId: theirs.sid, issuedAt: theirs.iat * 1000 })).resolves.toBe(false);
      await expect(client.refresh({ refreshToken: bystander.tokens!.refreshToken })).resolves.toBeDefined();
      // Unknown, malformed and erased users: NOT_FOUND, never a 500.
      await expect(client.logOutEverywhere({ userId: '\u0000' })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'USER_NOT_FOUND' });
      await expect(client.logOutEverywhere({ userId: '0190d7a4-0000-7000-8000-000000000000' })).rejects.toMatchObject({ status: status.NOT_FOUND });
      await client.eraseUser({ userId: bystander.user!.id });
      await expect(client.logOutEverywhere({ userId: bystander.user!.id })).rejects.toMatchObject({ status: status.NOT_FOUND });
    });
  });

  it('erasure deletes the mailed tokens, pending mails and the sign-in counter', async () => {
    const { user } = await register('erase-accounts@example.ch');
    await tokenOf('erase-accounts@example.ch', /confirm/i);
    await login('erase-accounts@example.ch', 'wrong-password-x').catch(() => undefined);
    await client.requestPasswordReset({ email: 'erase-accounts@example.ch' });
    await tokenOf('erase-accounts@example.ch', /reset your/i);
    await client.eraseUser({ userId: user!.id });
    for (const table of ['email_tokens', 'mail_jobs']) {
      const { rows } = await sql(`SELECT count(*)::int AS n FROM "SCHEMA".${table} WHERE user_id = $1`, user!.id);
      expect(rows[0].n).toBe(0);
    }
    const { rows } = await sql(`SELECT count(*)::int AS n FROM "SCHEMA".login_throttle WHERE email_digest = $1`, emailDigest('erase-accounts@example.ch'));
    expect(rows[0].n).toBe(0);
  });
});
