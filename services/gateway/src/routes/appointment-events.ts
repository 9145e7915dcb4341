import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { appointment, payment } from '@cryptocare/contracts';
import { AppError, GrpcStatus, type Principal } from '@cryptocare/platform';
import type { Backends } from '../clients';
import { presentAppointment, presentInvoice } from '../presenters';
import { principalOf, type Authenticator } from '../auth';
import { HttpError } from '../http-errors';
import { parseLastEventId, streamEventId, streamEventNames, type AppointmentStream, type StreamEvent, type StreamEventName } from '../sse/appointment-stream';
import { SseResponse, streamFailureOf } from '../sse/sse-response';
import { SnapshotGate, type SnapshotGateLimits } from '../sse/snapshot-gate';
import { StreamTickets } from '../sse/stream-ticket';
import { bearer, errorResponses, IdParams } from './schemas';

export interface AppointmentEventDeps {
  backends: Backends;
  auth: Authenticator;
  stream: AppointmentStream;
  /** HMAC key of stream tickets, shared by every replica (STREAM_TICKET_SECRET); random per process without it. */
  streamTicketSecret?: string;
  /** How many streams read their snapshot at once, and how many may wait (defaults in snapshot-gate.ts). */
  streamSnapshotLimits?: SnapshotGateLimits;
}

const EventsQuery = Type.Object({
  /** From POST /v1/appointments/{id}/stream-ticket, for EventSource (which cannot set headers). */
  ticket: Type.Optional(Type.String({ maxLength: 1000 })),
  /** Same as the Last-Event-ID header, for a client that opens a new EventSource to resume. */
  lastEventId: Type.Optional(Type.String({ maxLength: 20 })),
});
type EventsQuery = Static<typeof EventsQuery>;

const TicketBody = Type.Object({ ticket: Type.String(), expiresAt: Type.String({ format: 'date-time' }) });

/** Deadlines of the lookups made before a stream opens: a slow backend is a 504, not a mute stream. */
const APPOINTMENT_DEADLINE_MS = 1_500;
const INVOICE_DEADLINE_MS = 1_000;

const caller = (p: Principal): appointment.Caller => ({ userId: p.userId, role: p.role });

/** The invoice of a booking, or undefined when it has none yet. */
async function invoiceOf(backends: Backends, appointmentId: string): Promise<payment.Invoice | undefined> {
  try {
    return (await backends.payment.getInvoice({ appointmentId }, { deadlineMs: INVOICE_DEADLINE_MS })).invoice;
  } catch (err) {
    if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) return undefined;
    throw err;
  }
}

type Frame = { name: StreamEventName; data: Record<string, unknown> };

/**
 * What already happened to the booking, as the frames a client would have seen, from the one after
 * `after` on. Refuses (404) a booking the caller is not a party of. Throws when a lookup fails:
 * the caller answers that with an HTTP error before any stream is open.
 */
async function snapshot(backends: Backends, id: string, who: appointment.Caller, after: number): Promise<Frame[]> {
  // Both lookups at once; the invoice is only needed if the client has not seen it yet.
  const invoiceLookup = after < streamEventId('invoice_ready') ? invoiceOf(backends, id) : Promise.resolve(undefined);
  invoiceLookup.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const { appointment: a } = await backends.appointment.getAppointment({ appointmentId: id, caller: who }, { deadlineMs: APPOINTMENT_DEADLINE_MS });
  const invoice = await invoiceLookup;
  const out: Frame[] = [];
  if (invoice) out.push({ name: 'invoice_ready', data: { invoice: await presentInvoice(invoice) } });
  const status = presentAppointment(a!).status;
  if (status === 'confirmed' || status === 'completed' || status === 'no_show') out.push({ name: 'confirmed', data: {} });
  if (a!.meeting?.joinUrl) out.push({ name: 'meeting_ready', data: { joinUrl: a!.meeting.joinUrl, provider: a!.meeting.provider } });
  if (status === 'expired') out.push({ name: 'expired', data: {} });
  if (status === 'cancelled') out.push({ name: 'cancelled', data: { reason: a!.cancelReason } });
  return out.filter((f) => streamEventId(f.name) > after);
}

/**
 * `GET /v1/appointments/{id}/events` (server-sent events of one booking) and the stream tickets
 * that let a browser's EventSource open it without putting an access token in the URL.
 */
export function appointmentEventRoutes(app: FastifyInstance, deps: AppointmentEventDeps) {
  const { backends, auth, stream } = deps;
  const tickets = new StreamTickets(deps.streamTicketSecret);
  const gate = new SnapshotGate(deps.streamSnapshotLimits);
  if (!deps.streamTicketSecret) app.log.warn('STREAM_TICKET_SECRET is not set: stream tickets are signed with a per-process key (one replica only)');

  /** The stream's own guard: `Authorization: Bearer <access token>` or `?ticket=` for this booking. */
  const bearerOrTicket = async (request: FastifyRequest<{ Params: IdParams; Querystring: EventsQuery }>, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      request.principal = await auth.principalOf(header.slice(7));
    } else if (request.query.ticket) {
      // A ticket outlives nothing: signing out or erasure ends it with the token it came from.
      request.principal = await auth.unlessRevoked(tickets.verify(request.query.ticket, request.params.id));
    } else {
      throw new HttpError(401, 'UNAUTHENTICATED', 'an access token (Authorization: Bearer) or a stream ticket (?ticket=) is required');
    }
  };

  app.post<{ Params: IdParams }>(
    '/v1/appointments/:id/stream-ticket',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'issueStreamTicket',
        summary: 'A short-lived ticket (60 s) that opens this booking\'s event stream: GET /v1/appointments/{id}/events?ticket=…',
        security: bearer,
        params: IdParams,
        response: { 200: TicketBody, ...errorResponses },
      },
      preHandler: auth.requireRole('patient', 'professional', 'admin'),
    },
    async (request) => {
      const me = principalOf(request);
      // Only a party of the booking gets a ticket for it (404 otherwise, as for the booking itself).
      await backends.appointment.getAppointment({ appointmentId: request.params.id, caller: caller(me) }, { deadlineMs: APPOINTMENT_DEADLINE_MS });
      return tickets.issue(me, request.params.id);
    },
  );

  app.get<{ Params: IdParams; Querystring: EventsQuery }>(
    '/v1/appointments/:id/events',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'streamAppointmentEvents',
        summary: 'Server-sent events of one booking: invoice_ready, payment_seen, confirmed, meeting_ready, expired, cancelled',
        description:
          'Authorization: Bearer, or ?ticket= from POST /v1/appointments/{id}/stream-ticket. Each event has an `id:` (its place in saga order, 1…6); ' +
          'a reconnect with Last-Event-ID (or ?lastEventId=) gets only what came after. The first events are what already happened. ' +
          'If that cannot be read the answer is an HTTP error (503/504 with an error body), never a silent stream; a failure once the stream is open ' +
          'is told as `event: error` with {code, message, retryable} and the stream ends.',
        security: bearer,
        params: IdParams,
        querystring: EventsQuery,
        response: {
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: Type.String({ description: 'server-sent events (id, event, data: JSON)' }) } } },
          ...errorResponses,
        },
      },
      // A stream lasts minutes: it would hold an in-flight slot all along (overload.ts).
      config: { shed: 'event-loop-only' },
      preHandler: bearerOrTicket,
    },
    async (request, reply) => {
      const who = caller(principalOf(request));
      const id = request.params.id;
      const header = request.headers['last-event-id'];
      const after = parseLastEventId(typeof header === 'string' ? header : request.query.lastEventId);

      // Listen first, then read the current state, so nothing falls between the two.
      const early: StreamEvent[] = [];
      let onEvent: (event: StreamEvent) => void = (event) => void early.push(event);
      const unlisten = stream.listen(id, (event) => onEvent(event));
      let frames: Frame[] | undefined;
      try {
        // Skipped when the client left while waiting for its turn.
        frames = await gate.run(async () => (request.raw.destroyed ? undefined : snapshot(backends, id, who, after)));
      } catch (err) {
        unlisten();
        if (err instanceof HttpError && err.statusCode === 503) reply.header('retry-after', '2');
        throw err; // 404, 503 or 504 with its error body: the stream never opened
      }
      if (!frames || request.raw.destroyed) {
        unlisten(); // the client left while we looked
        return reply.hijack();
      }

      reply.hijack();
      const sse = new SseResponse(reply.raw, reply.getHeaders());
      sse.whenClosed(unlisten);
      let last = after;
      const send = (frame: Frame) => {
        const n = streamEventId(frame.name);
        // Increasing ids only: an event the client has (or a stale one arriving late) is skipped.
        if (n <= last || !sse.isOpen) return;
        last = n;
        sse.send(n, frame.name, { appointmentId: id, ...frame.data });
      };
      for (const frame of frames) send(frame);

      // Live events, one at a time: invoice_ready reads the invoice it announces.
      let queue = Promise.resolve();
      const deliver = (event: StreamEvent) => {
        queue = queue
          .then(async () => {
            if (!sse.isOpen || streamEventId(event.name) <= last) return;
            if (event.name !== 'invoice_ready') return send({ name: event.name, data: event.data });
            const invoice = await invoiceOf(backends, id);
            if (!invoice) throw new AppError(GrpcStatus.UNAVAILABLE, 'INVOICE_NOT_READABLE', 'the invoice was announced but cannot be read yet');
            send({ name: 'invoice_ready', data: { invoice: await presentInvoice(invoice) } });
          })
          .catch((err) => {
            request.log.warn({ err, appointmentId: id }, 'SSE event could not be sent; the stream ends with an error event');
            sse.fail(streamFailureOf(err));
          });
      };
      early.sort((a, b) => streamEventNames.indexOf(a.name) - streamEventNames.indexOf(b.name)).forEach(deliver);
      onEvent = deliver;
    },
  );
}
