import { checkRejectionReason, reviewState } from './review';

describe('review', () => {
  it('derives the state: verified, rejected, else pending', () => {
    expect(reviewState({ verified: true, rejectedAt: null })).toBe('verified');
    expect(reviewState({ verified: false, rejectedAt: new Date() })).toBe('rejected');
    expect(reviewState({ verified: false, rejectedAt: null })).toBe('pending');
  });

  it('takes a trimmed reason of 1..500 characters, line breaks included', () => {
    expect(checkRejectionReason('  Diploma not legible.\nPlease upload it again.\t ')).toEqual({ ok: true, value: 'Diploma not legible.\nPlease upload it again.' });
    // 500 code points, each two UTF-16 units: counted as 500.
    expect(checkRejectionReason('🩺'.repeat(500))).toMatchObject({ ok: true });
  });

  it.each([
    ['empty', ''],
    ['only whitespace', ' \n\t '],
    ['501 characters', 'x'.repeat(501)],
    ['501 code points', '🩺'.repeat(501)],
    ['a NUL', 'bad\u0000reason'],
    ['an escape', 'bad\u001b[31mreason'],
    ['a C1 control', 'bad\u0085reason'],
  ])('refuses %s with INVALID_REASON', (_, reason) => {
    expect(checkRejectionReason(reason)).toMatchObject({ ok: false, problem: { code: 'INVALID_REASON' } });
  });
});
