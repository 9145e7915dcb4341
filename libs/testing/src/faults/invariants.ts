// The invariants of the booking saga, checked on what every service's database and the providers
// (the simulators) hold once a run has settled. What a patient paid ends either as one confirmed
// booking with one meeting, or as one refund; nothing is confirmed unpaid, nothing is doubled, the
// outboxes are drained and nothing is dead-lettered without an explanation.
import pg from 'pg';
import { kafkajs } from '../kafkajs';

export interface AppointmentRow {
  id: string;
  status: string;
  professionalId: string;
  startAt: Date;
  invoiceId: string | null;
  meetingJoinUrl: string | null;
  holdExpiresAt: Date;
}
export interface InvoiceRow {
  id: string;
  appointmentId: string;
  providerInvoiceId: string;
  status: string;
  paidAt: Date | null;
  /** Satoshis received for it as the provider reported them (null: nothing known to have arrived). */
  paidSats: number | null;
}
export interface RefundRow {
  id: string;
  invoiceId: string;
  appointmentId: string;
  sats: number;
}
export interface MeetingRow {
  appointmentId: string;
  provider: string;
  providerMeetingId: string;
  status: string;
}
export interface OutboxRow {
  service: string;
  type: string;
  createdAt: Date;
}
export interface DeadLetter {
  topic: string;
  eventType: string;
  eventId: string;
  error: string;
  consumer: string;
}

/** Everything the checker reads, from the databases, the simulators and the dead-letter topics. */
export interface SystemState {
  appointments: AppointmentRow[];
  invoices: InvoiceRow[];
  refunds: RefundRow[];
  meetings: MeetingRow[];
  /** Rows still in the services' outboxes. */
  outbox: OutboxRow[];
  deadLetters: DeadLetter[];
  /** The payment provider's invoices (Swiss Bitcoin Pay simulator). */
  providerInvoices: Array<{ id: string; status: string }>;
  /** The video provider's live meetings (Zoom simulator; deleted ones excluded). */
  providerMeetings: Array<{ id: string }>;
  /** The bookings the load generator was answered 201 for. */
  bookedByClients?: string[];
  now: Date;
}

export const violationKinds = [
  'payment_lost',
  'paid_without_outcome',
  'paid_confirmed_and_refunded',
  'confirmed_without_payment',
  'double_confirmation',
  'meeting_missing',
  'double_meeting',
  'meeting_of_unconfirmed_booking',
  'double_refund',
  'booking_lost',
  'hold_not_released',
  'outbox_stale',
  'dead_letter_unexplained',
] as const;
export type ViolationKind = (typeof violationKinds)[number];

export interface Violation {
  kind: ViolationKind;
  subject: string;
  detail: string;
}

/** Not a violation of the saga (nobody is charged, booked or linked wrongly), but left behind at a provider. */
export interface Leak {
  kind: 'provider_meeting_leaked';
  subject: string;
  detail: string;
}

export interface CheckOptions {
  /** An outbox row older than this is a violation (the relay must have published it). */
  outboxMaxAgeMs?: number;
  /** A held booking this long past its hold's end is a violation (the sweep must have released it). */
  holdGraceMs?: number;
  /** Says why a dead letter is expected (a returned string), or undefined: unexplained. */
  explainDeadLetter?: (d: DeadLetter) => string | undefined;
}

export interface Figures {
  bookingsAttempted: number | undefined;
  bookings: number;
  confirmed: number;
  completed: number;
  cancelled: number;
  expired: number;
  held: number;
  invoicesPaid: number;
  refunds: number;
  meetingsActive: number;
  providerInvoicesSettled: number;
  providerInvoicesUnreferenced: number;
  providerMeetingsLeaked: number;
  outboxRows: number;
  deadLetters: number;
  deadLettersExplained: number;
}

export interface CheckResult {
  figures: Figures;
  violations: Violation[];
  leaks: Leak[];
}

const CONFIRMED = new Set(['confirmed', 'completed']);

export function checkInvariants(state: SystemState, options: CheckOptions = {}): CheckResult {
  const outboxMaxAgeMs = options.outboxMaxAgeMs ?? 60_000;
  const holdGraceMs = options.holdGraceMs ?? 60_000;
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, subject: string, detail: string) => violations.push({ kind, subject, detail });
  const groupBy = <T>(rows: T[], key: (r: T) => string) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
    return m;
  };

  const appointments = new Map(state.appointments.map((a) => [a.id, a]));
  const invoicesByProvider = groupBy(state.invoices, (i) => i.providerInvoiceId);
  const invoicesByAppointment = groupBy(state.invoices, (i) => i.appointmentId);
  const refundsByAppointment = groupBy(state.refunds, (r) => r.appointmentId);
  const refundsByInvoice = groupBy(state.refunds, (r) => r.invoiceId);
  const activeMeetings = state.meetings.filter((m) => m.status === 'active');
  const meetingsByAppointment = groupBy(activeMeetings, (m) => m.appointmentId);
  const isPaid = (i: InvoiceRow) => i.paidAt !== null || i.status === 'paid' || i.status === 'refund_due';

  // The provider took the money: the payment service must know it.
  for (const p of state.providerInvoices.filter((p) => p.status === 'settled')) {
    const ours = invoicesByProvider.get(p.id) ?? [];
    if (ours.length === 0) add('payment_lost', p.id, 'the provider settled an invoice no booking has');
    else if (!ours.some(isPaid)) add('payment_lost', p.id, `the provider settled it, payment still says ${ours.map((i) => i.status).join(',')}`);
  }

  // Every paid invoice: one confirmed booking with one meeting, or one refund.
  for (const inv of state.invoices.filter(isPaid)) {
    const booking = appointments.get(inv.appointmentId);
    const refunds = refundsByInvoice.get(inv.id) ?? [];
    const confirmed = booking !== undefined && CONFIRMED.has(booking.status);
    if (confirmed && refunds.length > 0) add('paid_confirmed_and_refunded', inv.appointmentId, `booking ${booking!.status} and ${refunds.length} refund(s)`);
    else if (!confirmed && refunds.length === 0) add('paid_without_outcome', inv.appointmentId, `paid, booking ${booking?.status ?? 'missing'}, no refund`);
  }

  // A booking may owe back in several refunds (money that came in after one was paid), never more
  // than all it received: sats owed back twice are a double refund.
  for (const [appointmentId, refunds] of refundsByAppointment) {
    const owed = refunds.reduce((sum, r) => sum + r.sats, 0);
    const received = (invoicesByAppointment.get(appointmentId) ?? []).reduce((sum, i) => sum + (i.paidSats ?? 0), 0);
    if (owed > received) add('double_refund', appointmentId, `${refunds.length} refund(s) of ${owed} sats, ${received} sats received`);
  }

  for (const a of state.appointments) {
    const invoices = invoicesByAppointment.get(a.id) ?? [];
    const meetings = meetingsByAppointment.get(a.id) ?? [];
    if (CONFIRMED.has(a.status)) {
      if (!invoices.some(isPaid)) add('confirmed_without_payment', a.id, `${a.status} with invoice(s) ${invoices.map((i) => i.status).join(',') || 'none'}`);
      if (meetings.length === 0 || !a.meetingJoinUrl) add('meeting_missing', a.id, `${a.status}, ${meetings.length} meeting(s), join url ${a.meetingJoinUrl ? 'set' : 'missing'}`);
    } else if (meetings.length > 0) {
      add('meeting_of_unconfirmed_booking', a.id, `${a.status} with an active meeting`);
    }
    if (meetings.length > 1) add('double_meeting', a.id, `${meetings.length} active meetings`);
    if (a.status === 'held' && a.holdExpiresAt.getTime() + holdGraceMs < state.now.getTime()) {
      add('hold_not_released', a.id, `held, hold ended ${a.holdExpiresAt.toISOString()}`);
    }
  }

  // One payment confirms one booking; one slot is confirmed once.
  const confirmedBookings = state.appointments.filter((a) => CONFIRMED.has(a.status));
  for (const [invoiceId, list] of groupBy(confirmedBookings.filter((a) => a.invoiceId), (a) => a.invoiceId!)) {
    if (list.length > 1) add('double_confirmation', invoiceId, `one invoice confirms ${list.length} bookings`);
  }
  for (const [slot, list] of groupBy(confirmedBookings, (a) => `${a.professionalId}@${a.startAt.toISOString()}`)) {
    if (list.length > 1) add('double_confirmation', slot, `${list.length} confirmed bookings of one slot`);
  }

  // A live meeting at the provider that no booking holds: made, then never recorded (video killed
  // between the provider's answer and its commit). Nobody has its link, so no patient sees two
  // meetings; it is a leak at the provider, reported apart from the violations.
  const known = new Set(activeMeetings.filter((m) => m.provider === 'zoom').map((m) => m.providerMeetingId));
  const leaks: Leak[] = state.providerMeetings.filter((m) => !known.has(m.id)).map((m) => ({ kind: 'provider_meeting_leaked', subject: `zoom:${m.id}`, detail: 'a live provider meeting no booking holds' }));

  if (state.bookedByClients) {
    for (const id of state.bookedByClients) if (!appointments.has(id)) add('booking_lost', id, 'answered 201 to the client, not in the database');
  }

  for (const row of state.outbox) {
    const age = state.now.getTime() - row.createdAt.getTime();
    if (age > outboxMaxAgeMs) add('outbox_stale', `${row.service}:${row.type}`, `unpublished for ${Math.round(age / 1000)} s`);
  }

  let explained = 0;
  for (const d of state.deadLetters) {
    const why = options.explainDeadLetter?.(d);
    if (why) explained++;
    else add('dead_letter_unexplained', `${d.topic}:${d.eventId}`, `${d.eventType} (${d.consumer}): ${d.error}`);
  }

  const count = (status: string) => state.appointments.filter((a) => a.status === status).length;
  const referenced = new Set(state.invoices.map((i) => i.providerInvoiceId));
  return {
    figures: {
      bookingsAttempted: state.bookedByClients?.length,
      bookings: state.appointments.length,
      confirmed: count('confirmed'),
      completed: count('completed'),
      cancelled: count('cancelled'),
      expired: count('expired'),
      held: count('held'),
      invoicesPaid: state.invoices.filter(isPaid).length,
      refunds: state.refunds.length,
      meetingsActive: activeMeetings.length,
      providerInvoicesSettled: state.providerInvoices.filter((p) => p.status === 'settled').length,
      providerInvoicesUnreferenced: state.providerInvoices.filter((p) => !referenced.has(p.id)).length,
      providerMeetingsLeaked: leaks.length,
      outboxRows: state.outbox.length,
      deadLetters: state.deadLetters.length,
      deadLettersExplained: explained,
    },
    violations,
    leaks,
  };
}

/** The schemas of one platform run (startPlatform's `schemas`). */
export interface RunSchemas {
  identity: string;
  search: string;
  appointment: string;
  payment: string;
  video: string;
}

/** Reads the databases' part of the state (every service's schema). */
export async function readDatabases(databaseUrl: string, schemas: RunSchemas) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const q = async <T>(sql: string) => (await pool.query(sql)).rows as T[];
    const appointments = await q<AppointmentRow>(
      `SELECT id, status, professional_id AS "professionalId", start_at AS "startAt", invoice_id AS "invoiceId", meeting_join_url AS "meetingJoinUrl", hold_expires_at AS "holdExpiresAt" FROM "${schemas.appointment}".appointments`,
    );
    const invoices = await q<InvoiceRow>(
      `SELECT id, appointment_id AS "appointmentId", provider_invoice_id AS "providerInvoiceId", status, paid_at AS "paidAt", paid_sats::float8 AS "paidSats" FROM "${schemas.payment}".invoices`,
    );
    const refunds = await q<RefundRow>(`SELECT id, invoice_id AS "invoiceId", appointment_id AS "appointmentId", sats::float8 AS sats FROM "${schemas.payment}".refunds`);
    const meetings = await q<MeetingRow>(`SELECT appointment_id AS "appointmentId", provider, provider_meeting_id AS "providerMeetingId", status FROM "${schemas.video}".meetings`);
    const outbox: OutboxRow[] = [];
    for (const [service, schema] of Object.entries(schemas)) {
      const exists = await q<{ t: string | null }>(`SELECT to_regclass('"${schema}".outbox')::text AS t`);
      if (!exists[0]?.t) continue;
      for (const r of await q<{ type: string; createdAt: Date }>(`SELECT type, created_at AS "createdAt" FROM "${schema}".outbox`)) outbox.push({ service, ...r });
    }
    const now = (await q<{ now: Date }>('SELECT now() AS now'))[0]!.now;
    return { appointments, invoices, refunds, meetings, outbox, now };
  } finally {
    await pool.end();
  }
}

/** Every message on the run's dead-letter topics (`<namespace><topic>.dlq`). */
export async function readDeadLetters(brokers: string[], namespace: string): Promise<DeadLetter[]> {
  const { Kafka, logLevel } = await kafkajs();
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'faults-checker', retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  let expected = 0;
  let topics: string[] = [];
  try {
    topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace) && t.endsWith('.dlq'));
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) expected += Number(p.high) - Number(p.low);
  } finally {
    await admin.disconnect();
  }
  if (expected === 0) return [];
  const letters: DeadLetter[] = [];
  const consumer = kafka.consumer({ groupId: `faults-checker-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let reached!: () => void;
    const all = new Promise<void>((r) => (reached = r));
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const h = (k: string) => message.headers?.[k]?.toString() ?? '';
        letters.push({ topic: topic.slice(namespace.length), eventType: h('event-type'), eventId: h('event-id'), error: h('dlq-error'), consumer: h('dlq-consumer') });
        if (letters.length >= expected) reached();
      },
    });
    await Promise.race([all, new Promise((r) => setTimeout(r, 30_000))]);
  } finally {
    await consumer.disconnect();
  }
  // Any not read within the time are still counted, as unexplained.
  for (let i = letters.length; i < expected; i++) letters.push({ topic: '?', eventType: '?', eventId: '?', error: 'not read within 30 s', consumer: '?' });
  return letters;
}

/** A two-column table of figures, as the suite and the command print it. */
export function formatTable(title: string, rows: Array<[string, string | number]>): string {
  const width = Math.max(...rows.map(([k]) => k.length), title.length);
  const valueWidth = Math.max(...rows.map(([, v]) => String(v).length));
  const line = `+-${'-'.repeat(width)}-+-${'-'.repeat(valueWidth)}-+`;
  return [line, `| ${title.padEnd(width)} | ${''.padEnd(valueWidth)} |`, line, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${String(v).padStart(valueWidth)} |`), line].join('\n');
}

export function figureRows(f: Figures): Array<[string, string | number]> {
  return [
    ['bookings attempted (answered 201)', f.bookingsAttempted ?? '-'],
    ['bookings in the database', f.bookings],
    ['confirmed', f.confirmed],
    ['completed', f.completed],
    ['cancelled', f.cancelled],
    ['expired (hold released)', f.expired],
    ['still held (hold not ended)', f.held],
    ['invoices paid', f.invoicesPaid],
    ['refunds', f.refunds],
    ['meetings (active)', f.meetingsActive],
    ['provider invoices settled', f.providerInvoicesSettled],
    ['provider invoices no booking holds (unpaid)', f.providerInvoicesUnreferenced],
    ['provider meetings no booking holds (leaked)', f.providerMeetingsLeaked],
    ['outbox rows left', f.outboxRows],
    ['dead letters (explained)', `${f.deadLetters} (${f.deadLettersExplained})`],
  ];
}
