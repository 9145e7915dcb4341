import { randomUUID } from 'node:crypto';
import type { Pool } from 'undici';
import type { AccountPool } from './accounts';
import { EventStream, type GatewayClient } from './gateway-client';
import type { PhaseStats } from './route-stats';

/** What the load generator knows of the directory it searches: drawn from the API at the start. */
export interface DirectorySample {
  professionalIds: string[];
  specialties: string[];
  countries: string[];
  places: Array<{ city: string; latitude: number; longitude: number }>;
}

export interface JourneyContext {
  gateway: GatewayClient;
  /** A pool of its own for the bookings' event streams (each holds a connection for seconds). */
  streams: Pool;
  accounts: AccountPool;
  directory: DirectorySample;
  phase: () => PhaseStats;
  /** Share of journeys that end in a booking paid at once. */
  bookingShare: number;
  /** Mean pause between two actions of one user. */
  thinkMs: number;
  /** False once the phase is over: the user stops at the next pause. */
  running: () => boolean;
}

export const routes = {
  search: 'GET /v1/professionals (search)',
  profile: 'GET /v1/professionals/{id}',
  slots: 'GET /v1/professionals/{id}/slots',
  myBookings: 'GET /v1/appointments (my bookings)',
  book: 'POST /v1/appointments (booking + QR)',
  paidToConfirmed: 'payment → confirmed (event)',
  confirmedToLink: 'confirmed → meeting link (event)',
} as const;

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Think time: uniform between half and one and a half times the mean (people pause, not clocks). */
const think = (ctx: JourneyContext) => new Promise((r) => setTimeout(r, ctx.thinkMs * (0.5 + Math.random())));

/** The end of the day `days` from today (UTC here), as an instant. */
const endOfDay = (days: number) => `${new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10)}T23:59:59.000Z`;

/** A search as people make them: one to three filters among specialty, place, language, price, date. */
export function searchQuery(directory: DirectorySample): string {
  const params = new URLSearchParams();
  params.set('specialty', pick(directory.specialties));
  const shape = Math.random();
  if (shape < 0.35) params.set('country', pick(directory.countries));
  else if (shape < 0.6) {
    const place = pick(directory.places);
    params.set('lat', place.latitude.toFixed(4));
    params.set('lng', place.longitude.toFixed(4));
    params.set('radiusKm', String(pick([10, 25, 50])));
  } else if (shape < 0.75) params.set('q', pick(directory.places).city);
  if (Math.random() < 0.3) params.set('language', pick(['fr', 'de', 'it', 'en']));
  if (Math.random() < 0.2) params.set('maxPrice', String(pick([80, 120, 200])));
  // As the web client asks it (web/src/pages/Home.tsx): free before the end of a day the person picks.
  if (Math.random() < 0.2) params.set('availableBefore', endOfDay(pick([3, 7, 14])));
  return params.toString();
}

/**
 * The read mix without pauses: a search, a profile, a slot listing in turn (the professionals taken
 * one after another from the sample), as many as the stack answers. `searchFor(i)` is the i-th
 * search's query string.
 */
export function readMix(gateway: GatewayClient, directory: DirectorySample, searchFor: (i: number) => string): () => Promise<boolean> {
  let i = 0;
  return async () => {
    const id = directory.professionalIds[i++ % directory.professionalIds.length]!;
    const step = i % 3;
    const answer =
      step === 0
        ? await gateway.call(routes.search, 'GET', `/v1/professionals?${searchFor(i)}`)
        : step === 1
          ? await gateway.call(routes.profile, 'GET', `/v1/professionals/${id}`)
          : await gateway.call(routes.slots, 'GET', `/v1/professionals/${id}/slots`);
    return answer.status === 200;
  };
}

/**
 * One visit of a patient: search, open a profile, look at its slots, sometimes look at their bookings,
 * sometimes book and pay at once (the booking's stream tells when it is confirmed and has its link).
 */
export async function patientVisit(ctx: JourneyContext): Promise<void> {
  const { gateway } = ctx;
  const found = await gateway.call(routes.search, 'GET', `/v1/professionals?${searchQuery(ctx.directory)}`);
  const listed = (found.body?.items ?? []) as Array<{ id: string }>;
  await think(ctx);
  if (!ctx.running()) return;

  const professionalId = listed.length > 0 ? pick(listed).id : pick(ctx.directory.professionalIds);
  await gateway.call(routes.profile, 'GET', `/v1/professionals/${professionalId}`);
  await think(ctx);
  if (!ctx.running()) return;

  const slots = await gateway.call(routes.slots, 'GET', `/v1/professionals/${professionalId}/slots`);
  await think(ctx);
  if (!ctx.running()) return;

  const account = ctx.accounts.pick();
  if (Math.random() < 0.3) {
    await ctx.accounts.authorised(account, (token) => gateway.call(routes.myBookings, 'GET', '/v1/appointments?limit=20', { token }));
    await think(ctx);
    if (!ctx.running()) return;
  }

  const free = (slots.body?.items ?? []) as Array<{ start: string }>;
  if (free.length > 0 && Math.random() < ctx.bookingShare) {
    await bookAndPay(ctx, account, professionalId, pick(free.slice(0, 20)).start);
    await think(ctx);
  }
}

async function bookAndPay(ctx: JourneyContext, account: number, professionalId: string, start: string) {
  const booked = await ctx.accounts.authorised(account, (token) =>
    ctx.gateway.call(routes.book, 'POST', '/v1/appointments', { token, body: { professionalId, start }, headers: { 'idempotency-key': randomUUID() } }),
  );
  // 409: another user took the slot an instant before; a person would pick another one.
  if (booked.status !== 201) return;
  const stream = new EventStream(ctx.streams, `/v1/appointments/${booked.body.appointment.id}/events`, ctx.accounts.token(account));
  const phase = ctx.phase();
  try {
    const checkoutUrl = (booked.body.invoice?.checkoutUrl as string | undefined) ?? (await invoiceLater(ctx, account, booked.body.appointment.id, stream));
    const paidAt = performance.now();
    const pay = await fetch(`${checkoutUrl}/pay`, { method: 'POST' });
    if (!pay.ok) throw new Error(`paying answered ${pay.status}`);
    const confirmedAt = await stream.until('confirmed', 30_000);
    phase.route(routes.paidToConfirmed).record(confirmedAt - paidAt, 200);
    const linkedAt = await stream.until('meeting_ready', 30_000);
    phase.route(routes.confirmedToLink).record(linkedAt - confirmedAt, 200);
  } catch {
    phase.route(routes.paidToConfirmed).failures++;
  } finally {
    stream.close();
  }
}

/** The invoice was pending at booking time: it comes on the stream, then from the booking. */
async function invoiceLater(ctx: JourneyContext, account: number, appointmentId: string, stream: EventStream): Promise<string> {
  await stream.until('invoice_ready', 30_000);
  const again = await ctx.accounts.authorised(account, (token) => ctx.gateway.call('GET /v1/appointments/{id}', 'GET', `/v1/appointments/${appointmentId}`, { token }));
  const url = again.body?.invoice?.checkoutUrl as string | undefined;
  if (!url) throw new Error('no invoice after invoice_ready');
  return url;
}
