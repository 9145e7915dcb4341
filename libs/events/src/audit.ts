import { auditEntryProblem, type AuditFields, type AuditKindName } from '@cryptocare/contracts';
import type { Outbox } from './outbox';
import type { SqlTx } from './sql';

/**
 * Records an audit entry from a service other than identity: an `audit.recorded` event in the
 * service's outbox, in the transaction `tx` of the action it records (so it is recorded if and only
 * if the action committed); identity consumes it into the hash-chained audit trail, once per event
 * id. Kinds and what an entry may hold: libs/contracts/src/audit.ts. Throws on a field that is not
 * an opaque id or a short code (a programming error: nothing personal may reach the trail).
 *
 *   await auditEvent(outbox, tx, 'payment.refund_due', { subjectId: patientId, objectId: refundId });
 */
export async function auditEvent(outbox: Outbox, tx: SqlTx, kind: AuditKindName, fields: AuditFields, now = new Date()): Promise<void> {
  const problem = auditEntryProblem(kind, fields);
  if (problem) throw new Error(`audit entry refused: ${problem}`);
  await outbox.add(tx, 'audit.recorded', fields.subjectId || fields.objectId || fields.actorId || kind, {
    kind,
    actorId: fields.actorId ?? '',
    subjectId: fields.subjectId ?? '',
    objectId: fields.objectId ?? '',
    details: fields.details ?? {},
    occurredAt: now.toISOString(),
  });
}
