// Per-account lockout: after THRESHOLD consecutive failed sign-ins the address is locked, for a
// time that doubles with every further failure, up to MAX. Unknown addresses are counted alike,
// so a lock never tells whether an account exists.
import { createHash } from 'node:crypto';

export const LOCKOUT = {
  /** Failures before the first lock. */
  threshold: 5,
  /** The first lock's length; each further failure doubles it. */
  baseSeconds: 30,
  /** No lock is longer (a lock is also a way to keep the owner out: it must stay bounded). */
  maxSeconds: 15 * 60,
  /** A counter untouched this long starts again from zero. */
  forgetAfterSeconds: 24 * 60 * 60,
} as const;

/** How long the address is locked after its `failures`-th consecutive failure (0: not locked). */
export function lockSeconds(failures: number, policy = LOCKOUT): number {
  if (failures < policy.threshold) return 0;
  const doublings = Math.min(failures - policy.threshold, 30);
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** doublings);
}

/** The key of an address's counter: a digest, so no address is stored with it. */
export const emailDigest = (normalisedEmail: string) => createHash('sha256').update(normalisedEmail).digest('base64url');
