import { emailDigest, LOCKOUT, lockSeconds } from './lockout';

describe('lockout backoff', () => {
  it('locks from the threshold on, doubling each failure, never beyond the maximum', () => {
    expect([1, 2, 3, 4].map((n) => lockSeconds(n))).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8].map((n) => lockSeconds(n))).toEqual([30, 60, 120, 240]);
    expect(lockSeconds(10)).toBe(LOCKOUT.maxSeconds);
    expect(lockSeconds(10_000)).toBe(LOCKOUT.maxSeconds);
  });

  it('keys counters by a digest, never the address', () => {
    expect(emailDigest('a@example.ch')).not.toContain('example');
    expect(emailDigest('a@example.ch')).toBe(emailDigest('a@example.ch'));
  });
});
