import { createHash } from 'node:crypto';
import { auditKinds, isAuditKind } from '@cryptocare/contracts';

/**
 * The audit chain's hashing (docs/compliance/audit.md). Each entry's hash covers its sequence
 * number, the previous entry's hash, its kind, when it happened and a digest of what it says
 * (who, whom, what, details):
 *
 *   contentDigest = sha256(JSON [id, source, actorId, subjectId, objectId, [[detail, value]…sorted]])
 *   hash          = sha256(JSON [seq, prevHash, kind, occurredAt ISO-8601, contentDigest])
 *
 * Pruning an entry past its retention deletes its content but keeps its content digest, so every
 * link can still be recomputed; kind and instant stay, so the verifier also checks that the
 * retention of a pruned entry had really passed.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditContent {
  id: string;
  source: string;
  actorId: string | null;
  subjectId: string | null;
  objectId: string | null;
  details: Record<string, string>;
}

export interface ChainedEntry {
  seq: number;
  kind: string;
  occurredAt: Date;
  contentDigest: string;
  prevHash: string;
  hash: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Details as sorted pairs: a JSON object's key order is not canonical (integer-like keys move). */
export function contentDigest(c: AuditContent): string {
  const details = Object.entries(c.details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(JSON.stringify([c.id, c.source, c.actorId, c.subjectId, c.objectId, details]));
}

export function entryHash(e: { seq: number; prevHash: string; kind: string; occurredAt: Date; contentDigest: string }): string {
  return sha256(JSON.stringify([e.seq, e.prevHash, e.kind, e.occurredAt.toISOString(), e.contentDigest]));
}

/** When an entry of this kind may be pruned (never for anchors). */
export function prunableAfter(kind: string, occurredAt: Date): Date | undefined {
  if (!isAuditKind(kind)) return undefined;
  const days = auditKinds[kind].retentionDays;
  return Number.isFinite(days) ? new Date(occurredAt.getTime() + days * 86_400_000) : undefined;
}

/** Where the chain breaks first, in words an operator can act on. */
export interface BrokenLink {
  seq: number;
  problem: string;
}

/** An entry as the verifier reads it: content null once pruned. */
export interface StoredEntry extends ChainedEntry {
  content: AuditContent | null;
  prunedAt: Date | null;
}

/**
 * Checks one entry against the one before it (undefined for the first entry kept). Returns the
 * problem, if any: a deleted entry (a gap in the numbers or a link to a hash that is not the
 * previous one), an edited entry (its content or hash no longer what was chained), a reordered
 * entry (a link that does not match), an entry whose content went before its retention passed.
 */
export function checkLink(entry: StoredEntry, previous: { seq: number; hash: string } | undefined, now = new Date()): string | undefined {
  if (previous && entry.seq !== previous.seq + 1) return `entries ${previous.seq + 1}..${entry.seq - 1} are missing (deleted)`;
  if (previous && entry.prevHash !== previous.hash) return `does not link to entry ${previous.seq} (previous hash differs: entry edited, deleted or reordered)`;
  if (entry.content && contentDigest(entry.content) !== entry.contentDigest) return 'content differs from what was chained (entry edited)';
  if (!entry.content) {
    const after = prunableAfter(entry.kind, entry.occurredAt);
    // Not trusting pruned_at (outside the hash): the retention must have passed by now.
    if (!after || now < after) return 'content deleted before its retention passed';
  }
  if (entryHash(entry) !== entry.hash) return 'hash differs from its recomputation (entry edited)';
  return undefined;
}
