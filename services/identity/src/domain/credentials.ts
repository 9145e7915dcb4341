import argon2 from 'argon2';
import { createHash, randomBytes } from 'node:crypto';

/** argon2id with the library's defaults (64 MiB, t=3, p=4): OWASP's recommended family. */
export const hashPassword = (password: string) => argon2.hash(password, { type: argon2.argon2id });

export const verifyPassword = (hash: string, password: string) => argon2.verify(hash, password).catch(() => false);

/** A hash to verify against when the email is unknown, so both paths take the same time. */
let dummyHash: Promise<string> | undefined;
export const timingDummyHash = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));

/** Opaque refresh tokens: 256 random bits; only their SHA-256 is stored. */
export const newRefreshToken = () => randomBytes(32).toString('base64url');
export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// No control characters (PostgreSQL refuses NUL in text; the others have no business in an address).
const CONTROL = /[\u0000-\u001f\u007f]/;
export const isEmailAddress = (email: string) => EMAIL.test(email) && email.length <= 254 && !CONTROL.test(email);
export function registrationProblems(input: { email: string; password: string; displayName: string }): string | undefined {
  if (!isEmailAddress(input.email)) return 'INVALID_EMAIL';
  if (input.password.length < 10 || input.password.length > 256) return 'WEAK_PASSWORD';
  if (input.displayName.trim().length < 1 || input.displayName.length > 100) return 'INVALID_DISPLAY_NAME';
  return undefined;
}
