import type { FastifyBaseLogger } from 'fastify';
import type { Principal } from '@cryptocare/platform';
import type { Backends } from './clients';

/** The id appointment puts in place of a patient who erased their account. */
export const ERASED_PATIENT = '00000000-0000-0000-0000-000000000000';

/**
 * The names of the patients of a professional's calendar page (or of an admin's list).
 *
 * appointment holds only ids; identity holds names. Rather than copying names into appointment
 * (a second copy of personal data to keep up to date and to erase), the gateway asks identity for
 * the page's patients in ONE batched call (GetDisplayNames, at most 100 ids: a page's worth),
 * which checks the caller's role again and records the read (patient.names_read, one entry per
 * page). Not cached: every read of names is recorded, and an erasure shows at once.
 *
 * Answers `undefined` when no name is to be shown (a patient's own list; identity unreachable: the
 * calendar stays usable without names, and the client says "Patient"); otherwise a map in which an
 * erased, unknown or not-a-patient id is absent (shown as an erased patient, `patientName: null`).
 */
export async function patientNamesFor(
  backends: Backends,
  me: Principal,
  bookings: Array<{ patientId: string; professionalId: string }>,
  log: FastifyBaseLogger,
): Promise<Map<string, string> | undefined> {
  if (me.role !== 'professional' && me.role !== 'admin') return undefined;
  // A professional gets the names of their own bookings' patients only (appointment lists only
  // those; checked again here so a mistake there discloses no name).
  const ids = [...new Set(bookings.filter((b) => me.role === 'admin' || b.professionalId === me.userId).map((b) => b.patientId))].filter((id) => id !== ERASED_PATIENT);
  if (ids.length === 0) return new Map();
  try {
    const { names } = await backends.identity.getDisplayNames({ callerId: me.userId, userIds: ids }, { deadlineMs: 800 });
    return new Map(Object.entries(names));
  } catch (err) {
    log.warn({ err }, 'patient names unavailable');
    return undefined;
  }
}

/** `patientName` for one booking: its patient's name, null when erased; absent when not shown. */
export function withPatientName<T extends { patientId: string; professionalId: string }>(booking: T, names: Map<string, string> | undefined, me: Principal): T & { patientName?: string | null } {
  if (!names || (me.role === 'professional' && booking.professionalId !== me.userId)) return booking;
  return { ...booking, patientName: names.get(booking.patientId) ?? null };
}
