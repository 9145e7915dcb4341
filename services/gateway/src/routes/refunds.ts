import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Backends } from '../clients';
import { principalOf, type Authenticator } from '../auth';
import { presentRefund, RefundBody } from './appointments';
import { bearer, errorResponses, IdParams, Uuid } from './schemas';

const QueueQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('due'), Type.Literal('paid')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
);
const QueueItem = Type.Object({ ...RefundBody.properties, appointmentId: Uuid, invoiceId: Uuid });
const QueuePage = Type.Object({ items: Type.Array(QueueItem), nextCursor: Type.Union([Type.String(), Type.Null()]) });
const PaidBody = Type.Object({ txReference: Type.String({ minLength: 8, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' }) }, { additionalProperties: false });

/**
 * The admin refund queue: refunds owed with where they go, and marking one paid by hand with its
 * transaction reference (once; the same reference again answers the same refund).
 */
export function refundRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const admin = auth.requireRole('admin');

  app.get<{ Querystring: Static<typeof QueueQuery> }>(
    '/v1/admin/refunds',
    {
      schema: { tags: ['admin'], operationId: 'listRefunds', summary: 'Refunds by status (due by default), oldest first, with their destination', security: bearer, querystring: QueueQuery, response: { 200: QueuePage, ...errorResponses } },
      preHandler: admin,
    },
    async (request) => {
      const q = request.query;
      const res = await backends.payment.listRefunds({ status: q.status ?? 'due', limit: q.limit ?? 50, cursor: q.cursor ?? '' });
      return { items: res.refunds.map((r) => ({ ...presentRefund(r)!, appointmentId: r.appointmentId, invoiceId: r.invoiceId })), nextCursor: res.nextCursor || null };
    },
  );

  app.post<{ Params: IdParams; Body: Static<typeof PaidBody> }>(
    '/v1/admin/refunds/:id/paid',
    {
      schema: {
        tags: ['admin'],
        operationId: 'markRefundPaid',
        summary: 'Mark a refund paid with the transaction reference (once: another reference is 409 REFUND_ALREADY_PAID)',
        security: bearer,
        params: IdParams,
        body: PaidBody,
        response: { 200: Type.Object({ refund: RefundBody }), ...errorResponses },
      },
      preHandler: admin,
    },
    async (request) => {
      const { refund } = await backends.payment.markRefundPaid({ refundId: request.params.id, adminId: principalOf(request).userId, txReference: request.body.txReference }, { deadlineMs: 1_500 });
      return { refund: presentRefund(refund)! };
    },
  );
}
