import { hashPassword, normaliseEmail } from './credentials';
import type { IdentityStore } from '../store/identity-store';

/** Admins are not self-registered: one is created from configuration when missing. */
export async function ensureAdmin(store: IdentityStore, email: string, password: string): Promise<void> {
  const normalised = normaliseEmail(email);
  if (await store.findByEmail(normalised)) return;
  await store.createUser({ email: normalised, passwordHash: await hashPassword(password), role: 'admin', displayName: 'Administrator', region: 'CH' });
}
