import { judgePassword } from './password-policy';

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
});
