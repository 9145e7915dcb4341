/** The public API of the gateway (ARCHITECTURE section 13), called on the same origin. */

export interface Money { amount: string; currency: string }
export interface User { id: string; email: string; role: string; displayName: string }
export interface Session { user: User; accessToken: string; refreshToken: string }
export interface CodeName { code: string; name: string }
export interface Professional {
  id: string;
  displayName: string;
  specialties: string[];
  languages: string[];
  country: string;
  city: string;
  price: Money | null;
  consultationMinutes: number;
  timeZone: string;
  nextAvailableAt: string | null;
}
export interface Slot { start: string; end: string }
export interface Slots { timeZone: string | null; items: Slot[] }
export interface Appointment {
  id: string;
  professionalId: string;
  start: string;
  end: string;
  status: string;
  meeting: { joinUrl: string } | null;
}
export interface Invoice {
  id: string;
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

export async function call<T>(method: string, path: string, options: { body?: unknown; token?: string | null; idempotencyKey?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
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

export function formatMoney(money: Money | null | undefined): string {
  if (!money) return '—';
  const value = Number(money.amount);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: money.currency }).format(value);
  } catch {
    return `${money.amount} ${money.currency}`;
  }
}

export function formatInstant(iso: string, timeZone: string | null | undefined, withDate = true): string {
  const options: Intl.DateTimeFormatOptions = withDate
    ? { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' };
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: timeZone || undefined }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
  }
}

export function formatDay(iso: string, timeZone: string | null | undefined): string {
  const options: Intl.DateTimeFormatOptions = { weekday: 'long', day: 'numeric', month: 'long' };
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: timeZone || undefined }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
  }
}

export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}
