// The password policy of sign-up, password change and reset: a length range, and a minimum
// strength as zxcvbn-ts estimates it against its shipped lists (common and breached passwords,
// English, German, French and Italian words and names, keyboard patterns), with the user's own
// email and name counted as guessable.
import { ZxcvbnFactory, type OptionsDictionary } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import * as de from '@zxcvbn-ts/language-de';
import * as fr from '@zxcvbn-ts/language-fr';
import * as it from '@zxcvbn-ts/language-it';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;
/** zxcvbn's 0..4 scale; 3 is "safely unguessable: moderate protection from offline slow-hash attacks" (argon2id). */
export const MIN_PASSWORD_SCORE = 3;

/** German and Italian ship unsuffixed list names: suffixed here so they do not replace each other. */
const suffixed = (dictionary: OptionsDictionary, lang: string): OptionsDictionary =>
  Object.fromEntries(Object.entries(dictionary).map(([name, words]) => [name.endsWith(`-${lang}`) ? name : `${name}-${lang}`, words]));

/**
 * How much work zxcvbn may do on one password. Its cost explodes with l33t look-alikes (zxcvbn-ts
 * issue 164, "DOS when run server side"): it matches every un-l33ted variant of the password
 * against every list. With its defaults (100 variants of 256 characters) a 30-character
 * passphrase took 640 ms of identity's only thread and crafted ones 2-9 s, during which no one
 * could sign in; with these, 8-51 ms and at most ~190 ms for the crafted ones, with the same
 * verdicts (`make bench-password-check`, bench/results/password-check-2026-12-02.md).
 */
export interface JudgingLimits {
  /** How many un-l33ted variants of a password are matched against the lists. */
  l33tVariants: number;
  /** How many leading characters are judged: the rest can only add strength, and costs time. */
  judgedLength: number;
}

export const JUDGING_LIMITS: JudgingLimits = { l33tVariants: 4, judgedLength: 64 };
/** zxcvbn-ts's own defaults, what the limits above are measured against (tests, bench/password-check.ts). */
export const ZXCVBN_DEFAULT_LIMITS: JudgingLimits = { l33tVariants: 100, judgedLength: 256 };

/** A zxcvbn checker with the platform's lists (the policy's own is built once, on first use). */
export function strengthChecker(limits: JudgingLimits): ZxcvbnFactory {
  return new ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary, ...suffixed(de.dictionary, 'de'), ...suffixed(fr.dictionary, 'fr'), ...suffixed(it.dictionary, 'it') },
    useLevenshteinDistance: false,
    l33tMaxSubstitutions: limits.l33tVariants,
    maxLength: limits.judgedLength,
  });
}

let checker: ZxcvbnFactory | undefined;
const zxcvbn = () => (checker ??= strengthChecker(JUDGING_LIMITS));

export interface PasswordVerdict {
  ok: boolean;
  /** What is wrong and how to do better (zxcvbn's feedback in English); empty when ok. */
  warning: string;
  suggestions: string[];
  score: number;
}

/** Judges a new password; `userInputs` (email, its local part, display name) count as known to an attacker. */
export function judgePassword(password: string, userInputs: string[] = []): PasswordVerdict {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    return { ok: false, warning: `Use ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`, suggestions: [], score: 0 };
  }
  const inputs = userInputs.flatMap((input) => {
    const value = input.trim().toLowerCase();
    if (!value) return [];
    // The email's parts too: "anna.muster@example.ch" makes "anna", "muster" and "example" guessable.
    return [value, ...value.split(/[^\p{L}\p{N}]+/u).filter((part) => part.length >= 3)];
  });
  const result = zxcvbn().check(password, inputs);
  const ok = result.score >= MIN_PASSWORD_SCORE;
  return {
    ok,
    warning: ok ? '' : result.feedback.warning || 'This password is too easy to guess.',
    suggestions: ok ? [] : result.feedback.suggestions.length > 0 ? result.feedback.suggestions : ['Add more words that are less common.'],
    score: result.score,
  };
}
