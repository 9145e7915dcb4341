import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { identity } from '@cryptocare/contracts';
import { auditKinds } from '@cryptocare/contracts';
import type { Backends } from '../clients';
import { principalOf, type Authenticator } from '../auth';
import { bearer, errorResponses, Uuid } from './schemas';

const AuditQuery = Type.Object(
  {
    kind: Type.Optional(Type.Union(Object.keys(auditKinds).map((k) => Type.Literal(k)))),
    actor: Type.Optional(Uuid),
    subject: Type.Optional(Uuid),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  },
  { additionalProperties: false },
);

export const AuditEntryBody = Type.Object({
  seq: Type.Integer(),
  id: Uuid,
  kind: Type.String(),
  source: Type.String(),
  actorId: Type.Union([Uuid, Type.Null()]),
  subjectId: Type.Union([Uuid, Type.Null()]),
  objectId: Type.Union([Uuid, Type.Null()]),
  details: Type.Record(Type.String(), Type.String()),
  occurredAt: Type.String({ format: 'date-time' }),
  recordedAt: Type.String({ format: 'date-time' }),
  hash: Type.String(),
  prevHash: Type.String(),
  pruned: Type.Boolean(),
});

const AuditPage = Type.Object({ items: Type.Array(AuditEntryBody), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** An audit entry as the API shows it (the export uses it too). */
export function presentAuditEntry(e: identity.AuditEntry) {
  return {
    seq: Number(e.seq),
    id: e.id,
    kind: e.kind,
    source: e.source,
    actorId: e.actorId || null,
    subjectId: e.subjectId || null,
    objectId: e.objectId || null,
    details: e.details,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
    hash: e.hash,
    prevHash: e.prevHash,
    pruned: e.pruned,
  };
}

/** `GET /v1/admin/audit`: the audit trail, newest first (admins only; the read is itself recorded). */
export function auditRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/admin/audit',
    {
      schema: {
        tags: ['admin'],
        operationId: 'listAuditEntries',
        summary: 'The audit trail, newest first: filter by kind, actor, subject and time (from inclusive, to exclusive); pages by cursor',
        security: bearer,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errorResponses },
      },
      preHandler: auth.requireRole('admin'),
    },
    async (request) => {
      const q = request.query;
      const res = await backends.identity.listAudit({
        callerId: principalOf(request).userId,
        kind: q.kind ?? '',
        actorId: q.actor ?? '',
        subjectId: q.subject ?? '',
        from: q.from ?? '',
        to: q.to ?? '',
        cursor: q.cursor ?? '',
        limit: q.limit ?? 50,
      });
      return { items: res.entries.map(presentAuditEntry), nextCursor: res.nextCursor || null };
    },
  );
}
