/** The public API of the gateway (ARCHITECTURE section 13), called on the same origin. */

export interface Money { amount: string; currency: string }
export type Role = 'patient' | 'professional' | 'admin';
export interface User { id: string; email: string; role: Role; displayName: string; emailVerified?: boolean }
/** What sign-up, sign-in and refresh answer. The refresh token also comes as an httpOnly cookie, which is what the page uses. */
export interface Session { user: User; accessToken: string; refreshToken?: string; expiresIn?: number }
export interface CodeName { code: string; name: string }
export interface Professional {
  id: string;
  displayName: string;
  specialties: string[];
  /** The specialties named in the language asked for (Accept-Language). */
  specialtyNames?: string[];
  languages: string[];
  country: string;
  city: string;
  price: Money | null;
  consultationMinutes: number;
  timeZone: string;
  bio?: string;
  verified?: boolean;
  latitude?: number;
  longitude?: number;
  nextAvailableAt: string | null;
  distanceKm?: number;
  /** The admins' review (my own profile, the admins' views): a rejection's reason and time. */
  review?: { state: 'pending' | 'verified' | 'rejected'; reason: string | null; at: string | null };
}
export interface Slot { start: string; end: string }
export interface Slots { timeZone: string | null; items: Slot[] }
export interface Appointment {
  id: string;
  patientId?: string;
  professionalId: string;
  start: string;
  end: string;
  status: string;
  /** provider: 'zoom' or 'jitsi'. */
  meeting: { joinUrl: string; provider?: string } | null;
  price?: Money | null;
  cancelReason?: string | null;
  /** The professional's calendar (and admins) only: the patient's name; null once they erased their account. */
  patientName?: string | null;
}
export interface Refund {
  id: string;
  sats: number;
  reason: string;
  status: string;
  createdAt: string;
  destinationKind: string | null;
  destination: string | null;
  paidAt: string | null;
  txReference: string | null;
  /** Paid out through the provider (BTCPay): where the patient claims it while it is `sent`. */
  claimLink?: string | null;
}
/** GET /v1/appointments/{id}: the refund is absent for the professional. */
/** The booking invoice ended under-paid while held: what was paid of the price, and the second invoice for the rest. */
export interface TopUp { invoice: Invoice; price: Money; paid: Money; rest: Money }
export interface BookingDetail { appointment: Appointment; invoice: Invoice | null; topUp?: TopUp | null; refund?: Refund | null }
export interface Page<T> { items: T[]; nextCursor: string | null }
export interface Invoice {
  id: string;
  /** open, paid, expired, refund_due */
  status?: string;
  amount: Money | null;
  sats: number;
  lightningInvoice: string;
  paymentUri: string;
  qrSvg: string | null;
  checkoutUrl: string;
  expiresAt: string;
}
/** `invoice` is null while the payment provider is unreachable: it comes later on the event stream. */
export interface Booking { appointment: Appointment; invoice: Invoice | null; invoicePending?: boolean }

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The page's language, sent as Accept-Language (reference data and messages in it); set by i18n.ts. */
let language = 'en';
export function setApiLanguage(lang: string): void {
  language = lang;
}

export async function call<T>(method: string, path: string, options: { body?: unknown; token?: string | null; idempotencyKey?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'accept-language': language };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    // Same origin: the refresh cookie goes along to /v1/auth (and nowhere else: its path).
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The service cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const error = json?.error;
    throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? `The request failed (HTTP ${res.status}).`);
  }
  return json as T;
}

/** Answers worth asking again with the same Idempotency-Key: the service was busy or did not answer in time. */
export function isRetryable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 0 || err.status === 503 || err.status === 504);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * POST /v1/appointments, asked again (up to `retries` more times, 1 s, 2 s, 4 s apart) when the
 * service is busy, times out or cannot be reached. Every attempt carries the same Idempotency-Key,
 * so a booking made by an attempt whose answer was lost comes back instead of a second one (or
 * of a "slot taken" caused by our own hold).
 */
export async function bookAppointment(
  token: string,
  body: { professionalId: string; start: string },
  idempotencyKey: string,
  options: { retries?: number; baseDelayMs?: number; onRetry?: (attempt: number, err: ApiError) => void } = {},
): Promise<Booking> {
  const retries = options.retries ?? 3;
  const base = options.baseDelayMs ?? 1_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call<Booking>('POST', '/v1/appointments', { token, body, idempotencyKey });
    } catch (err) {
      if (!isRetryable(err) || attempt >= retries) throw err;
      options.onRetry?.(attempt + 1, err as ApiError);
      await sleep(base * 2 ** attempt * (0.75 + Math.random() / 2));
    }
  }
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}
