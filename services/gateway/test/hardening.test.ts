import net from 'node:net';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import type { Cache } from '@cryptocare/cache';
import { freePort } from '@cryptocare/testing';
import { standInGateway } from './support/stand-in-gateway';

/**
 * What the outside review threw at the gateway (hostile input, forged headers, revoked tokens),
 * against the gateway alone: every refusal is a 4xx with a machine code, decided before any
 * backend is called. The same attacks against the real services are in hostile-input.test.ts.
 */
const patientId = '0192f1a0-0000-7000-8000-0000000000a1';
const professionalId = '0192f1a0-0000-7000-8000-000000000001';
const appointmentId = '0192f1a0-0000-7000-8000-00000000b001';

describe('gateway hardening', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;

  beforeAll(async () => {
    g = await standInGateway({ authRateLimitPerMinute: 3, loginRateLimitPerAccount: 3 });
  });
  afterAll(() => g.close());
  beforeEach(() => g.reset());

  const bearer = async (role = 'patient', sub = patientId, session?: string) => ({ authorization: `Bearer ${await g.sign(sub, role, session)}` });

  it('refuses NUL bytes anywhere in a body, a query or a path with 400 INVALID_CHARACTERS', async () => {
    const attempts = [
      { method: 'POST' as const, url: '/v1/auth/login', payload: { email: '\u0000@x.ch', password: 'whatever-123' }, remoteAddress: '198.51.100.1' },
      { method: 'POST' as const, url: '/v1/auth/register', payload: { email: 'a@x.ch', password: 'long-enough-1', role: 'patient', displayName: 'A\u0000B' }, remoteAddress: '198.51.100.2' },
      { method: 'POST' as const, url: '/v1/auth/register', payload: { email: 'a\u0000@x.ch', password: 'long-enough-1', role: 'patient', displayName: 'AB' }, remoteAddress: '198.51.100.3' },
      { method: 'GET' as const, url: '/v1/professionals?q=%00' },
      { method: 'GET' as const, url: '/v1/professionals?specialty=card%00io' },
    ];
    for (const attempt of attempts) {
      const res = await g.app.inject(attempt);
      expect({ url: attempt.url, status: res.statusCode, code: res.json().error?.code }).toEqual({ url: attempt.url, status: 400, code: 'INVALID_CHARACTERS' });
    }
    expect(g.calls).toEqual([]);
  });

  it('accepts only real instants between 2000 and 2100, wherever the API takes one', async () => {
    const patient = await bearer();
    const professional = await bearer('professional', professionalId);
    for (const start of ['2026-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2027-02-31T10:00:00Z', '2026-12-07T24:00:00Z', '2026-12-07T08:00:00+24:00', '1999-12-31T23:59:59Z']) {
      const res = await g.app.inject({ method: 'POST', url: '/v1/appointments', payload: { professionalId, start }, headers: patient });
      expect({ start, status: res.statusCode, code: res.json().error.code }).toEqual({ start, status: 400, code: 'VALIDATION_FAILED' });
    }
    for (const from of ['2026-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      const res = await g.app.inject({ method: 'GET', url: `/v1/professionals/${professionalId}/slots?from=${encodeURIComponent(from)}` });
      expect({ from, status: res.statusCode }).toEqual({ from, status: 400 });
    }
    const timeOff = await g.app.inject({ method: 'POST', url: '/v1/professionals/me/time-off', payload: { start: '0001-01-01T00:00:00.0+00:01', end: '0032-01-01T00:00:00Z' }, headers: professional });
    expect(timeOff.statusCode).toBe(400);
    expect(g.calls).toEqual([]);

    // An odd but real offset is fine, and reaches the backend as the same instant in UTC.
    g.behaviour['appointment.book'] = async () => {
      throw new AppError(GrpcStatus.ALREADY_EXISTS, 'SLOT_TAKEN', 'taken');
    };
    const odd = await g.app.inject({ method: 'POST', url: '/v1/appointments', payload: { professionalId, start: '2026-12-07T08:01:00.0+00:01' }, headers: patient });
    expect(odd.statusCode).toBe(409);
    expect(g.calls.find((c) => c.method === 'appointment.book')!.request.startAt).toBe('2026-12-07T08:00:00.000Z');
  });

  it('answers a path with a bad escape in the documented error shape', async () => {
    const res = await g.app.inject({ method: 'GET', url: '/v1/professionals/%FF' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'BAD_URL', message: expect.any(String) } });
  });

  it('answers an undeclared method on a known path with 405 and Allow', async () => {
    const onList = await g.app.inject({ method: 'DELETE', url: '/v1/professionals' });
    expect(onList.statusCode).toBe(405);
    expect(onList.headers.allow).toBe('GET, HEAD');
    expect(onList.json().error.code).toBe('METHOD_NOT_ALLOWED');
    const onOne = await g.app.inject({ method: 'PATCH', url: `/v1/appointments/${appointmentId}` });
    expect(onOne.statusCode).toBe(405);
    expect(onOne.headers.allow).toBe('GET, HEAD');
    const unknown = await g.app.inject({ method: 'DELETE', url: '/v1/nowhere' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('never coerces a JSON body, but still reads numbers from the query string', async () => {
    for (const refreshToken of [false, 0, null, ['x']]) {
      const res = await g.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: { refreshToken } });
      expect({ refreshToken, status: res.statusCode, code: res.json().error.code }).toEqual({ refreshToken, status: 400, code: 'VALIDATION_FAILED' });
    }
    expect(g.calls).toEqual([]);
    g.behaviour['search.searchProfessionals'] = async () => ({ items: [], nextCursor: '' });
    expect((await g.app.inject({ method: 'GET', url: '/v1/professionals?limit=5&lat=46.2&lng=6.1' })).statusCode).toBe(200);
    expect(g.calls[0]!.request).toMatchObject({ limit: 5, latitude: 46.2, longitude: 6.1 });
  });

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    g.behaviour['identity.login'] = async () => {
      throw new AppError(GrpcStatus.UNAUTHENTICATED, 'INVALID_CREDENTIALS', 'wrong');
    };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: `victim${i}@example.ch`, password: 'guess-number-1' },
        remoteAddress: '198.51.100.77',
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
  });

  it('believes X-Forwarded-For from a configured proxy, so clients behind it keep their own budgets', async () => {
    const behind = await standInGateway({ authRateLimitPerMinute: 2, trustedProxies: ['10.0.0.0/8'] });
    behind.behaviour['identity.login'] = async () => {
      throw new AppError(GrpcStatus.UNAUTHENTICATED, 'INVALID_CREDENTIALS', 'wrong');
    };
    const login = (client: string, i: number) =>
      behind.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: `u${client}${i}@example.ch`, password: 'pw-123456789' }, remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': client } });
    const a = [await login('203.0.113.1', 1), await login('203.0.113.1', 2), await login('203.0.113.1', 3)].map((r) => r.statusCode);
    const b = (await login('203.0.113.2', 1)).statusCode;
    expect(a).toEqual([401, 401, 429]);
    expect(b).toBe(401);
    await behind.close();
  });

  it('limits sign-in attempts per account, whatever address they come from', async () => {
    g.behaviour['identity.login'] = async () => {
      throw new AppError(GrpcStatus.UNAUTHENTICATED, 'INVALID_CREDENTIALS', 'wrong');
    };
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await g.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: i % 2 ? 'Target@Example.ch ' : 'target@example.ch', password: `guess-${i}-abcdef` },
        remoteAddress: `192.0.2.${i + 10}`,
      });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(last!.json().error.code).toBe('ACCOUNT_RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // Another account from the same addresses is not affected.
    expect((await g.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'other@example.ch', password: 'pw-123456789' }, remoteAddress: '192.0.2.50' })).statusCode).toBe(401);
  });

  it('ends a token at once when its session is revoked or its user erased', async () => {
    g.behaviour['appointment.listAppointments'] = async () => ({ items: [], nextCursor: '' });
    const sessionA = await bearer('patient', patientId, 'session-a');
    const sessionB = await bearer('patient', patientId, 'session-b');
    expect((await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: sessionA })).statusCode).toBe(200);
    await g.revocations.revokeSession('session-a');
    const signedOut = await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: sessionA });
    expect(signedOut.statusCode).toBe(401);
    expect(signedOut.json().error.code).toBe('TOKEN_REVOKED');
    expect((await g.app.inject({ method: 'GET', url: '/v1/appointments', headers: sessionB })).statusCode).toBe(200);
    await g.revocations.revokeUser(patientId);
    expect((await g.app.inject({ method: 'POST', url: '/v1/appointments', payload: { professionalId, start: '2026-12-07T08:00:00Z' }, headers: sessionB })).statusCode).toBe(401);
    expect(g.calls.filter((c) => c.method === 'appointment.book')).toEqual([]);
  });

  it('ends a stream ticket with the session it came from', async () => {
    const other = '0192f1a0-0000-7000-8000-0000000000a3';
    g.behaviour['appointment.getAppointment'] = async () => ({ appointment: { id: appointmentId, patientId: other, professionalId, status: 1, startAt: '2026-12-07T08:00:00.000Z', endAt: '2026-12-07T08:30:00.000Z' } });
    const res = await g.app.inject({ method: 'POST', url: `/v1/appointments/${appointmentId}/stream-ticket`, headers: await bearer('patient', other, 'session-t') });
    expect(res.statusCode).toBe(200);
    await g.revocations.revokeSession('session-t');
    const stream = await g.app.inject({ method: 'GET', url: `/v1/appointments/${appointmentId}/events?ticket=${encodeURIComponent(res.json().ticket)}` });
    expect(stream.statusCode).toBe(401);
    expect(stream.json().error.code).toBe('TOKEN_REVOKED');
  });

  it('refuses authenticated calls with 503 when revocations cannot be checked', async () => {
    const broken: Cache = {
      get: async () => {
        throw new Error('redis down');
      },
      getMany: async () => {
        throw new Error('redis down');
      },
      set: async () => undefined,
      del: async () => undefined,
      hit: async () => 0,
      ping: async () => undefined,
      close: async () => undefined,
    };
    const down = await standInGateway({ authCache: broken });
    const res = await down.app.inject({ method: 'GET', url: '/v1/appointments', headers: { authorization: `Bearer ${await down.sign(patientId, 'patient')}` } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('AUTH_UNAVAILABLE');
    expect(down.calls).toEqual([]);
    await down.close();
  });

  it('takes the access token from the Authorization header only, never from the query string', async () => {
    const token = await g.sign(patientId, 'patient');
    const res = await g.app.inject({ method: 'GET', url: `/v1/appointments?access_token=${token}` });
    expect(res.statusCode).toBe(401);
    expect(g.calls).toEqual([]);
  });

  it('sends security headers and compresses what is worth it', async () => {
    const res = await g.app.inject({ method: 'GET', url: '/openapi.json', headers: { 'accept-encoding': 'gzip' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    const error = await g.app.inject({ method: 'GET', url: '/v1/nowhere' });
    expect(error.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves no readiness or metrics on the public port', async () => {
    for (const url of ['/metrics', '/readyz']) {
      const res = await g.app.inject({ method: 'GET', url });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 404 });
    }
    expect((await g.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('tells a client whose booking timed out to retry with its Idempotency-Key', async () => {
    g.behaviour['appointment.book'] = async () => {
      throw new AppError(GrpcStatus.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED', 'the booking took too long');
    };
    const res = await g.app.inject({ method: 'POST', url: '/v1/appointments', payload: { professionalId, start: '2026-12-07T08:00:00Z' }, headers: { ...(await bearer('patient', '0192f1a0-0000-7000-8000-0000000000a2')), 'idempotency-key': 'k-1' } });
    expect(res.statusCode).toBe(504);
    expect(res.json().error.message).toContain('same Idempotency-Key');
  });

  it('cuts a request whose body trickles in', async () => {
    const slow = await standInGateway({ requestTimeoutMs: 1_000 });
    const port = await freePort();
    await slow.app.listen({ host: '127.0.0.1', port });
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    // A byte written as the gateway closes meets a reset: what it answered before is what counts.
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('POST /v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
    // One byte every 300 ms: the 100 bytes would take 30 s; the gateway must not wait for them.
    let sent = 1;
    const drip = setInterval(() => {
      // Stops dripping once answered, as a client would.
      if (!socket.destroyed && sent < 99 && received === '') {
        socket.write(' ');
        sent++;
      }
    }, 300);
    await closed;
    clearInterval(drip);
    expect(sent).toBeLessThan(99);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    await slow.close();
  });
});
