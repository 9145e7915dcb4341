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

// Built on first use: the lists take a moment to load and most processes never check a password.
let checker: ZxcvbnFactory | undefined;
const zxcvbn = () =>
  (checker ??= new ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary, ...suffixed(de.dictionary, 'de'), ...suffixed(fr.dictionary, 'fr'), ...suffixed(it.dictionary, 'it') },
    useLevenshteinDistance: false,
  }));

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
  // zxcvbn's cost grows with the length; beyond 100 characters the rest adds only strength.
  const result = zxcvbn().check(password.slice(0, 100), inputs);
  const ok = result.score >= MIN_PASSWORD_SCORE;
  return {
    ok,
    warning: ok ? '' : result.feedback.warning || 'This password is too easy to guess.',
    suggestions: ok ? [] : result.feedback.suggestions.length > 0 ? result.feedback.suggestions : ['Add more words that are less common.'],
    score: result.score,
  };
}
