// Accounts through the public API, every service its own process (real PostgreSQL, Redis, Kafka)
// and identity's mails read back from the mail catcher's HTTP API.
import { ApiClient, currentConsents, startPlatform, type RunningPlatform } from '@cryptocare/testing';

const PASSWORD = 'patient-password-1';
const NEW_PASSWORD = 'violet-harbor-cactus-42';

describe('accounts through the gateway: verification, lockout, reset (separate processes)', () => {
  let platform: RunningPlatform;
  let api: ApiClient;

  beforeAll(async () => {
    platform = await startPlatform();
    api = new ApiClient(platform.gatewayUrl);
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const unique = (name: string) => `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.ch`;
  const register = (email: string, password = PASSWORD) => api.expect(201, 'POST', '/v1/auth/register', { email, password, role: 'patient', displayName: 'Pat Ient', consents: currentConsents() });

  /** The token of the newest mail to `to` whose subject matches, read over the catcher's HTTP API. */
  async function mailedToken(to: string, subject: RegExp, notIn: string[] = []): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { items } = (await (await fetch(`${platform.mail.http.baseUrl}/messages?to=${encodeURIComponent(to)}`)).json()) as { items: Array<{ id: string; subject: string; text: string }> };
      for (const item of items.filter((m) => subject.test(m.subject))) {
        const full = (await (await fetch(`${platform.mail.http.baseUrl}/messages/${item.id}`)).json()) as { text: string };
        const token = /token: ([A-Za-z0-9_-]{43})/.exec(full.text)?.[1];
        if (token && !notIn.includes(token)) return token;
      }
      if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${subject}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('verifies the email through the mailed link; GET /v1/me shows it', async () => {
    const email = unique('verify');
    const session = await register(email);
    expect(session.user.emailVerified).toBe(false);
    const me = api.as(session.accessToken);
    expect((await me.expect(200, 'GET', '/v1/me')).user.emailVerified).toBe(false);
    const token = await mailedToken(email, /confirm your email/i);
    const verified = await api.expect(200, 'POST', '/v1/auth/verify-email', { token });
    expect(verified.user).toMatchObject({ email, emailVerified: true });
    expect((await me.expect(200, 'GET', '/v1/me')).user.emailVerified).toBe(true);
    expect((await api.call('POST', '/v1/auth/verify-email', { token })).body.error.code).toBe('INVALID_TOKEN');
    expect(await me.expect(202, 'POST', '/v1/auth/resend-verification')).toEqual({ status: 'already_verified' });
    expect((await api.call('POST', '/v1/auth/resend-verification')).status).toBe(401);
  });

  it('resends a verification link to an unverified user', async () => {
    const email = unique('resend');
    const me = api.as((await register(email)).accessToken);
    const first = await mailedToken(email, /confirm your email/i);
    expect(await me.expect(202, 'POST', '/v1/auth/resend-verification')).toEqual({ status: 'sent' });
    const second = await mailedToken(email, /confirm your email/i, [first]);
    await api.expect(200, 'POST', '/v1/auth/verify-email', { token: second });
  });

  it('refuses a weak password at sign-up with 400 WEAK_PASSWORD and feedback', async () => {
    const res = await api.call('POST', '/v1/auth/register', { email: unique('weak'), password: 'password1234', role: 'patient', displayName: 'Weak', consents: currentConsents() });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'WEAK_PASSWORD', details: { warning: expect.any(String), suggestions: expect.any(Array) } });
  });

  it('locks an account after five failures with 429 ACCOUNT_LOCKED and Retry-After, an unknown address alike', async () => {
    const known = unique('locked');
    await register(known);
    const attempts = async (email: string) => {
      const seen: Array<[number, string | undefined, string | null]> = [];
      for (let i = 0; i < 6; i++) {
        const res = await api.call('POST', '/v1/auth/login', { email, password: `wrong-guess-${i}` });
        seen.push([res.status, res.body.error?.code, res.headers.get('retry-after')]);
      }
      return seen;
    };
    // Retry-After counts down: a loaded machine may take a second or two between the calls.
    const masked = (seen: Array<[number, string | undefined, string | null]>) => seen.map(([s, c, r]) => [s, c, r === null ? null : Number(r) > 25 && Number(r) <= 30]);
    const seen = await attempts(known);
    expect(masked(seen)).toEqual([...Array(5).fill([401, 'INVALID_CREDENTIALS', null]), [429, 'ACCOUNT_LOCKED', true]]);
    expect(masked(await attempts(unique('nobody')))).toEqual(masked(seen));
    // The right password does not get through a lock.
    const locked = await api.call('POST', '/v1/auth/login', { email: known, password: PASSWORD });
    expect([locked.status, locked.body.error.code]).toEqual([429, 'ACCOUNT_LOCKED']);
  });

  it('resets the password: 202 for any address, single-use token, old password and every session end, the lock goes', async () => {
    const email = unique('reset');
    const session = await register(email);
    const old = api.as(session.accessToken);
    await old.expect(200, 'GET', '/v1/me');
    for (let i = 0; i < 5; i++) await api.call('POST', '/v1/auth/login', { email, password: `wrong-${i}-wrong` });
    expect((await api.call('POST', '/v1/auth/login', { email, password: PASSWORD })).status).toBe(429);

    const known = await api.call('POST', '/v1/auth/password-reset', { email });
    const unknown = await api.call('POST', '/v1/auth/password-reset', { email: unique('never-registered') });
    expect([known.status, known.body]).toEqual([202, { status: 'accepted' }]);
    expect([unknown.status, unknown.body]).toEqual([known.status, known.body]);

    const token = await mailedToken(email, /reset your/i);
    const weak = await api.call('POST', '/v1/auth/password-reset/confirm', { token, newPassword: 'password1234' });
    expect([weak.status, weak.body.error.code]).toEqual([400, 'WEAK_PASSWORD']);
    const done = await api.call('POST', '/v1/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD });
    expect(done.status).toBe(204);
    const again = await api.call('POST', '/v1/auth/password-reset/confirm', { token, newPassword: 'another-fine-passphrase-9' });
    expect([again.status, again.body.error.code]).toEqual([400, 'INVALID_TOKEN']);

    // The session from before the reset ends at once (its access token too), the old password is refused.
    expect((await old.call('GET', '/v1/me')).status).toBe(401);
    expect((await api.call('POST', '/v1/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    expect((await api.call('POST', '/v1/auth/login', { email, password: PASSWORD })).status).toBe(401);
    const fresh = await api.expect(200, 'POST', '/v1/auth/login', { email, password: NEW_PASSWORD });
    expect((await api.as(fresh.accessToken).expect(200, 'GET', '/v1/me')).user).toMatchObject({ email, emailVerified: true });
  });

  it('changes the password of the signed-in user: POST /v1/me/password ends the other sessions', async () => {
    const email = unique('change');
    const mine = await register(email);
    const other = await api.expect(200, 'POST', '/v1/auth/login', { email, password: PASSWORD });
    const me = api.as(mine.accessToken);
    const wrong = await me.call('POST', '/v1/me/password', { currentPassword: 'not-my-password-1', newPassword: NEW_PASSWORD });
    expect([wrong.status, wrong.body.error.code]).toEqual([403, 'WRONG_PASSWORD']);
    const weak = await me.call('POST', '/v1/me/password', { currentPassword: PASSWORD, newPassword: 'password1234' });
    expect([weak.status, weak.body.error.code]).toEqual([400, 'WEAK_PASSWORD']);
    expect((await me.call('POST', '/v1/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);
    expect((await api.as(other.accessToken).call('GET', '/v1/me')).status).toBe(401);
    await me.expect(200, 'GET', '/v1/me');
    expect((await api.call('POST', '/v1/auth/login', { email, password: PASSWORD })).status).toBe(401);
    await api.expect(200, 'POST', '/v1/auth/login', { email, password: NEW_PASSWORD });
    expect((await api.call('POST', '/v1/me/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(401);
  });

  it('signs out everywhere: POST /v1/auth/logout-all ends every session of the user, no one else’s', async () => {
    const email = unique('everywhere');
    const first = await register(email);
    const second = await api.expect(200, 'POST', '/v1/auth/login', { email, password: PASSWORD });
    const bystander = await register(unique('bystander'));
    const res = await api.as(first.accessToken).call('POST', '/v1/auth/logout-all');
    expect(res.status).toBe(204);
    // The httpOnly refresh cookie goes, as with logOut.
    expect(res.headers.get('set-cookie')).toMatch(/^cc_refresh=;.*Path=\/v1\/auth/);
    for (const s of [first, second]) {
      const refused = await api.as(s.accessToken).call('GET', '/v1/me');
      expect([refused.status, refused.body.error.code]).toEqual([401, 'TOKEN_REVOKED']);
      const refresh = await api.call('POST', '/v1/auth/refresh', { refreshToken: s.refreshToken });
      expect(refresh.status).toBe(401);
    }
    // The revoked token cannot call it again.
    const again = await api.as(second.accessToken).call('POST', '/v1/auth/logout-all');
    expect([again.status, again.body.error.code]).toEqual([401, 'TOKEN_REVOKED']);
    // Another user goes on; a fresh sign-in works at once.
    await api.as(bystander.accessToken).expect(200, 'GET', '/v1/me');
    await api.expect(200, 'POST', '/v1/auth/refresh', { refreshToken: bystander.refreshToken });
    const third = await api.expect(200, 'POST', '/v1/auth/login', { email, password: PASSWORD });
    await api.as(third.accessToken).expect(200, 'GET', '/v1/me');
    await api.expect(200, 'POST', '/v1/auth/refresh', { refreshToken: third.refreshToken });

    // Hostile: no token, a forged one, a malformed header: 401, never 500.
    const [header, payload] = third.accessToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: bystander.user.id })).toString('base64url');
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${header}.${forgedPayload}.${third.accessToken.split('.')[2]}` }, { authorization: 'Bearer not.a.jwt' }, { authorization: 'Basic abc' }]) {
      const refused = await api.call('POST', '/v1/auth/logout-all', undefined, headers);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toEqual(expect.any(String));
    }
    await api.as(bystander.accessToken).expect(200, 'GET', '/v1/me');
    // Twice at the same instant with one token: each ends the sessions or finds the token already
    // revoked; never a 500, and the user is signed out.
    const both = await Promise.all([api.as(third.accessToken).call('POST', '/v1/auth/logout-all'), api.as(third.accessToken).call('POST', '/v1/auth/logout-all')]);
    expect(both.map((r) => r.status)).toContain(204);
    for (const r of both) expect(r.status === 204 || (r.status === 401 && r.body.error.code === 'TOKEN_REVOKED')).toBe(true);
    expect((await api.call('POST', '/v1/auth/refresh', { refreshToken: third.refreshToken })).status).toBe(401);
    await api.as(bystander.accessToken).expect(200, 'GET', '/v1/me');
  });

  it('limits reset mails per address, an unknown one alike', async () => {
    const known = unique('flood');
    await register(known);
    const statuses = async (email: string) => {
      const seen: Array<[number, string | undefined]> = [];
      for (let i = 0; i < 6; i++) {
        const res = await api.call('POST', '/v1/auth/password-reset', { email });
        seen.push([res.status, res.body?.error?.code]);
      }
      return seen;
    };
    const seen = await statuses(known);
    expect(seen).toEqual([...Array(5).fill([202, undefined]), [429, 'RESET_RATE_LIMITED']]);
    expect(await statuses(unique('flood-unknown'))).toEqual(seen);
  });

  it('answers hostile input on the new routes with 4xx, never 500', async () => {
    const email = unique('hostile');
    await register(email);
    await api.call('POST', '/v1/auth/password-reset', { email });
    const token = await mailedToken(email, /reset your/i);
    const cases: Array<[string, unknown]> = [
      ['/v1/auth/verify-email', { token: 'a\u0000'.padEnd(43, 'b') }],
      ['/v1/auth/verify-email', { token: 'x'.repeat(10_000) }],
      ['/v1/auth/verify-email', { token: 42 }],
      ['/v1/auth/verify-email', { token: 'A'.repeat(43), extra: true }],
      ['/v1/auth/verify-email', {}],
      ['/v1/auth/password-reset', { email: '\u0000@x.ch' }],
      ['/v1/auth/password-reset', { email: 'x'.repeat(300) }],
      ['/v1/auth/password-reset', { email: ['a@b.ch'] }],
      ['/v1/auth/password-reset/confirm', { token, newPassword: 'p\u0000ssword-long-enough' }],
      ['/v1/auth/password-reset/confirm', { token, newPassword: 'x'.repeat(257) }],
      ['/v1/auth/password-reset/confirm', { token: '../../../../etc/passwd', newPassword: NEW_PASSWORD }],
      ['/v1/auth/password-reset/confirm', { token: 'A'.repeat(43), newPassword: NEW_PASSWORD }],
    ];
    for (const [path, body] of cases) {
      const res = await api.call('POST', path, body);
      expect([path, res.status]).toEqual([path, expect.any(Number)]);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.error.code).toEqual(expect.any(String));
    }
    // The same token at the same instant, twice: one wins, the other is refused.
    const [a, b] = await Promise.all([
      api.call('POST', '/v1/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD }),
      api.call('POST', '/v1/auth/password-reset/confirm', { token, newPassword: 'another-fine-passphrase-9' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 400]);
  });
});
