import type { FastifyInstance } from 'fastify';
import type { appointment } from '@cryptocare/contracts';
import { AppError, GrpcStatus, type Principal } from '@cryptocare/platform';
import type { Backends } from '../clients';
import { presentAppointment, presentInvoice, presentProfile, presentUser } from '../presenters';
import { principalOf, type Authenticator } from '../auth';
import { Type, type Static } from 'typebox';
import { AppointmentView, bearer, errorResponses, InvoiceView, NoContent, NullableRef, NullableString, Refs } from './schemas';
import { PASSWORD_HASH_OBJECTIVE_MS } from '../overload';
import { answerIn, type Language } from '../i18n/language';
import { AuditEntryBody, presentAuditEntry } from './audit';
import { presentRefund, RefundBody } from './appointments';

const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

const ExportBody = Type.Object({
  exportedAt: Type.String(),
  user: NullableRef(Refs.User),
  sessions: Type.Array(
    Type.Object({ id: Type.String(), sessionId: Type.String(), createdAt: Type.String(), expiresAt: Type.String(), replacedAt: NullableString, revokedAt: NullableString }),
  ),
  consents: Type.Array(
    Type.Object({ id: Type.String(), kind: Type.String(), version: Type.String(), lang: Type.String(), sha256: Type.String(), action: Type.String(), at: Type.String() }),
  ),
  audit: Type.Array(AuditEntryBody),
  profile: NullableRef(Refs.Professional),
  schedule: NullableRef(Refs.Schedule),
  appointments: Type.Array(Type.Object({ ...AppointmentView.properties, cancelledBy: NullableString, idempotencyKey: NullableString })),
  invoices: Type.Array(
    Type.Object({
      appointmentId: Type.String(),
      /** booking: the booking's invoice; top_up: the invoice for the rest of an under-payment (its refund is the booking invoice's). */
      kind: Type.Union([Type.Literal('booking'), Type.Literal('top_up')]),
      ...InvoiceView.properties,
      paidAt: NullableString,
      refund: Type.Union([RefundBody, Type.Null()]),
    }),
  ),
});

/** A lookup that may rightly find nothing (no profile yet, no invoice yet). */
async function orNull<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (err) {
    if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) return null;
    throw err;
  }
}

/** Everything the platform holds of the caller, gathered from the services that own it. */
async function exportOf(backends: Backends, me: Principal, language: Language) {
  const caller = { userId: me.userId, role: me.role };
  const { user } = await backends.identity.getUser({ userId: me.userId });
  // Sign-ins: when each refresh token was issued, rotated, revoked, and until when it was valid.
  const { sessions } = await backends.identity.listSessions({ userId: me.userId });
  // Consents given and withdrawn, and the audit entries naming me (the export itself among them).
  const personal = await backends.identity.exportPersonalData({ userId: me.userId });
  const bookings: appointment.AppointmentRecord[] = [];
  // An admin's own data holds no bookings (their list would be everyone's).
  let cursor = me.role === 'patient' || me.role === 'professional' ? '' : undefined;
  while (cursor !== undefined) {
    const page = await backends.appointment.exportAppointments({ caller, limit: 100, cursor });
    bookings.push(...page.items);
    cursor = page.nextCursor || undefined;
  }
  const professional = me.role === 'professional';
  const profile = professional ? await orNull(backends.search.getProfile({ professionalId: me.userId, includeUnverified: true })) : null;
  const schedule = professional ? await orNull(backends.appointment.getSchedule({ professionalId: me.userId })) : null;
  // A patient's invoices (and refunds) are theirs; a professional's calendar does not carry the patients' payments.
  const invoices = professional
    ? []
    : (await Promise.all(bookings.map((b) => orNull(backends.payment.getInvoice({ appointmentId: b.appointment!.id }))))).filter((r): r is NonNullable<typeof r> => r !== null);
  return {
    exportedAt: new Date().toISOString(),
    user: presentUser(user),
    sessions: sessions.map((s) => ({
      id: s.id,
      sessionId: s.sessionId,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      replacedAt: s.replacedAt || null,
      revokedAt: s.revokedAt || null,
    })),
    consents: personal.consents,
    audit: personal.audit.map(presentAuditEntry),
    profile: profile?.profile ? presentProfile(profile.profile, language) : null,
    schedule: schedule?.schedule ?? null,
    appointments: bookings.map((b) => ({ ...presentAppointment(b.appointment!), cancelledBy: b.cancelledBy || null, idempotencyKey: b.idempotencyKey || null })),
    invoices: await Promise.all(
      invoices.flatMap(({ invoice, refund, topUp }) => [
        { kind: 'booking' as const, invoice: invoice!, refund },
        ...(topUp ? [{ kind: 'top_up' as const, invoice: topUp, refund: undefined }] : []),
      ]).map(async ({ kind, invoice, refund }) => ({
        appointmentId: invoice.appointmentId,
        kind,
        ...(await presentInvoice(invoice, { qrCode: false })),
        paidAt: invoice.paidAt || null,
        refund: presentRefund(refund),
      })),
    ),
  };
}

/** The signed-in user's own account: profile, erasure, export (LPD / GDPR rights). */
export function meRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const signedIn = auth.requireRole();

  app.get(
    '/v1/me',
    { schema: { tags: ['me'], operationId: 'getMe', summary: 'The signed-in user', security: bearer, response: { 200: Type.Object({ user: NullableRef(Refs.User) }), ...errorResponses } }, preHandler: signedIn },
    async (request) => ({ user: presentUser((await backends.identity.getUser({ userId: principalOf(request).userId })).user) }),
  );

  app.post<{ Body: Static<typeof ChangePasswordBody> }>(
    '/v1/me/password',
    {
      schema: {
        tags: ['me'],
        operationId: 'changePassword',
        summary: 'Change my password (the policy applies); every other session ends',
        security: bearer,
        body: ChangePasswordBody,
        response: { 204: NoContent, ...errorResponses },
      },
      config: { latencyObjectiveMs: PASSWORD_HASH_OBJECTIVE_MS },
      preHandler: signedIn,
    },
    async (request, reply) => {
      const me = principalOf(request);
      await backends.identity.changePassword(
        { userId: me.userId, sessionId: me.sessionId, currentPassword: request.body.currentPassword, newPassword: request.body.newPassword },
        { deadlineMs: 3_000 }, // argon2 twice
      );
      return reply.status(204).send();
    },
  );

  app.delete(
    '/v1/me',
    {
      schema: {
        tags: ['me'],
        operationId: 'eraseMe',
        summary: 'Erase my account: every service erases or anonymises what it holds of me',
        security: bearer,
        response: { 202: Type.Object({ status: Type.String(), erasedAt: Type.String() }), ...errorResponses },
      },
      preHandler: signedIn,
    },
    async (request, reply) => {
      const { erasedAt } = await backends.identity.eraseUser({ userId: principalOf(request).userId });
      // Identity is erased now; the other services follow from `identity.user_erased`.
      return reply.status(202).send({ status: 'erasure_started', erasedAt });
    },
  );

  app.get(
    '/v1/me/export',
    { schema: { tags: ['me'], operationId: 'exportMyData', summary: 'Everything held about me, as JSON', security: bearer, response: { 200: ExportBody, ...errorResponses } }, preHandler: signedIn },
    async (request, reply) => {
      reply.header('content-disposition', 'attachment; filename="cryptocare-export.json"').header('cache-control', 'no-store');
      return exportOf(backends, principalOf(request), answerIn(request, reply));
    },
  );
}
