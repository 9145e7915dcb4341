import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { AppError, GrpcStatus, type Principal } from '@cryptocare/platform';
import type { Backends } from '../clients';
import { presentAppointment, presentInvoice } from '../presenters';
import { principalOf, type Authenticator } from '../auth';
import { HttpError } from '../http-errors';
import { bearer, errorResponses, IdParams, Uuid } from './schemas';
import { requireBookingConsents } from './consents';

const BookBody = Type.Object({ professionalId: Uuid, start: Type.String({ format: 'date-time' }) }, { additionalProperties: false });
const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), cursor: Type.Optional(Type.String({ maxLength: 300 })) });
const CancelBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });

const caller = (p: Principal) => ({ userId: p.userId, role: p.role });

/** The invoice of a booking, or null when there is none yet (provider down: it comes on SSE). */
async function invoiceOf(backends: Backends, appointmentId: string) {
  try {
    return (await backends.payment.getInvoice({ appointmentId }, { deadlineMs: 800 })).invoice;
  } catch (err) {
    if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) return undefined;
    throw err;
  }
}

export function appointmentRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const party = auth.requireRole('patient', 'professional', 'admin');

  app.post<{ Body: Static<typeof BookBody> }>(
    '/v1/appointments',
    {
      schema: { tags: ['appointments'], summary: 'Book a slot: the booking is held until its invoice is paid', security: bearer, body: BookBody, response: { ...errorResponses } },
      preHandler: auth.requireRole('patient'),
    },
    async (request, reply) => {
      const me = principalOf(request);
      await requireBookingConsents(backends, me.userId);
      const key = request.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' ? key.slice(0, 200) : '';
      const start = new Date(request.body.start).toISOString();
      const { appointment: held } = await backends.appointment.book(
        { patientId: me.userId, professionalId: request.body.professionalId, startAt: start, idempotencyKey },
        { deadlineMs: 1_500 },
      );
      if (idempotencyKey && (held!.professionalId !== request.body.professionalId || held!.startAt !== start)) {
        throw new HttpError(409, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for another booking');
      }
      let invoice: Awaited<ReturnType<typeof presentInvoice>> = null;
      try {
        const res = await backends.payment.createInvoice(
          { appointmentId: held!.id, patientId: me.userId, price: held!.price, holdExpiresAt: held!.holdExpiresAt },
          { deadlineMs: 1_500 },
        );
        invoice = await presentInvoice(res.invoice);
      } catch (err) {
        // The booking stands; payment creates the invoice from `appointment.held` and the client
        // hears `invoice_ready` on the booking's event stream.
        request.log.warn({ err, appointmentId: held!.id }, 'invoice not created at booking time');
      }
      return reply.status(201).send({ appointment: presentAppointment(held!), invoice, invoicePending: invoice === null });
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/appointments',
    { schema: { tags: ['appointments'], summary: 'My bookings (patient) or my calendar (professional)', security: bearer, querystring: ListQuery, response: { ...errorResponses } }, preHandler: party },
    async (request) => {
      const res = await backends.appointment.listAppointments({ caller: caller(principalOf(request)), limit: request.query.limit ?? 20, cursor: request.query.cursor ?? '' });
      return { items: res.items.map(presentAppointment), nextCursor: res.nextCursor || null };
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/appointments/:id',
    { schema: { tags: ['appointments'], summary: 'One booking, with its invoice', security: bearer, params: IdParams, response: { ...errorResponses } }, preHandler: party },
    async (request) => {
      const { appointment: a } = await backends.appointment.getAppointment({ appointmentId: request.params.id, caller: caller(principalOf(request)) });
      return { appointment: presentAppointment(a!), invoice: await presentInvoice(await invoiceOf(backends, a!.id)) };
    },
  );

  app.post<{ Params: IdParams; Body: Static<typeof CancelBody> }>(
    '/v1/appointments/:id/cancel',
    { schema: { tags: ['appointments'], summary: 'Cancel (either party); a paid booking becomes a refund case', security: bearer, params: IdParams, body: CancelBody, response: { ...errorResponses } }, preHandler: party },
    async (request) => {
      const { appointment: a } = await backends.appointment.cancelAppointment({ appointmentId: request.params.id, caller: caller(principalOf(request)), reason: request.body?.reason ?? '' });
      return { appointment: presentAppointment(a!) };
    },
  );
}

