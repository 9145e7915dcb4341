import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import { standInGateway } from './support/stand-in-gateway';

/**
 * The gateway as the web client's host, alone (its backends stand-ins): pages answer index.html
 * (a professional's with their name in it), the API's 404 stays JSON, hashed assets are cached
 * for good; and the browser's refresh token lives in an httpOnly cookie.
 */
const professionalId = '0192f1a0-0000-7000-8000-000000000001';
const user = { id: '0192f1a0-0000-7000-8000-0000000000a1', email: 'p@example.ch', role: 1, displayName: 'P', region: 1, createdAt: '2026-01-01T00:00:00Z', emailVerified: true };
const tokens = (n: number) => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresIn: 900 });
const index = '<!doctype html><html><head><title>CryptoCare</title><meta name="description" content="generic" /></head><body><div id="root"></div></body></html>';
const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('gateway: the web client host and the refresh cookie', () => {
  const webRoot = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-webroot-'));
  let g: Awaited<ReturnType<typeof standInGateway>>;

  beforeAll(async () => {
    writeFileSync(path.join(webRoot, 'index.html'), index);
    mkdirSync(path.join(webRoot, 'assets'));
    writeFileSync(path.join(webRoot, 'assets', 'index-Ab12Cd34.js'), 'console.log(1)');
    g = await standInGateway({ webRoot });
  });
  afterAll(async () => {
    await g.close();
    rmSync(webRoot, { recursive: true, force: true });
  });
  beforeEach(() => g.reset());

  it("serves a professional's page with their name in the title and a description, escaped", async () => {
    g.behaviour['search.getProfile'] = async () => ({
      profile: {
        id: professionalId, displayName: 'Dr <script>alert("x")</script> & Co', specialties: ['general-practice'], city: 'Genève', country: 'CH',
        languages: ['fr', 'en'], price: { amount: '120.00', currency: 'CHF' }, consultationMinutes: 30, timeZone: 'Europe/Zurich', bio: 'Médecine générale', verified: true, latitude: 46.2, longitude: 6.15, nextAvailableAt: '',
      },
    });
    g.behaviour['search.listSpecialties'] = async () => ({ specialties: [{ code: 'general-practice', name: 'General practice' }] });
    const res = await g.app.inject({ method: 'GET', url: `/professionals/${professionalId}`, headers: html });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toContain('<title>Dr &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co · CryptoCare</title>');
    expect(res.body).toContain('<meta name="description" content="Dr &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co, General practice, Genève, CH.');
    expect(res.body).not.toContain('<script>alert');
    expect(res.body).not.toContain('content="generic"');
    expect(res.body).toContain('<div id="root"></div>');
    expect(g.calls.find((c) => c.method === 'search.getProfile')!.request).toEqual({ professionalId });
    // The profile as the API answers it, as data the page reads at once (its `<` escaped: the name cannot end the element).
    const data = /<script type="application\/json" id="professional-data">([^<]*)<\/script>/.exec(res.body);
    expect(data).not.toBeNull();
    const api = await g.app.inject({ method: 'GET', url: `/v1/professionals/${professionalId}` });
    expect(JSON.parse(data![1]!)).toMatchObject({ id: professionalId, displayName: 'Dr <script>alert("x")</script> & Co', specialties: ['general-practice'], city: 'Genève' });
    expect(JSON.parse(data![1]!)).toEqual(api.json());
    expect(res.headers.vary).toMatch(/accept-language/i);
  });

  it("answers 404 with the page for an unknown or malformed professional, and the page still when search is down", async () => {
    g.behaviour['search.listSpecialties'] = async () => ({ specialties: [] });
    g.behaviour['search.getProfile'] = async () => {
      throw new AppError(GrpcStatus.NOT_FOUND, 'PROFESSIONAL_NOT_FOUND', 'no such professional');
    };
    const unknown = await g.app.inject({ method: 'GET', url: `/professionals/${professionalId}`, headers: html });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toBe(index);
    // Not an id: the page's 404; a NUL byte or an id longer than the router takes: the API's 400.
    for (const [id, status] of [['not-a-uuid', 404], ['%00', 400], ['x'.repeat(300), 400]] as const) {
      const bad = await g.app.inject({ method: 'GET', url: `/professionals/${id}`, headers: html });
      expect({ id, status: bad.statusCode }).toEqual({ id, status });
    }
    g.behaviour['search.getProfile'] = async () => {
      throw new AppError(GrpcStatus.UNAVAILABLE, 'UNAVAILABLE', 'search is down');
    };
    const down = await g.app.inject({ method: 'GET', url: `/professionals/${professionalId}`, headers: html });
    expect(down.statusCode).toBe(200);
    expect(down.body).toBe(index);
  });

  it('answers index.html for the client routes, a 404 page for other pages, and JSON for the API', async () => {
    for (const url of ['/', '/bookings', `/bookings/${professionalId}`, '/pro', '/admin', '/admin/', '/admin/audit', '/admin/ledger', '/account', '/privacy', '/bookings?tab=past']) {
      const res = await g.app.inject({ method: 'GET', url, headers: html });
      expect({ url, status: res.statusCode, body: res.body }).toEqual({ url, status: 200, body: index });
    }
    const other = await g.app.inject({ method: 'GET', url: '/nowhere/at/all', headers: html });
    expect({ status: other.statusCode, body: other.body }).toEqual({ status: 404, body: index });
    // Not pages: the API, documents and assets keep their JSON 404, whatever the Accept header.
    for (const url of ['/v1/nowhere', '/webhooks/nowhere', '/assets/missing.js', '/.well-known/nowhere']) {
      const res = await g.app.inject({ method: 'GET', url, headers: html });
      expect({ url, status: res.statusCode, code: res.json().error.code }).toEqual({ url, status: 404, code: 'ROUTE_NOT_FOUND' });
    }
    // A client that does not ask for HTML (an API client, curl) gets JSON too; so does a POST.
    expect((await g.app.inject({ method: 'GET', url: '/bookings', headers: { accept: 'application/json' } })).json().error.code).toBe('ROUTE_NOT_FOUND');
    expect((await g.app.inject({ method: 'POST', url: '/bookings', headers: html })).json().error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('caches hashed assets for a year and asks for index.html every time', async () => {
    const asset = await g.app.inject({ method: 'GET', url: '/assets/index-Ab12Cd34.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const home = await g.app.inject({ method: 'GET', url: '/', headers: html });
    expect(home.headers['cache-control']).toBe('no-cache');
  });

  const cookieOf = (res: { headers: Record<string, unknown> }) => {
    const raw = res.headers['set-cookie'];
    const all = (Array.isArray(raw) ? raw : raw ? [raw] : []) as string[];
    return all.find((c) => c.startsWith('cc_refresh='));
  };

  it('sets the refresh token in an httpOnly, SameSite=Strict cookie for /v1/auth on sign-in, Secure unless plain-HTTP on loopback', async () => {
    g.behaviour['identity.login'] = async () => ({ user, tokens: tokens(1) });
    const body = { email: 'p@example.ch', password: 'long-enough-1' };
    const public_ = await g.app.inject({ method: 'POST', url: '/v1/auth/login', payload: body, headers: { host: 'cryptocare.example' } });
    expect(public_.statusCode).toBe(200);
    // API clients still get the token in the body.
    expect(public_.json()).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    const cookie = cookieOf(public_)!;
    expect(cookie).toMatch(/^cc_refresh=refresh-1;/);
    expect(cookie).toMatch(/; Path=\/v1\/auth(;|$)/);
    expect(cookie).toMatch(/; HttpOnly(;|$)/);
    expect(cookie).toMatch(/; SameSite=Strict(;|$)/);
    expect(cookie).toMatch(/; Secure(;|$)/);
    expect(cookie).toMatch(/; Max-Age=2592000(;|$)/);
    const local = await g.app.inject({ method: 'POST', url: '/v1/auth/login', payload: body, headers: { host: '127.0.0.1:8080' } });
    expect(cookieOf(local)).not.toMatch(/Secure/);
    expect(cookieOf(local)).toMatch(/HttpOnly/);
  });

  it('refreshes with the cookie when the body has no token, rotates it, and clears it when it no longer works', async () => {
    let n = 1;
    g.behaviour['identity.refresh'] = async ({ refreshToken }) => {
      if (refreshToken === 'stale') throw new AppError(GrpcStatus.UNAUTHENTICATED, 'INVALID_REFRESH_TOKEN', 'the refresh token is invalid or expired');
      return { user, tokens: tokens(++n) };
    };
    const fromCookie = await g.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {}, cookies: { cc_refresh: 'refresh-1' } });
    expect(fromCookie.statusCode).toBe(200);
    expect(g.calls.at(-1)).toEqual({ method: 'identity.refresh', request: { refreshToken: 'refresh-1' } });
    expect(cookieOf(fromCookie)).toMatch(/^cc_refresh=refresh-2;/);
    // The body's token, when there is one, is the one used (API clients).
    await g.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'from-body' }, cookies: { cc_refresh: 'refresh-2' } });
    expect(g.calls.at(-1)!.request).toEqual({ refreshToken: 'from-body' });

    const stale = await g.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {}, cookies: { cc_refresh: 'stale' } });
    expect({ status: stale.statusCode, code: stale.json().error.code }).toEqual({ status: 401, code: 'INVALID_REFRESH_TOKEN' });
    expect(cookieOf(stale)).toMatch(/^cc_refresh=;.*Expires=Thu, 01 Jan 1970/);

    g.reset();
    const attempts: Array<Record<string, string>> = [{}, { cc_refresh: '' }, { cc_refresh: 'bad token\u0001' }, { cc_refresh: 'x'.repeat(201) }];
    for (const cookies of attempts) {
      const none = await g.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: {}, cookies });
      expect({ status: none.statusCode, code: none.json().error.code }).toEqual({ status: 401, code: 'REFRESH_TOKEN_REQUIRED' });
    }
    expect(g.calls).toEqual([]);
  });

  it('signs out with the cookie and clears it', async () => {
    g.behaviour['identity.logout'] = async () => ({});
    const res = await g.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: {}, cookies: { cc_refresh: 'refresh-9' } });
    expect(res.statusCode).toBe(204);
    expect(g.calls).toEqual([{ method: 'identity.logout', request: { refreshToken: 'refresh-9' } }]);
    expect(cookieOf(res)).toMatch(/^cc_refresh=;.*Path=\/v1\/auth/);
    // Nothing to end: still 204 (the page may sign out twice), and no call.
    g.reset();
    expect((await g.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: {} })).statusCode).toBe(204);
    expect(g.calls).toEqual([]);
  });
});
