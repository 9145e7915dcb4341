import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApiClient, repoRoot, seedDemoDirectory, startPlatform, type RunningPlatform, currentConsents } from '@cryptocare/testing';

const run = promisify(execFile);

/**
 * The outside review's reproductions against the real services (every one answered 500, or let an
 * erased patient book, before), then a schema-driven fuzzing run of the whole OpenAPI document
 * (Schemathesis) as each role: no request may get a server error.
 */
describe('hostile input against the real platform (separate processes, real PostgreSQL, Redis, Kafka)', () => {
  let platform: RunningPlatform;
  let api: ApiClient;
  const admin = { email: 'admin@cryptocare.test', password: 'admin-password-1' };

  beforeAll(async () => {
    // Every request of the fuzzer comes from one address: lift the per-address limits.
    platform = await startPlatform({ extraEnv: { gateway: { RATE_LIMIT_PER_MINUTE: '100000', AUTH_RATE_LIMIT_PER_MINUTE: '100000', LOGIN_RATE_LIMIT_PER_ACCOUNT: '100000' } } });
    api = new ApiClient(platform.gatewayUrl);
    await seedDemoDirectory(platform.gatewayUrl, admin);
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  async function register(role: 'patient' | 'professional' = 'patient') {
    const email = `h-${unique()}@example.ch`;
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email, password: 'hostile-password-1', role, displayName: 'Hostile Tester', consents: currentConsents() });
    return { email, session, client: api.as(session.accessToken) };
  }
  async function firstSlot() {
    const found = await api.expect(200, 'GET', '/v1/professionals?country=CH');
    for (const professional of found.items) {
      const slots = await api.expect(200, 'GET', `/v1/professionals/${professional.id}/slots`);
      if (slots.items.length > 1) return { professionalId: professional.id as string, slots: slots.items as Array<{ start: string }> };
    }
    throw new Error('no free slot in the demo directory');
  }

  it('answers NUL bytes with 400, never 500', async () => {
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', '/v1/auth/login', { email: '\u0000@x.ch', password: 'whatever-123' }],
      ['POST', '/v1/auth/register', { email: `n-${unique()}@x.ch`, password: 'long-enough-1', role: 'patient', displayName: 'Nul\u0000Name' }],
      ['POST', '/v1/auth/register', { email: `n\u0000-${unique()}@x.ch`, password: 'long-enough-1', role: 'patient', displayName: 'Nul' }],
      ['GET', '/v1/professionals?q=%00'],
    ];
    for (const [method, url, body] of attempts) {
      const res = await api.call(method, url, body);
      expect({ url, status: res.status, code: res.body?.error?.code }).toEqual({ url, status: 400, code: 'INVALID_CHARACTERS' });
    }
  });

  it('answers absurd dates with 400, never 500', async () => {
    const { client: patient } = await register();
    const { client: professional } = await register('professional');
    const { professionalId } = await firstSlot();
    for (const start of ['2026-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      expect((await patient.call('POST', '/v1/appointments', { professionalId, start })).status).toBe(400);
      expect((await api.call('GET', `/v1/professionals/${professionalId}/slots?from=${encodeURIComponent(start)}`)).status).toBe(400);
    }
    const timeOff = await professional.call('POST', '/v1/professionals/me/time-off', { start: '0001-01-01T00:00:00.0+00:01', end: '0032-01-01T00:00:00Z' });
    expect(timeOff.status).toBe(400);
  });

  it('gives two identical bookings sent at the same instant the same answer', async () => {
    const { client: patient } = await register();
    const { professionalId, slots } = await firstSlot();
    const key = `same-${unique()}`;
    const [a, b] = await Promise.all([0, 1].map(() => patient.call('POST', '/v1/appointments', { professionalId, start: slots[0]!.start }, { 'idempotency-key': key })));
    expect([a!.status, b!.status]).toEqual([201, 201]);
    expect(a!.body.appointment.id).toBe(b!.body.appointment.id);
  });

  it('refuses a refresh token that is not a string instead of signing anyone out', async () => {
    for (const refreshToken of [false, 0, null]) expect((await api.call('POST', '/v1/auth/logout', { refreshToken })).status).toBe(400);
  });

  it('answers a bad escape in the path in the documented error shape', async () => {
    const res = await api.call('GET', '/v1/professionals/%FF');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'BAD_URL', message: expect.any(String) } });
  });

  it('ends access tokens at once on sign-out and on erasure: an erased patient can neither list nor book', async () => {
    const { email, session, client } = await register();
    const second = await api.expect(200, 'POST', '/v1/auth/login', { email, password: 'hostile-password-1' });
    const other = api.as(second.accessToken);
    expect((await client.call('GET', '/v1/appointments')).status).toBe(200);
    await api.expect(204, 'POST', '/v1/auth/logout', { refreshToken: session.refreshToken });
    const signedOut = await client.call('GET', '/v1/appointments');
    expect(signedOut.status).toBe(401);
    expect(signedOut.body.error.code).toBe('TOKEN_REVOKED');
    // The other sign-in of the same person is still valid…
    expect((await other.call('GET', '/v1/appointments')).status).toBe(200);
    // …until the account is erased.
    expect((await other.call('DELETE', '/v1/me')).status).toBe(202);
    const { professionalId, slots } = await firstSlot();
    expect((await other.call('GET', '/v1/appointments')).status).toBe(401);
    const booking = await other.call('POST', '/v1/appointments', { professionalId, start: slots[1]!.start });
    expect(booking.status).toBe(401);
    expect(booking.body.error.code).toBe('TOKEN_REVOKED');
  });

  it('serves metrics and readiness on the ops port only', async () => {
    expect((await api.call('GET', '/metrics')).status).toBe(404);
    expect((await api.call('GET', '/readyz')).status).toBe(404);
    expect((await fetch(platform.metricsUrl('gateway'))).status).toBe(200);
  });

  it('survives schema-driven fuzzing of the whole OpenAPI document as each role with 0 server errors', async () => {
    const { stdout: installed } = await run('bash', [path.join(repoRoot, 'scripts/tools/schemathesis.sh')]);
    const schemathesis = installed.trim();
    const { client: professional, session: proSession } = await register('professional');
    await professional.expect(200, 'PUT', '/v1/professionals/me', {
      specialties: ['general-practice'],
      languages: ['fr'],
      country: 'CH',
      city: 'Genève',
      latitude: 46.2,
      longitude: 6.14,
      price: { amount: '90.00', currency: 'CHF' },
      consultationMinutes: 30,
      timeZone: 'Europe/Zurich',
    });
    const { session: patientSession } = await register();
    const adminSession = await api.expect(200, 'POST', '/v1/auth/login', admin);
    const reports = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
    // A server error is a 5xx, except the two answers the API documents for a busy machine (503
    // OVERLOADED / UNAVAILABLE and 504, both with Retry-After): the suite shares two cores with
    // another test file, and shedding load then is the designed behaviour, not a defect.
    const config = path.join(reports, 'schemathesis.toml');
    writeFileSync(config, '[checks.not_a_server_error]\nexpected-statuses = ["2xx", "3xx", "4xx", "503", "504"]\n');
    const summary: Record<string, { failures: number; tests: number }> = {};
    // The public routes (sign-up, sign-in, search) get the largest share of the budget. The roles
    // run at the same time (each Schemathesis process waits on the platform much of its time).
    const roles = [
      ['anonymous', '', 60],
      ['patient', patientSession.accessToken, 15],
      ['professional', proSession.accessToken, 15],
      ['admin', adminSession.accessToken, 15],
    ] as const;
    const fuzzAs = async ([role, token, examples]: (typeof roles)[number]) => {
      const junit = path.join(reports, `${role}.xml`);
      const args = [
        '--config-file',
        config,
        'run',
        `${platform.gatewayUrl}/openapi.json`,
        '--checks',
        'not_a_server_error',
        '--max-examples',
        String(examples),
        '--seed',
        '20261201',
        '--phases',
        'examples,coverage,fuzzing',
        // One worker: CPython 3.11's parser is not thread-safe under Hypothesis (gh-106905).
        '--workers',
        '1',
        '--generation-database',
        'none',
        '--request-timeout',
        '10',
        // A time budget, not a count to finish: the four runs share two cores with another test file,
        // and on a slower runner 60 examples an operation did not fit in the 240 s below (CI killed
        // the anonymous run in its fuzzing phase). Schemathesis spreads the budget over its phases
        // and ends with its own verdict when it is spent.
        '--max-time',
        '150',
        // Erasing the fuzzing account would leave the rest of the run unauthenticated.
        '--exclude-path',
        '/v1/me',
        '--exclude-path',
        '/v1/appointments/{id}/events',
        '--report',
        'junit',
        '--report-junit-path',
        junit,
        '--no-color',
        ...(token ? ['-H', `Authorization: Bearer ${token}`] : []),
      ];
      // In a directory of its own: Schemathesis keeps a .schemathesis/ folder where it runs.
      const cwd = path.join(reports, role);
      mkdirSync(cwd);
      const outcome = await run(schemathesis, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }).then(
        (r) => ({ code: 0, output: r.stdout + r.stderr }),
        (err: { code?: number; signal?: string; stdout?: string; stderr?: string }) => ({ code: err.code ?? err.signal ?? -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
      );
      const xml = readFileSync(junit, 'utf8');
      const tests = Number(/<testsuites[^>]*\btests="(\d+)"/.exec(xml)?.[1] ?? /<testsuite[^>]*\btests="(\d+)"/.exec(xml)?.[1] ?? 0);
      const failures = (xml.match(/<failure/g) ?? []).length + (xml.match(/<error/g) ?? []).length;
      summary[role] = { failures, tests };
      if (outcome.code !== 0 || failures > 0) throw new Error(`fuzzing as ${role}: exit ${outcome.code}, ${failures} failures\n${outcome.output.slice(-6000)}`);
    };
    await Promise.all(roles.map(fuzzAs));
    // Every operation of the document was exercised in each run.
    for (const [role, { tests }] of Object.entries(summary)) expect({ role, enough: tests >= 15 }).toEqual({ role, enough: true });
  }, 900_000);
});
