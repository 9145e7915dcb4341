// The audit trail's one list: every kind of entry, who records it and how long it is kept
// (docs/compliance/audit.md explains the retention). Identity appends its own entries in the
// transaction of the change; every other service publishes `audit.recorded` through its outbox
// (libs/events `auditEvent`) and identity chains it.
//
// What an entry may hold: opaque ids (users, appointments, refunds…) and short codes (a role, a
// status). Never a secret, a token, an email, a name, health data or text a person typed:
// `auditEntryProblem` refuses anything else, in the recording service and again in identity.

const DAY = 1;
const YEAR = 365 * DAY;

export interface AuditKind {
  /** Days an entry is kept before its content is pruned (the chain stays verifiable). */
  retentionDays: number;
  /** The service that records it. */
  recordedBy: 'identity' | 'appointment' | 'payment' | 'search';
  description: string;
}

export const auditKinds = {
  'auth.signed_in': { retentionDays: 1 * YEAR, recordedBy: 'identity', description: 'a successful sign-in (subject: the user, object: the session)' },
  'auth.sign_in_failed': {
    retentionDays: 180 * DAY,
    recordedBy: 'identity',
    description: 'a failed sign-in; subject only when the email names an account (the email itself is never recorded)',
  },
  'auth.refresh_reused': {
    retentionDays: 2 * YEAR,
    recordedBy: 'identity',
    description: 'a refresh token presented again: its whole token family (object: the session) is revoked',
  },
  'auth.signed_out': { retentionDays: 1 * YEAR, recordedBy: 'identity', description: 'a session (object) ended by its user' },
  'auth.signed_out_everywhere': {
    retentionDays: 1 * YEAR,
    recordedBy: 'identity',
    description: 'every session of a user ended by the user (“sign out on all devices”; details: sessions ended)',
  },
  'account.registered': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'an account created (details: role, region)' },
  'account.erased': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'an account erased at its holder’s request (right to erasure)' },
  'account.exported': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'a person’s data exported to them (right of access)' },
  'account.email_verified': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'an account’s email address verified through its mailed link' },
  'account.password_reset': {
    retentionDays: 10 * YEAR,
    recordedBy: 'identity',
    description: 'a password set through a mailed reset link; every session of the account ended (details: sessions revoked)',
  },
  'account.password_changed': {
    retentionDays: 10 * YEAR,
    recordedBy: 'identity',
    description: 'a password changed by its signed-in holder; every other session ended (details: sessions revoked)',
  },
  'account.role_changed': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'an account’s role changed (details: from, to)' },
  'consent.granted': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'a consent given (details: document kind, version)' },
  'consent.withdrawn': { retentionDays: 10 * YEAR, recordedBy: 'identity', description: 'a consent withdrawn (details: document kind, version)' },
  'admin.audit_read': { retentionDays: 2 * YEAR, recordedBy: 'identity', description: 'an admin read the audit trail' },
  'professional.verified': {
    retentionDays: 10 * YEAR,
    recordedBy: 'search',
    description: 'an admin (actor) verified a professional (subject): listed in search from now',
  },
  'professional.rejected': {
    retentionDays: 10 * YEAR,
    recordedBy: 'search',
    description: 'an admin (actor) rejected a professional’s (subject) application; the reason stays with the profile, never in the trail (free text)',
  },
  'booking.read_by_professional': {
    retentionDays: 10 * YEAR,
    recordedBy: 'appointment',
    description: 'a professional (actor) read a patient’s (subject) booking (object), which reveals a consultation',
  },
  'booking.read_by_admin': { retentionDays: 10 * YEAR, recordedBy: 'appointment', description: 'an admin (actor) read a patient’s (subject) booking (object)' },
  'patient.names_read': {
    retentionDays: 10 * YEAR,
    recordedBy: 'identity',
    description: 'a professional or an admin (actor) read the names of the patients of a page of bookings (details: role, count); one entry per page',
  },
  'payment.refund_due': {
    retentionDays: 10 * YEAR,
    recordedBy: 'payment',
    description: 'a refund decided (object: the refund; details: cause code), e.g. a paid booking cancelled',
  },
  'payment.refund_destination_set': {
    retentionDays: 10 * YEAR,
    recordedBy: 'payment',
    description: 'a patient (subject) said where a refund (object) goes (details: the destination kind, never the destination)',
  },
  'payment.refund_paid': { retentionDays: 10 * YEAR, recordedBy: 'payment', description: 'a refund paid out (object: the refund)' },
  'audit.pruned': {
    retentionDays: Number.POSITIVE_INFINITY,
    recordedBy: 'identity',
    description: 'anchor: entries up to a sequence number were deleted by the retention job; records the hash of the last one so the chain stays verifiable',
  },
} as const satisfies Record<string, AuditKind>;

export type AuditKindName = keyof typeof auditKinds;

export function isAuditKind(kind: string): kind is AuditKindName {
  return Object.prototype.hasOwnProperty.call(auditKinds, kind);
}

/** What one entry says; ids are opaque (UUIDs), details short codes. */
export interface AuditFields {
  actorId?: string | null;
  subjectId?: string | null;
  objectId?: string | null;
  details?: Record<string, string>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A code, not prose: letters, digits and . _ : - only, at most 64 characters. */
const CODE = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_DETAILS = 8;

/** Why an entry must not be recorded, or undefined when it may. */
export function auditEntryProblem(kind: string, fields: AuditFields): string | undefined {
  if (!isAuditKind(kind)) return `unknown audit kind "${kind}"`;
  for (const [name, value] of [
    ['actorId', fields.actorId],
    ['subjectId', fields.subjectId],
    ['objectId', fields.objectId],
  ] as const) {
    if (value != null && value !== '' && !UUID.test(value)) return `${name} must be a lower-case UUID`;
  }
  const details = Object.entries(fields.details ?? {});
  if (details.length > MAX_DETAILS) return `at most ${MAX_DETAILS} details`;
  for (const [key, value] of details) {
    if (!CODE.test(key) || !CODE.test(value)) return `detail "${key.slice(0, 64)}" must be a short code (letters, digits, . _ : -), never free text`;
  }
  return undefined;
}
