// An admin's review of a profile: pending until an admin verifies or rejects it; a rejection
// carries the reason the professional reads and ends when they save their profile again.
import type { Checked } from './profile';

export type ReviewState = 'pending' | 'verified' | 'rejected';

export const MAX_REJECTION_REASON = 500;

/** The review state of a stored profile (a rejection is never a verification: CHECK professionals_review). */
export function reviewState(p: { verified: boolean; rejectedAt: Date | null }): ReviewState {
  if (p.verified) return 'verified';
  return p.rejectedAt ? 'rejected' : 'pending';
}

// C0 controls but tab, line feed and carriage return; DEL and the C1 controls.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;

/**
 * A rejection's reason: plain text the professional reads, trimmed, 1..500 characters (code points,
 * as the gateway's schema counts them), no control character but line breaks and tabs.
 */
export function checkRejectionReason(reason: string): Checked<string> {
  const trimmed = reason.trim();
  if (trimmed.length === 0) return { ok: false, problem: { code: 'INVALID_REASON', message: 'a rejection needs a reason' } };
  if ([...trimmed].length > MAX_REJECTION_REASON) return { ok: false, problem: { code: 'INVALID_REASON', message: `the reason is at most ${MAX_REJECTION_REASON} characters` } };
  if (CONTROL.test(trimmed)) return { ok: false, problem: { code: 'INVALID_REASON', message: 'the reason may not contain control characters' } };
  return { ok: true, value: trimmed };
}
