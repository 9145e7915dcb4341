import { common, identity } from '@cryptocare/contracts';
import { v7 as uuidv7 } from 'uuid';
import { alreadyExists, AppError, defineService, GrpcStatus, invalidArgument, isUuid, notFound, permissionDenied, unauthenticated, unavailable, type DataRegion, type Logger, type Role } from '@cryptocare/platform';
import type { RevocationList } from '@cryptocare/cache';
import {
  hashPassword,
  hashRefreshToken,
  isEmailAddress,
  newRefreshToken,
  normaliseEmail,
  registrationProblems,
  timingDummyHash,
  verifyPassword,
} from '../domain/credentials';
import { ACCESS_TOKEN_SECONDS, signAccessToken } from '../domain/tokens';
import { EmailTakenError, type IdentityStore, type RefreshToken, type User } from '../store/identity-store';
import type { AuditEntry, AuditFilter } from '../store/audit-trail';
import { ConsentProblem, type ConsentStore } from '../store/consents';
import { CONSENT_LANGS, DEFAULT_LANG, isConsentKind, REQUIRED_CONSENTS, type ConsentKind } from '../domain/consent-documents';
import { isAuditKind } from '@cryptocare/contracts';
import type { LoginThrottle } from '../store/login-throttle';
import { judgePassword } from '../domain/password-policy';
import { emailDigest } from '../domain/lockout';
import { hashEmailToken, looksLikeEmailToken } from '../domain/email-tokens';

const roleToProto: Record<string, identity.Role> = {
  patient: identity.Role.ROLE_PATIENT,
  professional: identity.Role.ROLE_PROFESSIONAL,
  admin: identity.Role.ROLE_ADMIN,
};
const regionToProto: Record<string, common.Region> = { CH: common.Region.REGION_CH, EU: common.Region.REGION_EU };

function userMessage(user: User): identity.User {
  return {
    id: user.id,
    email: user.email ?? '',
    role: roleToProto[user.role] ?? identity.Role.ROLE_UNSPECIFIED,
    displayName: user.displayName,
    region: regionToProto[user.region] ?? common.Region.REGION_UNSPECIFIED,
    createdAt: user.createdAt.toISOString(),
    emailVerified: user.emailVerifiedAt !== null,
  };
}

/** Refuses a password the policy finds weak, with zxcvbn's feedback as details. */
function requireStrongPassword(password: string, user: { email: string; displayName: string }) {
  const verdict = judgePassword(password, [user.email, user.displayName]);
  if (!verdict.ok) {
    throw invalidArgument('WEAK_PASSWORD', `password too weak: ${verdict.warning}`, { warning: verdict.warning, suggestions: verdict.suggestions });
  }
}

/** The same answer for a locked known address and a locked unknown one. */
const accountLocked = (seconds: number) =>
  new AppError(GrpcStatus.RESOURCE_EXHAUSTED, 'ACCOUNT_LOCKED', `too many failed sign-ins: locked, retry in ${seconds} s or reset the password`, { retryAfterSeconds: seconds });

/**
 * How long an account may be used before its address is verified (docs/operations/mail.md): long
 * enough to book at once after signing up, short enough that an address nobody proved (mistyped,
 * someone else's) does not make a lasting account.
 */
export const UNVERIFIED_GRACE_DAYS = 7;
const pastGrace = (user: User, now = Date.now()) => !user.emailVerifiedAt && now - user.createdAt.getTime() > UNVERIFIED_GRACE_DAYS * 86_400_000;
const notVerified = () =>
  permissionDenied('EMAIL_NOT_VERIFIED', `confirm your email address first: a new link is on its way (accounts are usable unverified for ${UNVERIFIED_GRACE_DAYS} days)`);

const invalidToken = () => invalidArgument('INVALID_TOKEN', 'the link is invalid, expired or already used');

/** A refresh token as the user's export shows it: never the token or its hash. */
function sessionMessage(token: RefreshToken): identity.Session {
  return {
    id: token.id,
    sessionId: token.familyId,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt.toISOString(),
    replacedAt: token.replacedAt?.toISOString() ?? '',
    revokedAt: token.revokedAt?.toISOString() ?? '',
  };
}

/**
 * This deployment holds only the users of its data region: another region's user is sent there
 * (the gateway adds that region's public URL). `details.region` is what clients read.
 */
function wrongRegion(region: string) {
  return new AppError(GrpcStatus.FAILED_PRECONDITION, 'WRONG_REGION', `this deployment serves another data region; use the ${region} deployment`, { region });
}

export function identityService(deps: { store: IdentityStore; consents: ConsentStore; throttle: LoginThrottle; issuer: string; region: DataRegion; logger: Logger; revocations: RevocationList }) {
  const { store, consents, throttle, issuer, revocations } = deps;
  const claims = (user: User) => ({ id: user.id, role: user.role as Role, region: user.region as DataRegion });
  /** The consents of a user as the API shows them. */
  async function consentsOf(userId: string) {
    if (!isUuid(userId)) throw notFound('USER_NOT_FOUND', 'no such user');
    const user = await store.findById(userId);
    if (!user || user.erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
    const { consents: list, pending } = await consents.statusOf(userId);
    return {
      consents: list.map((c) => ({
        kind: c.kind,
        currentVersion: c.currentVersion,
        state: c.state,
        givenVersion: c.givenVersion ?? '',
        givenAt: c.givenAt?.toISOString() ?? '',
        withdrawnAt: c.withdrawnAt?.toISOString() ?? '',
      })),
      pending,
    };
  }
  /** Acceptances checked against the current documents (400 naming what is required). */
  async function checkedConsents(accepted: identity.ConsentAccepted[], required: readonly ConsentKind[]) {
    try {
      return await consents.check(accepted, required);
    } catch (err) {
      if (err instanceof ConsentProblem) throw invalidArgument(err.code, err.message, { required: err.required });
      throw err;
    }
  }

  async function tokensFor(user: User, method: 'password' | 'registration') {
    const { current } = await store.signingKeys();
    const familyId = uuidv7();
    const accessToken = await signAccessToken(current, issuer, claims(user), familyId);
    const refreshToken = newRefreshToken();
    await store.issueRefreshToken(user.id, hashRefreshToken(refreshToken), familyId, method);
    return { accessToken, refreshToken, expiresIn: ACCESS_TOKEN_SECONDS };
  }

  /** Writes to the shared revocation list; the caller may retry (every write is idempotent). */
  async function revoke(write: Promise<void>) {
    try {
      await write;
    } catch (err) {
      deps.logger.error({ err }, 'revocation list unreachable');
      throw unavailable('REVOCATION_UNAVAILABLE', 'signing out is not possible right now, retry shortly');
    }
  }

  return defineService(
    identity,
    'IdentityService',
    {
      async register(req) {
        const email = normaliseEmail(req.email);
        const problem = registrationProblems({ email, password: req.password, displayName: req.displayName });
        if (problem) throw invalidArgument(problem, problemMessages[problem]!);
        const role = req.role === identity.Role.ROLE_PROFESSIONAL ? 'professional' : req.role === identity.Role.ROLE_PATIENT ? 'patient' : undefined;
        if (!role) throw invalidArgument('INVALID_ROLE', 'role must be patient or professional');
        // No region asked: this deployment's. Another region's account is never created here.
        const region = req.region === common.Region.REGION_EU ? 'EU' : req.region === common.Region.REGION_CH ? 'CH' : deps.region;
        if (region !== deps.region) throw wrongRegion(region);
        const given = await checkedConsents(req.consents, REQUIRED_CONSENTS);
        requireStrongPassword(req.password, { email, displayName: req.displayName });
        try {
          const user = await store.createUser({ email, passwordHash: await hashPassword(req.password), role, displayName: req.displayName.trim(), region }, async (tx, created) => {
            await consents.grantIn(tx, created.id, given);
          });
          return { user: userMessage(user), tokens: await tokensFor(user, 'registration') };
        } catch (err) {
          if (err instanceof EmailTakenError) throw alreadyExists('EMAIL_TAKEN', 'an account with this email exists');
          throw err;
        }
      },

      async login(req) {
        const email = normaliseEmail(req.email);
        // The lock is per address, known or not, and checked before the password: a locked
        // address answers the same whether the password is right, wrong, or the account exists.
        const digest = emailDigest(email);
        const locked = await throttle.lockedFor(digest);
        if (locked > 0) throw accountLocked(locked);
        // A malformed address (a NUL byte) has no account: it is not looked up, and fails alike.
        const user = isEmailAddress(email) ? await store.findByEmail(email) : null;
        const ok = user?.passwordHash ? await verifyPassword(user.passwordHash, req.password) : (await verifyPassword(await timingDummyHash(), req.password), false);
        if (!user || !ok || user.erasedAt) {
          await throttle.recordFailure(digest);
          await store.recordFailedSignIn(user?.id, !user ? 'unknown_account' : user.erasedAt ? 'erased_account' : 'bad_password');
          throw unauthenticated('INVALID_CREDENTIALS', 'email or password is wrong');
        }
        await throttle.clear(digest);
        // A row of another region (kept from before the deployment had a region) signs in nowhere
        // but there; said only after the password matched, so it reveals nothing to a guesser.
        if (user.region !== deps.region) throw wrongRegion(user.region);
        // Only with the right password: the answer says nothing to someone who does not know it.
        if (pastGrace(user)) {
          await store.queueVerificationMail(user.id);
          throw notVerified();
        }
        const tokens = await tokensFor(user, 'password');
        return { user: userMessage(user), tokens, pendingConsents: (await consents.statusOf(user.id)).pending };
      },

      async resendVerification(req) {
        if (!isUuid(req.userId)) throw notFound('USER_NOT_FOUND', 'no such user');
        const outcome = await store.queueVerificationMail(req.userId);
        if (outcome === 'no_user') throw notFound('USER_NOT_FOUND', 'no such user');
        return { alreadyVerified: outcome === 'already_verified' };
      },

      async verifyEmail(req) {
        if (!looksLikeEmailToken(req.token)) throw invalidToken();
        const user = await store.verifyEmail(hashEmailToken(req.token));
        if (!user) throw invalidToken();
        return { user: userMessage(user) };
      },

      async requestPasswordReset(req) {
        const email = normaliseEmail(req.email);
        // Unknown, erased and malformed addresses get the same empty answer: nothing to enumerate.
        if (isEmailAddress(email)) await store.queuePasswordResetMail(email);
        return {};
      },

      async confirmPasswordReset(req) {
        if (!looksLikeEmailToken(req.token)) throw invalidToken();
        const tokenHash = hashEmailToken(req.token);
        const user = await store.userOfValidToken('password_reset', tokenHash);
        if (!user?.email) throw invalidToken();
        // Judged before the token is used: a refused password leaves the link usable.
        requireStrongPassword(req.newPassword, { email: user.email, displayName: user.displayName });
        // Every session's access tokens end first (a failure here leaves nothing half done); the
        // refresh tokens are revoked with the new password, in one transaction.
        for (const sessionId of await store.liveSessionIds(user.id)) await revoke(revocations.revokeSession(sessionId));
        const reset = await store.resetPassword(tokenHash, await hashPassword(req.newPassword));
        if (!reset) throw invalidToken();
        return {};
      },

      async changePassword(req) {
        if (!isUuid(req.userId) || !isUuid(req.sessionId)) throw notFound('USER_NOT_FOUND', 'no such user');
        const user = await store.findById(req.userId);
        if (!user?.email || !user.passwordHash || user.erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
        // A stolen access token must not become a way around the lockout: the current password is
        // checked under the same counter as a sign-in.
        const digest = emailDigest(user.email);
        const locked = await throttle.lockedFor(digest);
        if (locked > 0) throw accountLocked(locked);
        if (!(await verifyPassword(user.passwordHash, req.currentPassword))) {
          await throttle.recordFailure(digest);
          throw permissionDenied('WRONG_PASSWORD', 'the current password is wrong');
        }
        requireStrongPassword(req.newPassword, { email: user.email, displayName: user.displayName });
        // The other sessions' access tokens end first (a failure here leaves nothing half done).
        for (const sessionId of await store.liveSessionIds(user.id)) if (sessionId !== req.sessionId) await revoke(revocations.revokeSession(sessionId));
        if (!(await store.changePassword(user.id, await hashPassword(req.newPassword), req.sessionId))) throw notFound('USER_NOT_FOUND', 'no such user');
        return {};
      },

      async refresh(req) {
        const next = newRefreshToken();
        const result = await store.rotateRefreshToken(hashRefreshToken(req.refreshToken), hashRefreshToken(next));
        if (result.outcome === 'reused') {
          // A stolen or replayed token: the access tokens of the whole session end too.
          await revoke(revocations.revokeSession(result.familyId));
          throw unauthenticated('REFRESH_TOKEN_REUSED', 'this refresh token was already used; the session is revoked');
        }
        if (result.outcome !== 'rotated') throw unauthenticated('INVALID_REFRESH_TOKEN', 'the refresh token is invalid or expired');
        if (pastGrace(result.user)) throw notVerified();
        const { current } = await store.signingKeys();
        const accessToken = await signAccessToken(current, issuer, claims(result.user), result.familyId);
        return { user: userMessage(result.user), tokens: { accessToken, refreshToken: next, expiresIn: ACCESS_TOKEN_SECONDS } };
      },

      async logout(req) {
        const familyId = await store.revokeFamilyOf(hashRefreshToken(req.refreshToken));
        // The session's access tokens stop working now, not when they expire.
        if (familyId) await revoke(revocations.revokeSession(familyId));
        return {};
      },

      async logOutEverywhere(req) {
        if (!isUuid(req.userId)) throw notFound('USER_NOT_FOUND', 'no such user');
        const user = await store.findById(req.userId);
        if (!user || user.erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
        // Every session's access tokens end first (a failure here leaves nothing half done and
        // the call can be retried); then the refresh tokens, audited, in one transaction.
        for (const sessionId of await store.liveSessionIds(user.id)) await revoke(revocations.revokeSession(sessionId));
        return { sessionsEnded: await store.revokeEverySession(user.id) };
      },

      async getUser(req) {
        if (!isUuid(req.userId)) throw notFound('USER_NOT_FOUND', 'no such user');
        const user = await store.findById(req.userId);
        if (!user || user.erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
        return { user: userMessage(user) };
      },

      async eraseUser(req) {
        if (!isUuid(req.userId)) throw notFound('USER_NOT_FOUND', 'no such user');
        // First every access token of the user ends (a failure here leaves nothing half done).
        await revoke(revocations.revokeUser(req.userId));
        const erasedAt = await store.eraseUser(req.userId);
        if (!erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
        return { erasedAt: erasedAt.toISOString() };
      },

      async listSessions(req) {
        if (!isUuid(req.userId)) throw notFound('USER_NOT_FOUND', 'no such user');
        const user = await store.findById(req.userId);
        if (!user || user.erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
        return { sessions: (await store.sessionsOf(user.id)).map(sessionMessage) };
      },

      async listAudit(req) {
        if (!isUuid(req.callerId)) throw invalidArgument('INVALID_CALLER', 'caller is required');
        const filter = auditFilterOf(req);
        const entries = await store.audit.list(filter);
        const nextCursor = entries.length === filter.limit ? String(entries[entries.length - 1]!.seq) : '';
        // The read itself is an admin action: recorded after the page was read (it is not in it).
        await store.audit.recordAlone('admin.audit_read', { actorId: req.callerId, details: auditReadDetails(req) });
        return { entries: entries.map(auditEntryMessage), nextCursor };
      },
      async exportPersonalData(req) {
        if (!isUuid(req.userId)) throw notFound('USER_NOT_FOUND', 'no such user');
        const user = await store.findById(req.userId);
        if (!user || user.erasedAt) throw notFound('USER_NOT_FOUND', 'no such user');
        // Recorded first, so the export shows itself too.
        await store.audit.recordAlone('account.exported', { actorId: user.id, subjectId: user.id });
        const [records, audit] = await Promise.all([consents.recordsOf(user.id), store.audit.entriesOf(user.id)]);
        return {
          consents: records.map((r) => ({ id: r.id, kind: r.kind, version: r.version, lang: r.lang, sha256: r.textSha256, action: r.action, at: r.at.toISOString() })),
          audit: audit.map(auditEntryMessage),
        };
      },
      async listConsentDocuments(req) {
        const lang = (CONSENT_LANGS as readonly string[]).includes(req.lang) ? req.lang : DEFAULT_LANG;
        const docs = await consents.currentDocuments(lang);
        return { documents: docs.map((d) => ({ kind: d.kind, version: d.version, lang: d.lang, title: d.title, text: d.text, sha256: d.sha256, langs: d.langs })) };
      },
      async getConsents(req) {
        return consentsOf(req.userId);
      },
      async grantConsents(req) {
        const status = await consentsOf(req.userId);
        if (req.consents.length === 0) throw invalidArgument('NO_CONSENTS', 'name at least one consent to give');
        const given = await checkedConsents(req.consents, []);
        await consents.grant(req.userId, given);
        return given.length > 0 ? consentsOf(req.userId) : status;
      },
      async withdrawConsent(req) {
        await consentsOf(req.userId);
        if (!isConsentKind(req.kind)) throw notFound('UNKNOWN_CONSENT', 'no such consent document');
        await consents.withdraw(req.userId, req.kind);
        return consentsOf(req.userId);
      },
      async getDisplayNames(req) {
        const ids = [...new Set(req.userIds.map((id) => id.toLowerCase()))];
        if (ids.length > MAX_NAMES) throw invalidArgument('TOO_MANY_IDS', `at most ${MAX_NAMES} ids at once`);
        if (!ids.every(isUuid)) throw invalidArgument('INVALID_ID', 'every id must be a UUID');
        // Names are personal data: only a professional (their calendar) or an admin reads them,
        // checked here too and not only by the gateway, and each read is recorded.
        if (!isUuid(req.callerId)) throw invalidArgument('INVALID_CALLER', 'caller is required');
        const caller = await store.findById(req.callerId.toLowerCase());
        if (!caller || caller.erasedAt || (caller.role !== 'professional' && caller.role !== 'admin')) {
          throw permissionDenied('NOT_ALLOWED', 'only professionals and admins read patients\' names');
        }
        // The erasure placeholder and anyone erased, unknown or not a patient: absent.
        const names = ids.length > 0 ? await store.patientNames(ids) : new Map<string, string>();
        // One entry per page of a calendar, not one per patient: the calendar is read often and
        // each entry takes the chain's lock (booking.read_by_* records each booking opened).
        if (names.size > 0) await store.audit.recordAlone('patient.names_read', { actorId: caller.id, details: { role: caller.role, count: String(names.size) } });
        return { names: Object.fromEntries(names) };
      },
      async getJwks() {
        const { all } = await store.signingKeys();
        return { jwksJson: JSON.stringify({ keys: all.map((k) => k.publicJwk) }), issuer };
      },
    },
    deps.logger,
  );
}

export function auditEntryMessage(e: AuditEntry): identity.AuditEntry {
  return {
    seq: String(e.seq),
    id: e.id,
    kind: e.kind,
    source: e.source,
    actorId: e.actorId ?? '',
    subjectId: e.subjectId ?? '',
    objectId: e.objectId ?? '',
    details: e.details,
    occurredAt: e.occurredAt.toISOString(),
    recordedAt: e.recordedAt.toISOString(),
    hash: e.hash,
    prevHash: e.prevHash,
    pruned: e.pruned,
  };
}

const MAX_AUDIT_PAGE = 200;
/** GetDisplayNames: a page of a calendar (the gateway's list pages hold at most 100 bookings). */
const MAX_NAMES = 100;

/** The filters of ListAudit, checked (the gateway checks them too; this is the service's own guard). */
function auditFilterOf(req: identity.ListAuditRequest): AuditFilter {
  const instant = (name: string, value: string) => {
    if (!value) return undefined;
    const t = Date.parse(value);
    if (!Number.isFinite(t)) throw invalidArgument('INVALID_FILTER', `${name} must be an RFC 3339 instant`);
    return new Date(t);
  };
  const id = (name: string, value: string) => {
    if (value && !isUuid(value)) throw invalidArgument('INVALID_FILTER', `${name} must be a UUID`);
    return value ? value.toLowerCase() : undefined;
  };
  if (req.kind && !isAuditKind(req.kind)) throw invalidArgument('INVALID_FILTER', 'kind is not an audit kind');
  if (req.cursor && !/^[1-9][0-9]{0,15}$/.test(req.cursor)) throw invalidArgument('INVALID_CURSOR', 'cursor is not one this API gave');
  const limit = req.limit > 0 ? Math.min(req.limit, MAX_AUDIT_PAGE) : 50;
  return {
    kind: req.kind || undefined,
    actorId: id('actor', req.actorId),
    subjectId: id('subject', req.subjectId),
    from: instant('from', req.from),
    to: instant('to', req.to),
    beforeSeq: req.cursor ? Number(req.cursor) : undefined,
    limit,
  };
}

/** Which filters an admin used (codes and ids only), for the admin.audit_read entry. */
function auditReadDetails(req: identity.ListAuditRequest): Record<string, string> {
  const details: Record<string, string> = {};
  if (req.kind) details.kind = req.kind;
  if (req.actorId) details.actor = req.actorId.toLowerCase();
  if (req.subjectId) details.subject = req.subjectId.toLowerCase();
  if (req.cursor) details.page = 'next';
  return details;
}

const problemMessages: Record<string, string> = {
  INVALID_EMAIL: 'email is not a valid address',
  WEAK_PASSWORD: 'password too weak: use 10 to 256 characters',
  INVALID_DISPLAY_NAME: 'display name must be 1 to 100 characters',
};
