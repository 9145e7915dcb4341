import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { AppError, GrpcStatus, type Principal } from '@cryptocare/platform';
import type { payment } from '@cryptocare/contracts';
import type { Backends } from '../clients';
import { presentAppointment, presentInvoice } from '../presenters';
import { principalOf, type Authenticator } from '../auth';
import { HttpError } from '../http-errors';
import { bearer, errorResponses, IdParams, NullableRef, Page, Refs, Uuid } from './schemas';
import { requireBookingConsents } from './consents';
import { patientNamesFor, withPatientName } from '../patient-names';

const BookBody = Type.Object({ professionalId: Uuid, start: Type.String({ format: 'date-time' }) }, { additionalProperties: false });
const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), cursor: Type.Optional(Type.String({ maxLength: 300 })) });
const CancelBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
const RescheduleBody = Type.Object({ start: Type.String({ format: 'date-time', description: 'One of the professional’s free slots (GET /v1/professionals/{id}/slots)' }) }, { additionalProperties: false });
/** A Lightning address (user@domain), a BOLT11 for exactly the sats owed, or an on-chain address; payment checks it. */
const RefundDestinationBody = Type.Object({ destination: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });
export const RefundBody = Type.Object({
  id: Uuid,
  sats: Type.Integer({ minimum: 0 }),
  reason: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
  destinationKind: Type.Union([Type.Literal('lightning_address'), Type.Literal('bolt11'), Type.Literal('onchain'), Type.Null()]),
  destination: Type.Union([Type.String(), Type.Null()]),
  destinationSetAt: Type.Union([Type.String(), Type.Null()]),
  paidAt: Type.Union([Type.String(), Type.Null()]),
  txReference: Type.Union([Type.String(), Type.Null()]),
  /** Where the patient claims a refund the provider pays out (status "sent"); null otherwise. */
  claimLink: Type.Union([Type.String(), Type.Null()]),
});
type RefundView = Static<typeof RefundBody>;
const Booked = Type.Object({
  appointment: Refs.Appointment,
  invoice: NullableRef(Refs.Invoice),
  /** The invoice could not be made at booking time: it comes as `invoice_ready` on the booking's event stream. */
  invoicePending: Type.Boolean(),
});
/** The booking invoice ended under-paid while the booking was held: the second invoice, for the rest. */
const TopUpBody = Type.Object({
  invoice: Refs.Invoice,
  /** The booking's price (its invoice's locked amount), what was paid of it, and the rest (the top-up's amount). */
  price: Refs.Money,
  paid: Refs.Money,
  rest: Refs.Money,
});
const BookingWithInvoice = Type.Object({
  appointment: Refs.Appointment,
  invoice: NullableRef(Refs.Invoice),
  topUp: Type.Optional(Type.Union([TopUpBody, Type.Null()], { description: 'set once a top-up was made for an under-payment' })),
  refund: Type.Optional(Type.Union([RefundBody, Type.Null()], { description: "the patient's and the admins' only" })),
});

/** A refund as the patient sees it (in GET of the booking, the export and the destination answer). */
export function presentRefund(refund: payment.Refund | undefined): RefundView | null {
  if (!refund) return null;
  return {
    id: refund.id,
    sats: refund.sats,
    reason: refund.reason,
    status: refund.status,
    createdAt: refund.createdAt,
    destinationKind: (refund.destinationKind || null) as RefundView['destinationKind'],
    destination: refund.destination || null,
    destinationSetAt: refund.destinationSetAt || null,
    paidAt: refund.paidAt || null,
    txReference: refund.txReference || null,
    claimLink: refund.claimLink || null,
  };
}

const caller = (p: Principal) => ({ userId: p.userId, role: p.role });

const toMinor = (amount: string) => {
  const [whole = '0', cents = ''] = amount.split('.');
  return Number(whole) * 100 + Number(cents.padEnd(2, '0').slice(0, 2));
};
const fromMinor = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

/** The top-up as the patient sees it: "you paid X of Y, pay the rest" with the rest's invoice (and its QR). */
export async function presentTopUp(invoice: payment.Invoice | undefined, topUp: payment.Invoice | undefined) {
  if (!invoice?.amount || !topUp?.amount) return null;
  const priceMinor = toMinor(invoice.amount.amount);
  const restMinor = toMinor(topUp.amount.amount);
  const currency = invoice.amount.currency;
  return {
    invoice: (await presentInvoice(topUp))!,
    price: { amount: invoice.amount.amount, currency },
    paid: { amount: fromMinor(Math.max(0, priceMinor - restMinor)), currency },
    rest: { amount: topUp.amount.amount, currency },
  };
}

/** The invoice of a booking and its refund, or nothing when there is none yet (provider down: it comes on SSE). */
async function invoiceOf(backends: Backends, appointmentId: string): Promise<{ invoice?: payment.Invoice; refund?: payment.Refund; topUp?: payment.Invoice }> {
  try {
    return await backends.payment.getInvoice({ appointmentId }, { deadlineMs: 800 });
  } catch (err) {
    if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) return {};
    throw err;
  }
}

export function appointmentRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const party = auth.requireRole('patient', 'professional', 'admin');

  app.post<{ Body: Static<typeof BookBody> }>(
    '/v1/appointments',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'bookAppointment',
        summary: 'Book a slot: the booking is held until its invoice is paid',
        security: bearer,
        body: BookBody,
        response: { 201: Booked, ...errorResponses },
      },
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
    {
      schema: {
        tags: ['appointments'],
        operationId: 'listAppointments',
        summary: 'My bookings (patient) or my calendar (professional, with each patient\'s name)',
        security: bearer,
        querystring: ListQuery,
        response: { 200: Page(Refs.Appointment), ...errorResponses },
      },
      preHandler: party,
    },
    async (request) => {
      const me = principalOf(request);
      const res = await backends.appointment.listAppointments({ caller: caller(me), limit: request.query.limit ?? 20, cursor: request.query.cursor ?? '' });
      const names = await patientNamesFor(backends, me, res.items, request.log);
      return { items: res.items.map((a) => withPatientName(presentAppointment(a), names, me)), nextCursor: res.nextCursor || null };
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/appointments/:id',
    { schema: { tags: ['appointments'], operationId: 'getAppointment', summary: 'One booking, with its invoice', security: bearer, params: IdParams, response: { 200: BookingWithInvoice, ...errorResponses } }, preHandler: party },
    async (request) => {
      const me = principalOf(request);
      const { appointment: a } = await backends.appointment.getAppointment({ appointmentId: request.params.id, caller: caller(me) });
      const [{ invoice, refund, topUp }, names] = await Promise.all([invoiceOf(backends, a!.id), patientNamesFor(backends, me, [a!], request.log)]);
      // The refund (and where it goes) is the patient's and the admins', not the professional's.
      return {
        appointment: withPatientName(presentAppointment(a!), names, me),
        invoice: await presentInvoice(invoice),
        topUp: await presentTopUp(invoice, topUp),
        ...(me.role === 'professional' ? {} : { refund: presentRefund(refund) }),
      };
    },
  );

  app.put<{ Params: IdParams; Body: Static<typeof RefundDestinationBody> }>(
    '/v1/appointments/:id/refund-destination',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'setRefundDestination',
        summary: 'Where the money owed back for my booking goes: a Lightning address, a Lightning invoice for the exact sats, or an on-chain address',
        security: bearer,
        params: IdParams,
        body: RefundDestinationBody,
        response: { 200: Type.Object({ refund: RefundBody }), ...errorResponses },
      },
      preHandler: auth.requireRole('patient'),
    },
    async (request) => {
      // payment checks that the booking is this patient's (404 otherwise, as for a booking that does not exist).
      const { refund } = await backends.payment.setRefundDestination(
        { appointmentId: request.params.id, patientId: principalOf(request).userId, destination: request.body.destination },
        { deadlineMs: 1_500 },
      );
      return { refund: presentRefund(refund)! };
    },
  );

  app.post<{ Params: IdParams; Body: Static<typeof RescheduleBody> }>(
    '/v1/appointments/:id/reschedule',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'rescheduleAppointment',
        summary: 'Move a paid booking to another free slot of the same professional (either party, before it starts); the meeting follows',
        security: bearer,
        params: IdParams,
        body: RescheduleBody,
        response: { 200: Type.Object({ appointment: Refs.Appointment }), ...errorResponses },
      },
      preHandler: auth.requireRole('patient', 'professional'),
    },
    async (request) => {
      const start = new Date(request.body.start).toISOString();
      const { appointment: a } = await backends.appointment.rescheduleAppointment(
        { appointmentId: request.params.id, caller: caller(principalOf(request)), startAt: start },
        { deadlineMs: 1_500 },
      );
      return { appointment: presentAppointment(a!) };
    },
  );

  app.post<{ Params: IdParams; Body: Static<typeof CancelBody> }>(
    '/v1/appointments/:id/cancel',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'cancelAppointment',
        summary: 'Cancel (either party); a paid booking becomes a refund case',
        security: bearer,
        params: IdParams,
        body: CancelBody,
        response: { 200: Type.Object({ appointment: Refs.Appointment }), ...errorResponses },
      },
      preHandler: party,
    },
    async (request) => {
      const { appointment: a } = await backends.appointment.cancelAppointment({ appointmentId: request.params.id, caller: caller(principalOf(request)), reason: request.body?.reason ?? '' });
      return { appointment: presentAppointment(a!) };
    },
  );
}

