import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApiClient, demoSchedule, eventually, infraUrls, kafkaTopics, scanColumns, startPlatform, type ColumnHit, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * The right to erasure end to end (every service its own process, real PostgreSQL, Redis and
 * Kafka): people write things (names, emails, cancel reasons, Idempotency-Keys, a bio, a city, a
 * time-off reason), book, pay and cancel; then they erase their accounts. Afterwards no column of
 * any table of any service holds anything of them, beyond the tombstone documented below.
 */

/** Run-unique: every value the erased people wrote carries it. Lower-case hex, no LIKE wildcards. */
const marker = `mk${randomBytes(6).toString('hex')}`;
const ERASED = '00000000-0000-0000-0000-000000000000';

/**
 * What may keep an erased person's id, and why (everything else must not hold it, nor anything
 * they wrote). Only identity's tombstone row: its id stays (with role, region, created_at and
 * erased_at; email, password and name are gone) so that the id is never given to someone else and
 * a late event or token for it is recognised as erased.
 */
const tombstones = [
  { service: 'identity', table: 'users', column: 'id', rows: 'erased_at IS NOT NULL' },
  // The audit trail keeps the erased id (and nothing else of them) for its retention: the evidence
  // of what happened to the account, the erasure included (docs/compliance/audit.md).
  { service: 'identity', table: 'audit_entries', column: 'actor_id', rows: 'true' },
  { service: 'identity', table: 'audit_entries', column: 'subject_id', rows: 'true' },
] as const;

describe('erasure leaves nothing of a person anywhere (real PostgreSQL, Redis, Kafka; separate processes)', () => {
  let platform: RunningPlatform;
  let api: ApiClient;
  let db: pg.Pool;

  beforeAll(async () => {
    platform = await startPlatform();
    api = new ApiClient(platform.gatewayUrl);
    db = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 3 });
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  async function register(role: 'patient' | 'professional', email: string, displayName: string) {
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email, password: 'a-long-password-1', role, displayName, consents: currentConsents() });
    return { id: session.user.id as string, email, displayName, refreshToken: session.refreshToken as string, api: api.as(session.accessToken) };
  }

  /** Books and pays a slot; resolves once the booking is confirmed (and has its meeting when asked). */
  async function bookAndPay(patient: ApiClient, professionalId: string, start: string, idempotencyKey?: string, meeting = false) {
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId, start }, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
    expect(booked.invoice?.checkoutUrl).toBeTruthy();
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => {
      const { appointment } = await patient.expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`);
      return appointment.status === 'confirmed' && (!meeting || appointment.meeting) ? appointment : undefined;
    }, 30_000);
    return booked.appointment.id as string;
  }

  /** Every column of every table of every service's schema, searched for each needle (beyond the tombstones). */
  const scan = (needles: string[]) => scanColumns(db, platform.schemas, needles, tombstones);

  async function outboxBacklog(): Promise<number> {
    let total = 0;
    for (const schema of Object.values(platform.schemas)) total += (await db.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n;
    return total;
  }

  it('erases two patients (one Idempotency-Key string between them) and a professional whose paid patient is then refunded and told', async () => {
    // People, each writing things that carry the marker.
    const alice = await register('patient', `alice-${marker}@example.ch`, `Alice ${marker}`);
    const bob = await register('patient', `bob-${marker}@example.ch`, `Bob ${marker}`);
    const pro = await register('professional', `dr-${marker}@example.ch`, `Dr. ${marker}`);
    // Carol keeps her account: she is the paying patient the leaving professional must not strand.
    const carol = await register('patient', `carol-${randomBytes(4).toString('hex')}@example.ch`, 'Carol Stays');
    await pro.api.expect(200, 'PUT', '/v1/professionals/me', {
      specialties: ['general-practice'],
      languages: ['de', 'en'],
      country: 'CH',
      city: `Zurich ${marker}`,
      latitude: 47.3769,
      longitude: 8.5417,
      price: { amount: '120.00', currency: 'CHF' },
      consultationMinutes: 30,
      timeZone: 'Europe/Zurich',
      bio: `I am ${marker}, ask me anything.`,
    });
    await pro.api.expect(200, 'PUT', '/v1/professionals/me/schedule', demoSchedule);
    const offStart = new Date(Date.now() + 40 * 86_400_000);
    await pro.api.expect(201, 'POST', '/v1/professionals/me/time-off', { start: offStart.toISOString(), end: new Date(offStart.getTime() + 3_600_000).toISOString(), reason: `family matters ${marker}` });
    const closedDate = new Date(Date.now() + 41 * 86_400_000).toISOString().slice(0, 10);
    await pro.api.expect(200, 'PUT', `/v1/professionals/me/date-overrides/${closedDate}`, { ranges: [] });
    const admin = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${pro.id}/verify`);
    const { items: slots } = await alice.api.expect(200, 'GET', `/v1/professionals/${pro.id}/slots`);
    expect(slots.length).toBeGreaterThanOrEqual(3);

    // Alice and Bob book with the same Idempotency-Key string; both pay.
    const sharedKey = `key-${marker}`;
    const aliceBooking = await bookAndPay(alice.api, pro.id, slots[0].start, sharedKey);
    const bobBooking = await bookAndPay(bob.api, pro.id, slots[1].start, sharedKey);
    const carolBooking = await bookAndPay(carol.api, pro.id, slots[2].start, undefined, true);
    // Free text: Alice cancels hers, the professional cancels Bob's.
    await alice.api.expect(200, 'POST', `/v1/appointments/${aliceBooking}/cancel`, { reason: `I feel unwell ${marker}` });
    await pro.api.expect(200, 'POST', `/v1/appointments/${bobBooking}/cancel`, { reason: `Bob ${marker} was rude` });

    // The export holds everything of Alice: sign-ins (never a token), her key and reason, her refund.
    const aliceExport = await eventually(async () => {
      const body = await alice.api.expect(200, 'GET', '/v1/me/export');
      return body.invoices.find((i: { appointmentId: string; refund: unknown }) => i.appointmentId === aliceBooking && i.refund) ? body : undefined;
    });
    expect(aliceExport.user).toMatchObject({ id: alice.id, email: alice.email, displayName: alice.displayName });
    expect(aliceExport.sessions).toEqual([expect.objectContaining({ createdAt: expect.any(String), expiresAt: expect.any(String), revokedAt: null })]);
    expect(JSON.stringify(aliceExport)).not.toContain(alice.refreshToken);
    expect(aliceExport.appointments).toEqual([
      expect.objectContaining({ id: aliceBooking, status: 'cancelled', cancelledBy: 'patient', cancelReason: `I feel unwell ${marker}`, idempotencyKey: sharedKey }),
    ]);
    expect(aliceExport.invoices).toEqual([
      expect.objectContaining({ appointmentId: aliceBooking, status: 'refund_due', paidAt: expect.any(String), refund: expect.objectContaining({ reason: 'cancelled by the patient', status: 'due' }) }),
    ]);
    // The professional's export has their calendar, not the patients' keys or payments.
    const proExport = await pro.api.expect(200, 'GET', '/v1/me/export');
    expect(proExport.profile).toMatchObject({ id: pro.id, bio: `I am ${marker}, ask me anything.` });
    expect(proExport.appointments.map((a: { id: string }) => a.id).sort()).toEqual([aliceBooking, bobBooking, carolBooking].sort());
    expect(proExport.appointments.find((a: { id: string }) => a.id === bobBooking)).toMatchObject({ cancelledBy: 'professional', idempotencyKey: null });
    expect(proExport.invoices).toEqual([]);

    // Carol watches her booking.
    const stream = carol.api.openEvents(`/v1/appointments/${carolBooking}/events`);
    await eventually(async () => stream.events.some((e) => e.event === 'meeting_ready'));
    const { rows: meetings } = await db.query(`SELECT provider_meeting_id FROM "${platform.schemas.video}".meetings WHERE appointment_id = $1`, [carolBooking]);
    expect(meetings).toHaveLength(1);

    // The scan sees what they left, before the erasure (so its silence afterwards means something).
    const needles = [marker, ...[alice, bob, pro].flatMap((p) => [p.id, p.email, p.displayName])];
    expect([...new Set((await scan(needles)).map((h) => h.column))]).toEqual(
      expect.arrayContaining([
        'identity.users.id',
        'identity.users.email',
        'identity.users.display_name',
        'identity.refresh_tokens.user_id',
        'search.professionals.id',
        'search.professionals.display_name',
        'search.professionals.city',
        'search.professionals.bio',
        'appointment.schedules.professional_id',
        'appointment.time_off.professional_id',
        'appointment.time_off.reason',
        'appointment.date_overrides.professional_id',
        'appointment.appointments.patient_id',
        'appointment.appointments.professional_id',
        'appointment.appointments.idempotency_key',
        'appointment.appointments.cancel_reason',
        'payment.invoices.patient_id',
      ]),
    );

    // Everyone but Carol leaves.
    for (const person of [alice, bob, pro]) expect((await person.api.call('DELETE', '/v1/me')).status).toBe(202);

    // Carol's paid booking is cancelled (professional left), she is told, payment owes her the money,
    // and the meeting is gone at the provider.
    const cancelled = await eventually(async () => stream.events.find((e) => e.event === 'cancelled'), 30_000);
    stream.close();
    expect(cancelled.data).toMatchObject({ reason: 'professional left' });
    const { appointment: carolsView } = await carol.api.expect(200, 'GET', `/v1/appointments/${carolBooking}`);
    expect(carolsView).toMatchObject({ status: 'cancelled', cancelReason: 'professional left', meeting: null, professionalId: ERASED });
    const carolExport = await eventually(async () => {
      const body = await carol.api.expect(200, 'GET', '/v1/me/export');
      return body.invoices[0]?.refund ? body : undefined;
    });
    expect(carolExport.invoices).toEqual([expect.objectContaining({ appointmentId: carolBooking, status: 'refund_due', refund: expect.objectContaining({ reason: 'professional left', status: 'due' }) })]);
    await eventually(async () => (await db.query(`SELECT status FROM "${platform.schemas.video}".meetings WHERE appointment_id = $1`, [carolBooking])).rows[0]?.status === 'deleted');
    expect(platform.zoom.deletedMeetingIds.map(String)).toContain(String(meetings[0].provider_meeting_id));

    // Once every service has processed the erasures and published its outbox, nothing of the three
    // is left in any column of any table, beyond the tombstone.
    let hits: ColumnHit[] = [];
    try {
      await eventually(async () => {
        hits = await scan(needles);
        return hits.length === 0 && (await outboxBacklog()) === 0;
      }, 45_000, 500);
    } catch {
      throw new Error(`personal data left after erasure: ${JSON.stringify(hits, null, 1)}`);
    }
    // The tombstones are there, and hold nothing but the id.
    const { rows: tombstoneRows } = await db.query(`SELECT id::text, email, password_hash, display_name, erased_at FROM "${platform.schemas.identity}".users WHERE id = ANY($1::uuid[])`, [[alice.id, bob.id, pro.id]]);
    expect(tombstoneRows).toHaveLength(3);
    for (const row of tombstoneRows) expect(row).toMatchObject({ email: null, password_hash: null, display_name: 'Erased user', erased_at: expect.any(Date) });
    // The professional's calendar kept the bookings (the slots were booked), without the people.
    const { rows: bookings } = await db.query(`SELECT id::text, patient_id::text, professional_id::text, idempotency_key, cancel_reason, status FROM "${platform.schemas.appointment}".appointments WHERE id = ANY($1::uuid[]) ORDER BY start_at`, [
      [aliceBooking, bobBooking, carolBooking],
    ]);
    expect(bookings).toEqual([
      { id: aliceBooking, patient_id: ERASED, professional_id: ERASED, idempotency_key: null, cancel_reason: null, status: 'cancelled' },
      { id: bobBooking, patient_id: ERASED, professional_id: ERASED, idempotency_key: null, cancel_reason: null, status: 'cancelled' },
      { id: carolBooking, patient_id: carol.id, professional_id: ERASED, idempotency_key: null, cancel_reason: 'professional left', status: 'cancelled' },
    ]);

    // No event of this run went to a dead-letter topic (the second erasure with the same key did not collide).
    const { Kafka, logLevel } = await import('kafkajs');
    const kafka = new Kafka({ brokers: infraUrls().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await kafka.connect();
    try {
      for (const { topic } of kafkaTopics().filter((t) => t.topic.endsWith('.dlq'))) {
        const offsets = await kafka.fetchTopicOffsets(platform.namespace + topic);
        expect({ topic, messages: offsets.reduce((sum, p) => sum + Number(p.high), 0) }).toEqual({ topic, messages: 0 });
      }
    } finally {
      await kafka.disconnect();
    }
  }, 240_000);
});
