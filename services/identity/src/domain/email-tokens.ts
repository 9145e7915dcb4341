// The single-use tokens mailed for verification and password reset: 256 random bits, only their
// SHA-256 stored, each purpose with its lifetime.
import { createHash, randomBytes } from 'node:crypto';

export const EMAIL_TOKEN_PURPOSES = {
  verify_email: { lifetimeSeconds: 24 * 60 * 60 },
  password_reset: { lifetimeSeconds: 30 * 60 },
} as const;
export type EmailTokenPurpose = keyof typeof EMAIL_TOKEN_PURPOSES;

export const newEmailToken = () => randomBytes(32).toString('base64url');
export const hashEmailToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A token as we issue it (43 base64url characters); anything else is refused before a query. */
export const looksLikeEmailToken = (token: string) => /^[A-Za-z0-9_-]{43}$/.test(token);
