import QRCode from 'qrcode';
import { LRUCache } from 'lru-cache';
import { appointment, common, identity, payment, search } from '@cryptocare/contracts';
import type { Language } from './i18n/language';
import { specialtyName } from './i18n/reference-labels';

/** Proto messages → the public JSON of ARCHITECTURE section 13. */

const roles: Record<number, string> = {
  [identity.Role.ROLE_PATIENT]: 'patient',
  [identity.Role.ROLE_PROFESSIONAL]: 'professional',
  [identity.Role.ROLE_ADMIN]: 'admin',
};
const regions: Record<number, string> = { [common.Region.REGION_CH]: 'CH', [common.Region.REGION_EU]: 'EU' };

export function presentUser(user: identity.User | undefined) {
  if (!user) return null;
  return { id: user.id, email: user.email, role: roles[user.role] ?? 'unknown', displayName: user.displayName, region: regions[user.region] ?? null, createdAt: user.createdAt, emailVerified: user.emailVerified };
}

const statuses: Record<number, string> = {
  [appointment.AppointmentStatus.APPOINTMENT_STATUS_HELD]: 'held',
  [appointment.AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED]: 'confirmed',
  [appointment.AppointmentStatus.APPOINTMENT_STATUS_COMPLETED]: 'completed',
  [appointment.AppointmentStatus.APPOINTMENT_STATUS_CANCELLED]: 'cancelled',
  [appointment.AppointmentStatus.APPOINTMENT_STATUS_EXPIRED]: 'expired',
  [appointment.AppointmentStatus.APPOINTMENT_STATUS_NO_SHOW]: 'no_show',
};

export function presentAppointment(a: appointment.Appointment) {
  return {
    id: a.id,
    patientId: a.patientId,
    professionalId: a.professionalId,
    start: a.startAt,
    end: a.endAt,
    status: statuses[a.status] ?? 'unknown',
    holdExpiresAt: a.holdExpiresAt || null,
    price: a.price ?? null,
    meeting: a.meeting?.joinUrl ? { joinUrl: a.meeting.joinUrl, provider: a.meeting.provider, password: a.meeting.password || null } : null,
    cancelReason: a.cancelReason || null,
    /** no_show only: "patient", "professional" or "both" (who never joined the meeting). */
    noShowBy: a.noShowBy || null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

const invoiceStatuses: Record<number, string> = {
  [payment.InvoiceStatus.INVOICE_STATUS_OPEN]: 'open',
  [payment.InvoiceStatus.INVOICE_STATUS_PAID]: 'paid',
  [payment.InvoiceStatus.INVOICE_STATUS_EXPIRED]: 'expired',
  [payment.InvoiceStatus.INVOICE_STATUS_REFUND_DUE]: 'refund_due',
};

/**
 * The QR codes of the payment URIs shown last. One costs about 2.4 ms of CPU, and a booking shows its
 * invoice up to three times within seconds (the booking's answer, its page, its event stream; more
 * with reconnects, tabs, both parties). A URI's code never changes, so it is made once.
 */
const qrCodes = new LRUCache<string, Promise<string>>({ max: 1_000 });

/** The QR code (SVG) of a payment URI, made once while it is among the last ones shown. */
export function qrSvgOf(paymentUri: string): Promise<string> {
  let svg = qrCodes.get(paymentUri);
  if (!svg) {
    svg = QRCode.toString(paymentUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    svg.catch(() => qrCodes.delete(paymentUri));
    qrCodes.set(paymentUri, svg);
  }
  return svg;
}

export async function presentInvoice(invoice: payment.Invoice | undefined, options: { qrCode: boolean } = { qrCode: true }) {
  if (!invoice) return null;
  return {
    id: invoice.id,
    status: invoiceStatuses[invoice.status] ?? 'unknown',
    amount: invoice.amount ?? null,
    sats: invoice.sats,
    lightningInvoice: invoice.lightningInvoice,
    onchainAddress: invoice.onchainAddress || null,
    paymentUri: invoice.paymentUri,
    // The QR code of the BIP21/lightning URI, ready to show (SLO: under 2 s from booking).
    qrSvg: invoice.paymentUri && options.qrCode ? await qrSvgOf(invoice.paymentUri) : null,
    checkoutUrl: invoice.checkoutUrl,
    expiresAt: invoice.expiresAt,
    provider: invoice.provider,
  };
}

/** A profile, its specialties named in `language` too (the codes stay the data). */
export function presentProfile(p: search.Profile, language: Language = 'en') {
  return {
    id: p.id,
    displayName: p.displayName,
    specialties: p.specialties,
    specialtyNames: p.specialties.map((code) => specialtyName(code, language)),
    languages: p.languages,
    country: p.country,
    city: p.city,
    latitude: p.latitude,
    longitude: p.longitude,
    price: p.price ?? null,
    consultationMinutes: p.consultationMinutes,
    timeZone: p.timeZone,
    bio: p.bio,
    verified: p.verified,
    nextAvailableAt: p.nextAvailableAt || null,
    ...(p.distanceKm !== undefined ? { distanceKm: Math.round(p.distanceKm * 10) / 10 } : {}),
  };
}

const reviewStates = ['pending', 'verified', 'rejected'] as const;

/**
 * A profile with where the admins' review stands (the professional's own view and the admins'):
 * a rejection's reason and time. Never on the public reads, which show verified profiles only.
 */
export function presentReviewedProfile(p: search.Profile, language: Language = 'en') {
  const state = reviewStates.find((s) => s === p.review?.state) ?? (p.verified ? 'verified' : 'pending');
  const rejected = state === 'rejected';
  return {
    ...presentProfile(p, language),
    review: { state, reason: rejected ? p.review?.reason || null : null, at: rejected ? p.review?.decidedAt || null : null },
  };
}
