import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { common, identity } from '@cryptocare/contracts';
import type { Backends } from '../clients';
import { presentUser } from '../presenters';
import { HttpError } from '../http-errors';
import { bearer, errorResponses, NoContent, NullableRef, Refs } from './schemas';
import type { DataRegions } from '../data-region';
import { ConsentList } from './consents';
import { principalOf, type Authenticator } from '../auth';
import { PASSWORD_HASH_OBJECTIVE_MS } from '../overload';
import { clearRefreshCookie, refreshTokenOf, setRefreshCookie } from '../refresh-cookie';

const RegisterBody = Type.Object(
  {
    email: Type.String({ maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    role: Type.Union([Type.Literal('patient'), Type.Literal('professional')]),
    displayName: Type.String({ minLength: 1, maxLength: 100 }),
    region: Type.Optional(Type.Union([Type.Literal('CH'), Type.Literal('EU')])),
    /** Every document of GET /v1/consent-documents, at its current version; missing or outdated: 400 CONSENTS_REQUIRED. */
    consents: Type.Optional(ConsentList),
  },
  { additionalProperties: false },
);
const LoginBody = Type.Object({ email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 256 }) }, { additionalProperties: false });
/** The browser sends `{}`: its refresh token is in the httpOnly cookie (refresh-cookie.ts). */
const RefreshBody = Type.Object({ refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false });
/** A mailed token as identity issues it (256 random bits, base64url). */
const MailedToken = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
const VerifyEmailBody = Type.Object({ token: MailedToken }, { additionalProperties: false });
const PasswordResetBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false });
const PasswordResetConfirmBody = Type.Object({ token: MailedToken, newPassword: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const UserBody = Refs.User;
/** A session: who signed in and their tokens. */
const SessionBody = Type.Object({
  user: NullableRef(Refs.User),
  accessToken: Type.Optional(Type.String()),
  refreshToken: Type.Optional(Type.String()),
  expiresIn: Type.Optional(Type.Integer({ description: 'seconds the access token lives' })),
  pendingConsents: Type.Array(Type.String()),
});
const Accepted = Type.Object({ status: Type.String() });

/** Reset mails per address and hour, whichever client asks (a mailbox is not to be flooded). */
const RESET_MAILS_PER_ACCOUNT_PER_HOUR = 5;

function session(res: { user?: identity.User; tokens?: identity.Tokens; pendingConsents?: string[] }) {
  return {
    user: presentUser(res.user),
    accessToken: res.tokens?.accessToken,
    refreshToken: res.tokens?.refreshToken,
    expiresIn: res.tokens?.expiresIn,
    // Consents to (re)give (a new version, a withdrawal): GET /v1/me/consents says which.
    pendingConsents: res.pendingConsents ?? [],
  };
}

export interface AuthLimits {
  /** Register and login attempts per client address and minute. */
  perAddressPerMinute: number;
  /** Login attempts per account (email) and quarter of an hour, from any number of addresses. */
  perAccountPerQuarterHour: number;
}

export function authRoutes(app: FastifyInstance, backends: Backends, limits: AuthLimits, auth: Authenticator, regions?: DataRegions) {
  // identity's WRONG_REGION (sign-up or sign-in for another region) becomes the 421 redirect answer.
  const redirect = (error: unknown): never => {
    if (regions) regions.redirectWrongRegion(error);
    throw error;
  };
  const limited = { rateLimit: { max: limits.perAddressPerMinute, timeWindow: '1 minute' }, latencyObjectiveMs: PASSWORD_HASH_OBJECTIVE_MS };
  // Credential stuffing from many addresses against one account: a second limit, by account,
  // in the same store (Redis across replicas) as the per-address one.
  const accountLimit = app.createRateLimit({
    max: limits.perAccountPerQuarterHour,
    timeWindow: '15 minutes',
    // A digest of the address, so no email sits in Redis (nor survives an erasure there).
    keyGenerator: (request) =>
      `login-account:${createHash('sha256').update(String((request.body as { email?: unknown } | undefined)?.email ?? '').trim().toLowerCase()).digest('base64url')}`,
  });
  const perAccount = async (request: FastifyRequest, reply: FastifyReply) => {
    const outcome = await accountLimit(request);
    if (!outcome.isAllowed && outcome.isExceeded) {
      reply.header('retry-after', String(outcome.ttlInSeconds));
      throw new HttpError(429, 'ACCOUNT_RATE_LIMITED', `too many sign-in attempts for this account, retry in ${outcome.ttlInSeconds} s`);
    }
  };
  // argon2 hashing and the password policy dominate; on a loaded node a sign-up can take seconds,
  // which is better than a 504 the client must retry (each retry hashing again).
  const budget = { deadlineMs: 8_000 };
  // Reset requests per address, whatever the client: keyed like the login limit (a digest), so an
  // unknown address is limited exactly like a known one and the 429 reveals nothing.
  const resetLimit = app.createRateLimit({
    max: RESET_MAILS_PER_ACCOUNT_PER_HOUR,
    timeWindow: '1 hour',
    keyGenerator: (request) =>
      `reset-account:${createHash('sha256').update(String((request.body as { email?: unknown } | undefined)?.email ?? '').trim().toLowerCase()).digest('base64url')}`,
  });
  const perAccountReset = async (request: FastifyRequest, reply: FastifyReply) => {
    const outcome = await resetLimit(request);
    if (!outcome.isAllowed && outcome.isExceeded) {
      reply.header('retry-after', String(outcome.ttlInSeconds));
      throw new HttpError(429, 'RESET_RATE_LIMITED', `too many reset requests for this address, retry in ${outcome.ttlInSeconds} s`);
    }
  };

  app.post<{ Body: Static<typeof RegisterBody> }>(
    '/v1/auth/register',
    { schema: { tags: ['auth'], operationId: 'register', summary: 'Create an account', body: RegisterBody, response: { 201: SessionBody, ...errorResponses } }, config: limited },
    async (request, reply) => {
      const { email, password, role, displayName, region, consents } = request.body;
      const res = await backends.identity
        .register(
          {
            email,
            password,
            displayName,
            role: role === 'professional' ? identity.Role.ROLE_PROFESSIONAL : identity.Role.ROLE_PATIENT,
            // None asked: identity takes its deployment's region (DATA_REGION).
            region: region === 'EU' ? common.Region.REGION_EU : region === 'CH' ? common.Region.REGION_CH : common.Region.REGION_UNSPECIFIED,
            consents: (consents ?? []).map((c) => ({ kind: c.kind, version: c.version, lang: c.lang ?? 'en' })),
          },
          budget,
        )
        .catch(redirect);
      setRefreshCookie(request, reply, res.tokens?.refreshToken);
      return reply.status(201).send(session(res));
    },
  );

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/v1/auth/login',
    { schema: { tags: ['auth'], operationId: 'logIn', summary: 'Log in', body: LoginBody, response: { 200: SessionBody, ...errorResponses } }, config: limited, preHandler: perAccount },
    async (request, reply) => {
      const res = await backends.identity.login(request.body, budget).catch(redirect);
      setRefreshCookie(request, reply, res.tokens?.refreshToken);
      return session(res);
    },
  );

  app.post<{ Body: Static<typeof RefreshBody> }>(
    '/v1/auth/refresh',
    { schema: { tags: ['auth'], operationId: 'refreshSession', summary: 'Rotate the refresh token (of the body, else of the httpOnly cookie); a reused one revokes the session', body: RefreshBody, response: { 200: SessionBody, ...errorResponses } } },
    async (request, reply) => {
      const refreshToken = refreshTokenOf(request);
      if (!refreshToken) throw new HttpError(401, 'REFRESH_TOKEN_REQUIRED', 'no refresh token: send it in the body or sign in again');
      try {
        const res = await backends.identity.refresh({ refreshToken });
        setRefreshCookie(request, reply, res.tokens?.refreshToken);
        return session(res);
      } catch (err) {
        // A cookie that no longer opens a session is dropped, so the page stops offering it.
        clearRefreshCookie(request, reply);
        throw err;
      }
    },
  );

  app.post<{ Body: Static<typeof RefreshBody> }>(
    '/v1/auth/logout',
    { schema: { tags: ['auth'], operationId: 'logOut', summary: 'End the session of this refresh token (of the body, else of the cookie) and clear the cookie', body: RefreshBody, response: { 204: NoContent, ...errorResponses } } },
    async (request, reply) => {
      const refreshToken = refreshTokenOf(request);
      if (refreshToken) await backends.identity.logout({ refreshToken });
      clearRefreshCookie(request, reply);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/auth/logout-all',
    {
      schema: {
        tags: ['auth'],
        operationId: 'logOutEverywhere',
        summary: 'Sign out on all devices: every session of the signed-in user ends (this one too) and the cookie is cleared',
        security: bearer,
        response: { 204: NoContent, ...errorResponses },
      },
      preHandler: auth.requireRole(),
    },
    async (request, reply) => {
      // Idempotent: a second call (with a token issued before the first) ends nothing more.
      await backends.identity.logOutEverywhere({ userId: principalOf(request).userId });
      clearRefreshCookie(request, reply);
      return reply.status(204).send();
    },
  );

  app.post<{ Body: Static<typeof VerifyEmailBody> }>(
    '/v1/auth/verify-email',
    {
      schema: { tags: ['auth'], operationId: 'verifyEmail', summary: 'Verify the email address with the token of the mailed link', body: VerifyEmailBody, response: { 200: Type.Object({ user: UserBody }), ...errorResponses } },
      config: limited,
    },
    async (request) => ({ user: presentUser((await backends.identity.verifyEmail({ token: request.body.token })).user) }),
  );

  app.post(
    '/v1/auth/resend-verification',
    {
      schema: { tags: ['auth'], operationId: 'resendVerification', summary: 'Mail a new verification link to the signed-in user', security: bearer, response: { 202: Accepted, ...errorResponses } },
      config: limited,
      preHandler: auth.requireRole(),
    },
    async (request, reply) => {
      const { alreadyVerified } = await backends.identity.resendVerification({ userId: principalOf(request).userId });
      return reply.status(202).send({ status: alreadyVerified ? 'already_verified' : 'sent' });
    },
  );

  app.post<{ Body: Static<typeof PasswordResetBody> }>(
    '/v1/auth/password-reset',
    {
      schema: {
        tags: ['auth'],
        operationId: 'requestPasswordReset',
        summary: 'Mail a password-reset link; answers 202 whether or not the address has an account',
        body: PasswordResetBody,
        response: { 202: Accepted, ...errorResponses },
      },
      config: limited,
      preHandler: perAccountReset,
    },
    async (request, reply) => {
      await backends.identity.requestPasswordReset({ email: request.body.email });
      return reply.status(202).send({ status: 'accepted' });
    },
  );

  app.post<{ Body: Static<typeof PasswordResetConfirmBody> }>(
    '/v1/auth/password-reset/confirm',
    {
      schema: {
        tags: ['auth'],
        operationId: 'confirmPasswordReset',
        summary: 'Set a new password with the mailed token; unlocks the account and ends every session',
        body: PasswordResetConfirmBody,
        response: { 204: NoContent, ...errorResponses },
      },
      config: limited,
    },
    async (request, reply) => {
      await backends.identity.confirmPasswordReset({ token: request.body.token, newPassword: request.body.newPassword }, budget);
      return reply.status(204).send();
    },
  );
}
