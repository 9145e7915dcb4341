import pg from 'pg';
import { prismaAdapter } from '@cryptocare/platform';
import { ApiClient, currentConsents, demoSchedule, eventually, infraUrls, startPlatform, type RunningPlatform } from '@cryptocare/testing';
import { PrismaClient } from '../../identity/src/generated/prisma';
import { AuditTrail } from '../../identity/src/store/audit-trail';

/**
 * Consent and the audit trail end to end (every service its own process, real PostgreSQL, Redis
 * and Kafka): each audited action, driven through the gateway, appears exactly once in identity's
 * chain (identity's own in the transaction of the change, appointment's, payment's and search's
 * through their outbox and Kafka); consent versions gate booking; the export carries consents and
 * the person's audit entries; the admin route filters, pages and refuses non-admins and bad input.
 */
describe('consent and audit trail (real PostgreSQL, Redis, Kafka; separate processes)', () => {
  let platform: RunningPlatform;
  let api: ApiClient;
  let db: pg.Pool;
  let admin: ApiClient;
  let adminId: string;

  beforeAll(async () => {
    platform = await startPlatform();
    api = new ApiClient(platform.gatewayUrl);
    db = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 3 });
    const session = await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    admin = api.as(session.accessToken);
    adminId = session.user.id;
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  const unique = () => `${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;

  async function register(role: 'patient' | 'professional') {
    const email = `${role}-${unique()}@example.ch`;
    // The documents current on this platform (a test below publishes a new version of one).
    const { items } = await api.expect(200, 'GET', '/v1/consent-documents');
    const consents = (items as Array<{ kind: string; version: string }>).map(({ kind, version }) => ({ kind, version }));
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email, password: 'a-long-password-1', role, displayName: 'Audit Tester', consents });
    return { id: session.user.id as string, email, refreshToken: session.refreshToken as string, api: api.as(session.accessToken) };
  }

  /** Entries of a kind naming the person (actor or subject), straight from identity's table. */
  async function entries(kind: string, personId: string) {
    const { rows } = await db.query(
      `SELECT seq::int, kind, source, actor_id::text AS actor, subject_id::text AS subject, object_id::text AS object, details FROM "${platform.schemas.identity}".audit_entries
       WHERE kind = $1 AND (actor_id = $2::uuid OR subject_id = $2::uuid) ORDER BY seq`,
      [kind, personId],
    );
    return rows;
  }
  /** Waits for an entry recorded through Kafka, then checks it stays alone. */
  async function exactlyOnce(kind: string, personId: string) {
    const found = await eventually(async () => ((await entries(kind, personId)).length > 0 ? entries(kind, personId) : undefined), 30_000);
    expect(found).toHaveLength(1);
    return found[0];
  }

  it('sign-up requires every consent at its current version, naming what is required', async () => {
    const body = { email: `c-${unique()}@example.ch`, password: 'a-long-password-1', role: 'patient', displayName: 'No Consent' };
    const missing = await api.call('POST', '/v1/auth/register', body);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'CONSENTS_REQUIRED', details: { required: expect.arrayContaining(currentConsents().map(({ kind, version }) => ({ kind, version }))) } });
    const outdated = await api.call('POST', '/v1/auth/register', { ...body, consents: currentConsents().map((c) => (c.kind === 'privacy' ? { ...c, version: '0' } : c)) });
    expect(outdated.status).toBe(400);
    expect(outdated.body.error.code).toBe('CONSENTS_REQUIRED');
    const partial = await api.call('POST', '/v1/auth/register', { ...body, consents: currentConsents().filter((c) => c.kind !== 'cross-border') });
    expect(partial.body.error).toMatchObject({ code: 'CONSENTS_REQUIRED', message: expect.stringContaining('cross-border') });
    // Nothing half-written: the email is still free.
    await api.expect(201, 'POST', '/v1/auth/register', { ...body, consents: currentConsents() });
  });

  it('the public documents carry their text and its SHA-256, in the language asked', async () => {
    const { items } = await api.expect(200, 'GET', '/v1/consent-documents?lang=fr');
    expect(items.map((d: { kind: string }) => d.kind).sort()).toEqual(['cross-border', 'privacy', 'teleconsultation', 'terms']);
    for (const d of items) {
      expect(d.lang).toBe('fr');
      expect(d.sha256).toBe(require('node:crypto').createHash('sha256').update(d.text, 'utf8').digest('hex'));
    }
    expect((await api.call('GET', '/v1/consent-documents?lang=xx')).status).toBe(400);
  });

  it('every audited action appears exactly once: sign-ins, failures, refresh reuse, sign-out, verification, a professional reading a booking, a refund due, export, erasure', async () => {
    const patient = await register('patient');
    const pro = await register('professional');
    expect(await entries('account.registered', patient.id)).toHaveLength(1);
    expect(await entries('consent.granted', patient.id)).toHaveLength(4);
    expect(await entries('auth.signed_in', patient.id)).toEqual([expect.objectContaining({ details: [['method', 'registration']] })]);

    // A failed sign-in names the account, never the email; then a good one.
    expect((await api.call('POST', '/v1/auth/login', { email: patient.email, password: 'wrong-password-1' })).status).toBe(401);
    const [failed] = await entries('auth.sign_in_failed', patient.id);
    expect(failed).toMatchObject({ subject: patient.id, actor: null, details: [['reason', 'bad_password']] });
    expect(JSON.stringify(await entries('auth.sign_in_failed', patient.id))).not.toContain(patient.email);
    const login = await api.expect(200, 'POST', '/v1/auth/login', { email: patient.email, password: 'a-long-password-1' });
    expect(login.pendingConsents).toEqual([]);
    expect(await entries('auth.signed_in', patient.id)).toHaveLength(2);

    // Refresh-token reuse revokes the family: recorded once; sign-out of another session once.
    const rotated = await api.expect(200, 'POST', '/v1/auth/refresh', { refreshToken: patient.refreshToken });
    expect((await api.call('POST', '/v1/auth/refresh', { refreshToken: patient.refreshToken })).body.error.code).toBe('REFRESH_TOKEN_REUSED');
    expect(await entries('auth.refresh_reused', patient.id)).toHaveLength(1);
    expect(rotated.refreshToken).toBeTruthy();
    await api.expect(204, 'POST', '/v1/auth/logout', { refreshToken: login.refreshToken });
    await api.expect(204, 'POST', '/v1/auth/logout', { refreshToken: login.refreshToken });
    expect(await entries('auth.signed_out', patient.id)).toHaveLength(1);

    // An admin verifies the professional (search records it through Kafka).
    await pro.api.expect(200, 'PUT', '/v1/professionals/me', {
      specialties: ['general-practice'],
      languages: ['en'],
      country: 'CH',
      city: 'Bern',
      latitude: 46.948,
      longitude: 7.4474,
      price: { amount: '80.00', currency: 'CHF' },
      consultationMinutes: 30,
      timeZone: 'Europe/Zurich',
      bio: 'Audited.',
    });
    await pro.api.expect(200, 'PUT', '/v1/professionals/me/schedule', demoSchedule);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${pro.id}/verify`);
    expect(await exactlyOnce('professional.verified', pro.id)).toMatchObject({ source: 'search', actor: adminId, subject: pro.id });

    // The patient books and pays; the professional reads the booking (appointment records it).
    // Sign-out and the reuse ended the earlier sessions (and their access tokens): a fresh one.
    const patientApi = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: patient.email, password: 'a-long-password-1' })).accessToken);
    const { items: slots } = await patientApi.expect(200, 'GET', `/v1/professionals/${pro.id}/slots`);
    const booked = await patientApi.expect(201, 'POST', '/v1/appointments', { professionalId: pro.id, start: slots[0].start });
    const bookingId = booked.appointment.id as string;
    await pro.api.expect(200, 'GET', `/v1/appointments/${bookingId}`);
    expect(await exactlyOnce('booking.read_by_professional', patient.id)).toMatchObject({ source: 'appointment', actor: pro.id, subject: patient.id, object: bookingId });
    // The patient reading their own booking is not an audited access.
    await patientApi.expect(200, 'GET', `/v1/appointments/${bookingId}`);
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await patientApi.expect(200, 'GET', `/v1/appointments/${bookingId}`)).appointment.status === 'confirmed', 30_000);
    await patientApi.expect(200, 'POST', `/v1/appointments/${bookingId}/cancel`, { reason: 'I feel unwell' });
    const refund = await exactlyOnce('payment.refund_due', patient.id);
    expect(refund).toMatchObject({ source: 'payment', subject: patient.id });
    expect(JSON.stringify(refund)).not.toContain('unwell');
    expect(await entries('booking.read_by_professional', patient.id)).toHaveLength(1);

    // The export: consents and the person's audit entries, the export itself among them.
    const exported = await patientApi.expect(200, 'GET', '/v1/me/export');
    expect(exported.consents).toHaveLength(4);
    expect(exported.consents[0]).toMatchObject({ action: 'granted', version: expect.any(String), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const kinds = exported.audit.map((e: { kind: string }) => e.kind);
    for (const kind of ['account.registered', 'auth.signed_in', 'auth.sign_in_failed', 'auth.refresh_reused', 'booking.read_by_professional', 'payment.refund_due', 'account.exported']) {
      expect(kinds).toContain(kind);
    }
    expect(await entries('account.exported', patient.id)).toHaveLength(1);

    // Erasure, recorded once; the chain verifies end to end.
    await patientApi.expect(202, 'DELETE', '/v1/me');
    expect(await entries('account.erased', patient.id)).toHaveLength(1);
    const identityDb = new PrismaClient({ adapter: prismaAdapter(infraUrls().databaseUrl, platform.schemas.identity) });
    try {
      await expect(new AuditTrail(identityDb, platform.schemas.identity).verify()).resolves.toMatchObject({ broken: null });
    } finally {
      await identityDb.$disconnect();
    }
  }, 120_000);

  it('an admin rejects a professional with a reason: audited once without it, not listed nor bookable, the professional reads it until they save again; a verified one cannot be rejected', async () => {
    const pro = await register('professional');
    const declared = { specialties: ['general-practice'], languages: ['de'], country: 'CH', city: 'Thun', latitude: 46.758, longitude: 7.628, price: { amount: '85.00', currency: 'CHF' }, consultationMinutes: 30, timeZone: 'Europe/Zurich' };
    await pro.api.expect(200, 'PUT', '/v1/professionals/me', declared);
    await pro.api.expect(200, 'PUT', '/v1/professionals/me/schedule', demoSchedule);
    const reason = 'Your diploma is unreadable: please upload a legible copy.';
    const rejected = await admin.expect(200, 'POST', `/v1/admin/professionals/${pro.id}/reject`, { reason });
    expect(rejected).toMatchObject({ id: pro.id, verified: false, review: { state: 'rejected', reason, at: expect.any(String) } });
    const entry = await exactlyOnce('professional.rejected', pro.id);
    expect(entry).toMatchObject({ source: 'search', actor: adminId, subject: pro.id });
    expect(JSON.stringify(entry)).not.toContain('diploma');

    // The professional reads it; the public does not see them; the queue no longer lists them; a booking is refused.
    expect((await pro.api.expect(200, 'GET', '/v1/professionals/me')).review).toEqual({ state: 'rejected', reason, at: rejected.review.at });
    expect((await api.call('GET', `/v1/professionals/${pro.id}`)).status).toBe(404);
    const queued = async (status: string) => (await admin.expect(200, 'GET', `/v1/admin/professionals?status=${status}&limit=100`)).items.some((i: { profile: { id: string } }) => i.profile.id === pro.id);
    expect([await queued('pending'), await queued('rejected')]).toEqual([false, true]);
    const patient = await register('patient');
    const { items: slots } = await api.expect(200, 'GET', `/v1/professionals/${pro.id}/slots`);
    expect(slots.length).toBeGreaterThan(0);
    const booking = await patient.api.call('POST', '/v1/appointments', { professionalId: pro.id, start: slots[0].start });
    expect([booking.status, booking.body.error.code]).toEqual([409, 'SLOT_NOT_AVAILABLE']);

    // Hostile and refused: a blank reason, an unknown professional; two admins at the same instant both answer, one reason stands.
    expect((await admin.call('POST', `/v1/admin/professionals/${pro.id}/reject`, { reason: ' \n ' })).body.error.code).toBe('INVALID_REASON');
    expect((await admin.call('POST', '/v1/admin/professionals/00000000-0000-4000-8000-000000000000/reject', { reason })).status).toBe(404);
    const both = await Promise.all(['One reason.', 'Another reason.'].map((r) => admin.call('POST', `/v1/admin/professionals/${pro.id}/reject`, { reason: r })));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(['One reason.', 'Another reason.']).toContain((await pro.api.expect(200, 'GET', '/v1/professionals/me')).review.reason);

    // Saving the profile asks for a new review; once verified, a rejection is refused.
    expect((await pro.api.expect(200, 'PUT', '/v1/professionals/me', declared)).review).toEqual({ state: 'pending', reason: null, at: null });
    expect([await queued('pending'), await queued('rejected')]).toEqual([true, false]);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${pro.id}/verify`);
    const late = await admin.call('POST', `/v1/admin/professionals/${pro.id}/reject`, { reason });
    expect([late.status, late.body.error.code]).toEqual([409, 'ALREADY_VERIFIED']);
    expect((await api.call('GET', `/v1/professionals/${pro.id}`)).status).toBe(200);
  }, 60_000);

  it('a new version of the teleconsultation consent makes it pending and refuses booking until it is given again; withdrawal refuses booking too', async () => {
    const patient = await register('patient');
    const { items: pros } = await api.expect(200, 'GET', '/v1/professionals?limit=1');
    expect(pros.length).toBeGreaterThan(0);
    const { items: slots } = await patient.api.expect(200, 'GET', `/v1/professionals/${pros[0].id}/slots`);
    const text = '# Consent to teleconsultation\n\nVersion 99 (test): the same, reworded.\n';
    const sha = require('node:crypto').createHash('sha256').update(text, 'utf8').digest('hex');
    await db.query(`INSERT INTO "${platform.schemas.identity}".consent_documents (kind, version, lang, title, text, sha256, published_at) VALUES ('teleconsultation', '99', 'en', 'Consent to teleconsultation', $1, $2, now())`, [
      text,
      sha,
    ]);
    const mine = await patient.api.expect(200, 'GET', '/v1/me/consents');
    expect(mine.pending).toEqual(['teleconsultation']);
    expect(mine.consents.find((c: { kind: string }) => c.kind === 'teleconsultation')).toMatchObject({ state: 'outdated', currentVersion: '99', givenVersion: '1' });
    expect((await api.expect(200, 'POST', '/v1/auth/login', { email: patient.email, password: 'a-long-password-1' })).pendingConsents).toEqual(['teleconsultation']);
    const refused = await patient.api.call('POST', '/v1/appointments', { professionalId: pros[0].id, start: slots[0].start });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('CONSENT_REQUIRED');
    // The old version is not enough; the new one is.
    expect((await patient.api.call('POST', '/v1/me/consents', { consents: [{ kind: 'teleconsultation', version: '1' }] })).body.error.code).toBe('CONSENTS_REQUIRED');
    const given = await patient.api.expect(200, 'POST', '/v1/me/consents', { consents: [{ kind: 'teleconsultation', version: '99' }] });
    expect(given.pending).toEqual([]);
    const { rows } = await db.query(`SELECT version, text_sha256 FROM "${platform.schemas.identity}".consents WHERE user_id = $1 AND kind = 'teleconsultation' ORDER BY at`, [patient.id]);
    expect(rows).toEqual([expect.objectContaining({ version: '1' }), { version: '99', text_sha256: sha }]);
    const booked = await patient.api.expect(201, 'POST', '/v1/appointments', { professionalId: pros[0].id, start: slots[0].start });
    await patient.api.expect(200, 'POST', `/v1/appointments/${booked.appointment.id}/cancel`, {});
    // Withdrawal: a new row, an audit entry, and booking refused again.
    const withdrawn = await patient.api.expect(200, 'DELETE', '/v1/me/consents/cross-border');
    expect(withdrawn.pending).toEqual(['cross-border']);
    expect(withdrawn.consents.find((c: { kind: string }) => c.kind === 'cross-border')).toMatchObject({ state: 'withdrawn', withdrawnAt: expect.any(String) });
    expect((await patient.api.call('POST', '/v1/appointments', { professionalId: pros[0].id, start: slots[1].start })).body.error.code).toBe('CONSENT_REQUIRED');
    expect(await entries('consent.withdrawn', patient.id)).toEqual([expect.objectContaining({ details: [['kind', 'cross-border'], ['version', '1']] })]);
    // Withdrawing again records nothing; the export lists grants and the withdrawal in order.
    await patient.api.expect(200, 'DELETE', '/v1/me/consents/cross-border');
    expect(await entries('consent.withdrawn', patient.id)).toHaveLength(1);
    const exported = await patient.api.expect(200, 'GET', '/v1/me/export');
    expect(exported.consents.map((c: { kind: string; action: string; version: string }) => `${c.kind}:${c.action}:${c.version}`)).toEqual(
      expect.arrayContaining(['teleconsultation:granted:1', 'teleconsultation:granted:99', 'cross-border:granted:1', 'cross-border:withdrawn:1']),
    );
    expect(exported.consents).toHaveLength(6);
    // Hostile input on the consent routes: 4xx with a code, never a 500.
    for (const [method, path, body] of [
      ['DELETE', '/v1/me/consents/nope', undefined],
      ['POST', '/v1/me/consents', { consents: [] }],
      ['POST', '/v1/me/consents', { consents: [{ kind: 'terms', version: '1\u0000' }] }],
      ['POST', '/v1/me/consents', { consents: [{ kind: 'terms', version: '1', lang: 'xx' }] }],
      ['POST', '/v1/me/consents', { consents: [{ kind: 'terms', version: '9'.repeat(30) }] }],
    ] as const) {
      const res = await patient.api.call(method, path, body);
      expect([400, 404]).toContain(res.status);
      expect(res.body.error.code).toEqual(expect.any(String));
    }
    expect((await api.call('GET', '/v1/me/consents')).status).toBe(401);
  }, 120_000);

  it('GET /v1/admin/audit filters by kind, actor, subject and time, pages by cursor, refuses non-admins and bad filters', async () => {
    const patient = await register('patient');
    for (let i = 0; i < 3; i++) await api.call('POST', '/v1/auth/login', { email: patient.email, password: `wrong-password-${i}` });
    const page1 = await admin.expect(200, 'GET', `/v1/admin/audit?kind=auth.sign_in_failed&subject=${patient.id}&limit=2`);
    expect(page1.items).toHaveLength(2);
    expect(page1.items.every((e: { kind: string; subjectId: string }) => e.kind === 'auth.sign_in_failed' && e.subjectId === patient.id)).toBe(true);
    expect(page1.items[0].seq).toBeGreaterThan(page1.items[1].seq);
    const page2 = await admin.expect(200, 'GET', `/v1/admin/audit?kind=auth.sign_in_failed&subject=${patient.id}&limit=2&cursor=${page1.nextCursor}`);
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const byActor = await admin.expect(200, 'GET', `/v1/admin/audit?actor=${patient.id}`);
    expect(new Set(byActor.items.map((e: { kind: string }) => e.kind))).toEqual(new Set(['consent.granted']));
    const future = await admin.expect(200, 'GET', `/v1/admin/audit?subject=${patient.id}&from=2099-01-01T00:00:00Z`);
    expect(future.items).toEqual([]);
    const past = await admin.expect(200, 'GET', `/v1/admin/audit?subject=${patient.id}&to=2001-01-01T00:00:00Z`);
    expect(past.items).toEqual([]);
    // Reading the trail is itself recorded.
    expect((await admin.expect(200, 'GET', `/v1/admin/audit?kind=admin.audit_read&actor=${adminId}&limit=1`)).items).toHaveLength(1);
    // Non-admins: 403; nobody: 401.
    expect((await patient.api.call('GET', '/v1/admin/audit')).status).toBe(403);
    expect((await api.call('GET', '/v1/admin/audit')).status).toBe(401);
    for (const query of ['kind=nope', 'actor=not-a-uuid', 'cursor=abc', 'cursor=0', 'from=2026-02-31T00:00:00Z', 'limit=0', 'limit=100000', 'kind=auth.signed_in%00']) {
      const res = await admin.call('GET', `/v1/admin/audit?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  }, 60_000);
});
