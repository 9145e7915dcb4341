import { JUDGING_LIMITS, judgePassword, strengthChecker, ZXCVBN_DEFAULT_LIMITS } from './password-policy';

describe('password policy (zxcvbn-ts and its shipped lists)', () => {
  it('refuses too short and too long passwords before judging them', () => {
    expect(judgePassword('Tr0ub4dor')).toMatchObject({ ok: false, score: 0 });
    expect(judgePassword('x'.repeat(257))).toMatchObject({ ok: false });
  });

  it.each(['password1234', 'qwertzuiop12', 'aaaaaaaaaaaa', 'motdepasse2024', 'passwort1234'])('refuses the common or trivial %s, saying why', (password) => {
    const verdict = judgePassword(password);
    expect(verdict.ok).toBe(false);
    expect(verdict.warning).not.toBe('');
    expect(verdict.suggestions.length).toBeGreaterThan(0);
  });

  it('accepts long unusual passphrases', () => {
    expect(judgePassword('violet-harbor-cactus-42').ok).toBe(true);
    expect(judgePassword('correct horse battery').ok).toBe(true);
  });

  it("counts the user's own email and name as guessable", () => {
    // Strong for anyone else, weak for Xylophia Trendwick.
    expect(judgePassword('xylophiatrendwick', ['someone@example.ch', 'Some One']).ok).toBe(true);
    const own = judgePassword('xylophiatrendwick', ['xylophia.trendwick@example.ch', 'Xylophia Trendwick']);
    expect(own).toMatchObject({ ok: false, warning: expect.stringMatching(/personal/i) });
  });

  it('judges the first 64 characters only: what follows cannot make a weak start strong', () => {
    const strongTail = 'violet-harbor-cactus-42';
    expect(judgePassword(strongTail).ok).toBe(true);
    expect(judgePassword(`${'a'.repeat(64)}${strongTail}`).ok).toBe(false);
    expect(judgePassword(`${strongTail}${'a'.repeat(64)}`).ok).toBe(true);
  });

  it.each(['p@ssw0rd123', 'P4ssw0rd!2026', 'm0td3p4ss3!'])('still sees through the l33t spelling of %s', (password) => {
    expect(judgePassword(password).ok).toBe(false);
  });

  it("scores as zxcvbn's unbounded defaults do on ordinary passwords", () => {
    // Its defaults: the cost the limits cut (bench/password-check.ts).
    const unbounded = strengthChecker(ZXCVBN_DEFAULT_LIMITS);
    const samples = ['Bench-patient-passphrase-2026!', 'Tr0ub4dor&3', 'M0ntr3ux-G3n3v3', 'correct horse battery', 'Z\u00fcrich-Kardiologie-7', 'p@ssw0rd123', 'hostile-password-1'];
    expect(samples.map((pw) => judgePassword(pw).score)).toEqual(samples.map((pw) => unbounded.check(pw).score));
    expect(JUDGING_LIMITS.l33tVariants).toBeLessThan(ZXCVBN_DEFAULT_LIMITS.l33tVariants);
  });
});
