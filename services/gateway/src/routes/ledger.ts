import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { payment } from '@cryptocare/contracts';
import type { Backends } from '../clients';
import { principalOf, type Authenticator } from '../auth';
import { bearer, errorResponses, IdParams, Uuid } from './schemas';
import { reconciliationCsv } from './ledger-csv';

const LedgerKind = Type.Union(['invoice_created', 'top_up_created', 'shortfall_carried', 'paid', 'over', 'under', 'refund_due', 'refund_paid'].map((k) => Type.Literal(k)));
const LedgerEntryBody = Type.Object({
  id: Uuid,
  invoiceId: Uuid,
  kind: LedgerKind,
  sats: Type.Integer({ minimum: 1 }),
  /** The booking's fiat in minor units (centimes, cents) at `rate`. */
  fiatMinor: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  rate: Type.String({ description: 'fiat per BTC, the invoice quote' }),
  provider: Type.String(),
  refundId: Type.Union([Uuid, Type.Null()]),
  createdAt: Type.String(),
});
const BalanceBody = Type.Object({
  state: Type.Union(['nothing_paid', 'paid', 'refunded', 'short', 'refund_outstanding', 'inconsistent'].map((k) => Type.Literal(k))),
  balanced: Type.Boolean(),
  currency: Type.Union([Type.String(), Type.Null()]),
  dueSats: Type.Integer(),
  receivedSats: Type.Integer(),
  refundDueSats: Type.Integer(),
  refundPaidSats: Type.Integer(),
  keptSats: Type.Integer(),
  outstandingSats: Type.Integer(),
  dueFiatMinor: Type.Integer(),
  receivedFiatMinor: Type.Integer(),
  keptFiatMinor: Type.Integer(),
  outstandingFiatMinor: Type.Integer(),
});
const LedgerBody = Type.Object({ entries: Type.Array(LedgerEntryBody), balance: BalanceBody });

/** ISO 8601 instants; payment refuses absurd ones (before 2020, after 2100), from ≥ to, and more than 92 days. */
const RangeQuery = Type.Object(
  { from: Type.String({ format: 'date-time', maxLength: 40 }), to: Type.String({ format: 'date-time', maxLength: 40 }), format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) },
  { additionalProperties: false },
);
const ReconciliationRowBody = Type.Object({
  invoiceId: Uuid,
  appointmentId: Uuid,
  provider: Type.String(),
  providerInvoiceId: Type.String(),
  createdAt: Type.String(),
  currency: Type.String(),
  dueSats: Type.Integer(),
  ledgerPaidSats: Type.Integer(),
  ledgerPaidFiatMinor: Type.Integer(),
  providerPaidSats: Type.Union([Type.Integer(), Type.Null()], { description: 'null: the provider could not be read' }),
  providerState: Type.String(),
  outcome: Type.Union(['match', 'mismatch', 'pending', 'unknown'].map((k) => Type.Literal(k))),
});
const ReconciliationBody = Type.Object({
  from: Type.String(),
  to: Type.String(),
  rows: Type.Array(ReconciliationRowBody),
  mismatches: Type.Integer(),
  unknown: Type.Integer(),
  truncated: Type.Boolean(),
});

function presentLedger(res: payment.GetLedgerResponse): Static<typeof LedgerBody> {
  const b = res.balance!;
  return {
    entries: res.entries.map((e) => ({ ...e, kind: e.kind as Static<typeof LedgerKind>, refundId: e.refundId || null })),
    balance: { ...b, state: b.state as Static<typeof BalanceBody>['state'], currency: b.currency || null },
  };
}

/**
 * The money ledger: a booking's movements and balance (its patient and admins), and the
 * accountant's reconciliation of our ledger against the providers (admins; JSON or CSV).
 */
export function ledgerRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const admin = auth.requireRole('admin');

  app.get<{ Params: IdParams }>(
    '/v1/appointments/:id/ledger',
    {
      schema: { tags: ['appointments'], operationId: 'getAppointmentLedger', summary: "My booking's money movements (due, received, owed back, paid back) and whether they balance", security: bearer, params: IdParams, response: { 200: LedgerBody, ...errorResponses } },
      preHandler: auth.requireRole('patient', 'admin'),
    },
    async (request) => {
      const me = principalOf(request);
      // appointment answers 404 for a booking that is not the caller's (admins see every one).
      await backends.appointment.getAppointment({ appointmentId: request.params.id, caller: { userId: me.userId, role: me.role } });
      return presentLedger(await backends.payment.getLedger({ appointmentId: request.params.id }));
    },
  );

  app.get<{ Querystring: Static<typeof RangeQuery> }>(
    '/v1/admin/ledger/reconciliation',
    {
      schema: {
        tags: ['admin'],
        operationId: 'getLedgerReconciliation',
        summary: 'Per invoice created in [from, to): what the ledger received against what the provider says, with the mismatches (format=csv: text/csv for the accountant)',
        security: bearer,
        querystring: RangeQuery,
        response: { 200: ReconciliationBody, ...errorResponses },
        produces: ['application/json', 'text/csv'],
      },
      preHandler: admin,
    },
    async (request, reply) => {
      const { from, to } = request.query;
      // Every provider is asked about every invoice in the range: more time than a read.
      const res = await backends.payment.getReconciliation({ from, to }, { deadlineMs: 20_000 });
      if (request.query.format === 'csv') {
        const name = `reconciliation-${new Date(from).toISOString().slice(0, 10)}-${new Date(to).toISOString().slice(0, 10)}.csv`;
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(reconciliationCsv(res.rows));
      }
      return {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        rows: res.rows.map((r) => ({ ...r, providerPaidSats: r.providerPaidSats < 0 ? null : r.providerPaidSats, outcome: r.outcome as Static<typeof ReconciliationRowBody>['outcome'] })),
        mismatches: res.mismatches,
        unknown: res.unknown,
        truncated: res.truncated,
      };
    },
  );
}
