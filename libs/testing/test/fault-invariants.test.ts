import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '@cryptocare/platform';
import { checkInvariants, readDatabases, violationKinds, type SystemState, type ViolationKind } from '../src/faults/invariants';
import { infraUrls, uniqueName } from '../src/infra';
import { repoRoot } from '../src/services';

const now = new Date('2030-01-10T12:00:00Z');
const minutes = (m: number) => new Date(now.getTime() + m * 60_000);

/** A settled run: one booking confirmed with its meeting, one paid then cancelled (refunded), one expired, one held (not ended). */
function healthyState(): SystemState {
  return {
    now,
    appointments: [
      { id: 'a-confirmed', status: 'confirmed', professionalId: 'p1', startAt: minutes(60), invoiceId: 'i-1', meetingJoinUrl: 'https://zoom/1', holdExpiresAt: minutes(-10) },
      { id: 'a-refunded', status: 'cancelled', professionalId: 'p1', startAt: minutes(120), invoiceId: 'i-2', meetingJoinUrl: null, holdExpiresAt: minutes(-10) },
      { id: 'a-expired', status: 'expired', professionalId: 'p2', startAt: minutes(60), invoiceId: 'i-3', meetingJoinUrl: null, holdExpiresAt: minutes(-10) },
      { id: 'a-held', status: 'held', professionalId: 'p2', startAt: minutes(180), invoiceId: 'i-4', meetingJoinUrl: null, holdExpiresAt: minutes(5) },
    ],
    invoices: [
      { id: 'i-1', appointmentId: 'a-confirmed', providerInvoiceId: 'sbp-1', status: 'paid', paidAt: minutes(-20), paidSats: 120_000 },
      { id: 'i-2', appointmentId: 'a-refunded', providerInvoiceId: 'sbp-2', status: 'refund_due', paidAt: minutes(-20), paidSats: 120_000 },
      { id: 'i-3', appointmentId: 'a-expired', providerInvoiceId: 'sbp-3', status: 'expired', paidAt: null, paidSats: null },
      { id: 'i-4', appointmentId: 'a-held', providerInvoiceId: 'sbp-4', status: 'open', paidAt: null, paidSats: null },
    ],
    refunds: [{ id: 'r-2', invoiceId: 'i-2', appointmentId: 'a-refunded', sats: 120_000 }],
    meetings: [
      { appointmentId: 'a-confirmed', provider: 'zoom', providerMeetingId: '101', status: 'active' },
      { appointmentId: 'a-refunded', provider: 'zoom', providerMeetingId: '102', status: 'deleted' },
    ],
    outbox: [{ service: 'appointment', type: 'appointment.confirmed', createdAt: minutes(-0.1) }],
    deadLetters: [],
    providerInvoices: [
      { id: 'sbp-1', status: 'settled' },
      { id: 'sbp-2', status: 'settled' },
      { id: 'sbp-3', status: 'expired' },
      { id: 'sbp-4', status: 'open' },
    ],
    providerMeetings: [{ id: '101' }],
    bookedByClients: ['a-confirmed', 'a-refunded', 'a-expired', 'a-held'],
  };
}

/** One corruption per violation kind: what a lost, doubled or stuck step of the saga leaves behind. */
const corruptions: Record<ViolationKind, (s: SystemState) => void> = {
  payment_lost: (s) => {
    s.providerInvoices.find((p) => p.id === 'sbp-4')!.status = 'settled'; // paid at the provider, payment never heard
  },
  paid_without_outcome: (s) => {
    s.refunds = []; // paid, cancelled, never refunded
  },
  paid_confirmed_and_refunded: (s) => {
    s.refunds.push({ id: 'r-1', invoiceId: 'i-1', appointmentId: 'a-confirmed', sats: 120_000 });
  },
  confirmed_without_payment: (s) => {
    Object.assign(s.appointments.find((a) => a.id === 'a-held')!, { status: 'confirmed', meetingJoinUrl: 'https://zoom/9' });
    s.meetings.push({ appointmentId: 'a-held', provider: 'zoom', providerMeetingId: '109', status: 'active' });
    s.providerMeetings.push({ id: '109' });
  },
  double_confirmation: (s) => {
    s.appointments.push({ id: 'a-twin', status: 'confirmed', professionalId: 'p1', startAt: minutes(60), invoiceId: 'i-1', meetingJoinUrl: 'https://zoom/3', holdExpiresAt: minutes(-10) });
    s.meetings.push({ appointmentId: 'a-twin', provider: 'zoom', providerMeetingId: '103', status: 'active' });
    s.providerMeetings.push({ id: '103' });
    s.bookedByClients!.push('a-twin');
  },
  meeting_missing: (s) => {
    s.meetings = s.meetings.filter((m) => m.appointmentId !== 'a-confirmed');
    s.providerMeetings = [];
  },
  double_meeting: (s) => {
    s.meetings.push({ appointmentId: 'a-confirmed', provider: 'zoom', providerMeetingId: '555', status: 'active' });
    s.providerMeetings.push({ id: '555' });
  },
  meeting_of_unconfirmed_booking: (s) => {
    s.meetings.find((m) => m.appointmentId === 'a-refunded')!.status = 'active';
    s.providerMeetings.push({ id: '102' });
  },
  double_refund: (s) => {
    s.refunds.push({ id: 'r-2b', invoiceId: 'i-2', appointmentId: 'a-refunded', sats: 120_000 }); // the same sats owed back twice
  },
  booking_lost: (s) => {
    s.bookedByClients!.push('a-vanished');
  },
  hold_not_released: (s) => {
    s.appointments.find((a) => a.id === 'a-held')!.holdExpiresAt = minutes(-30);
  },
  outbox_stale: (s) => {
    s.outbox.push({ service: 'payment', type: 'payment.paid', createdAt: minutes(-5) });
  },
  dead_letter_unexplained: (s) => {
    s.deadLetters.push({ topic: 'payment.events.v1.dlq', eventType: 'payment.paid', eventId: 'e-1', error: 'boom', consumer: 'appointment' });
  },
};

describe('fault-suite invariant checker', () => {
  it('finds nothing wrong in a settled run, and counts its outcomes', () => {
    const { violations, leaks, figures } = checkInvariants(healthyState());
    expect(violations).toEqual([]);
    expect(leaks).toEqual([]);
    expect(figures).toMatchObject({ bookingsAttempted: 4, bookings: 4, confirmed: 1, cancelled: 1, expired: 1, held: 1, invoicesPaid: 2, refunds: 1, meetingsActive: 1, providerInvoicesSettled: 2 });
  });

  it.each(violationKinds.map((k) => [k]))('catches %s', (kind) => {
    const state = healthyState();
    corruptions[kind](state);
    const { violations } = checkInvariants(state);
    expect(violations.map((v) => v.kind)).toContain(kind);
  });

  it('a refund that grew (money that came in after the first was paid) is a second refund, not a double one', () => {
    const state = healthyState();
    state.invoices.find((i) => i.id === 'i-2')!.paidSats = 150_000;
    state.refunds.push({ id: 'r-2b', invoiceId: 'i-2', appointmentId: 'a-refunded', sats: 30_000 });
    expect(checkInvariants(state).violations).toEqual([]);
  });

  it('a live provider meeting no booking holds is reported as a leak, not as a violation', () => {
    const state = healthyState();
    state.providerMeetings.push({ id: '777' });
    const { violations, leaks, figures } = checkInvariants(state);
    expect(violations).toEqual([]);
    expect(leaks).toEqual([expect.objectContaining({ kind: 'provider_meeting_leaked', subject: 'zoom:777' })]);
    expect(figures.providerMeetingsLeaked).toBe(1);
  });

  it('a dead letter with an explanation is counted, not a violation', () => {
    const state = healthyState();
    corruptions.dead_letter_unexplained(state);
    const { violations, figures } = checkInvariants(state, { explainDeadLetter: (d) => (d.error === 'boom' ? 'poison event of the test' : undefined) });
    expect(violations).toEqual([]);
    expect(figures.deadLettersExplained).toBe(1);
  });

  it('reads the services’ real schemas: a booking confirmed without a paid invoice, and a stale outbox row, are caught', async () => {
    const { databaseUrl } = infraUrls();
    const run = uniqueName('inv');
    const schemas = { identity: `${run}_identity`, search: `${run}_search`, appointment: `${run}_appointment`, payment: `${run}_payment`, video: `${run}_video` };
    await Promise.all(
      (['appointment', 'payment', 'video'] as const).map((s) => applyMigrations({ serviceDir: path.join(repoRoot, 'services', s), databaseUrl, schema: schemas[s] })),
    );
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    try {
      const id = randomUUID();
      await pool.query(
        `INSERT INTO "${schemas.appointment}".appointments (id, patient_id, professional_id, start_at, end_at, status, hold_expires_at, price_amount, price_currency, meeting_join_url, updated_at)
         VALUES ($1, $2, $3, now() + interval '1 day', now() + interval '1 day 30 minutes', 'confirmed', now(), 120, 'CHF', 'https://zoom/x', now())`,
        [id, randomUUID(), randomUUID()],
      );
      await pool.query(`INSERT INTO "${schemas.video}".meetings (id, appointment_id, provider, provider_meeting_id, join_url, host_url, password, start_at, duration_minutes) VALUES ($1, $2, 'zoom', '7', 'j', 'h', 'p', now(), 30)`, [randomUUID(), id]);
      await pool.query(`INSERT INTO "${schemas.payment}".outbox (id, topic, key, type, payload, created_at) VALUES ($1, 'payment.events.v1', 'k', 'payment.paid', '\\x00', now() - interval '10 minutes')`, [randomUUID()]);
      const db = await readDatabases(databaseUrl, schemas);
      const { violations } = checkInvariants({ ...db, deadLetters: [], providerInvoices: [], providerMeetings: [{ id: '7' }] });
      expect(violations.map((v) => v.kind).sort()).toEqual(['confirmed_without_payment', 'outbox_stale']);
    } finally {
      for (const s of Object.values(schemas)) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await pool.end();
    }
  });
});
