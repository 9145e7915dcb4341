import { hashPassword, normaliseEmail } from './credentials';
import type { DataRegion } from '@cryptocare/platform';
import type { IdentityStore } from '../store/identity-store';

/** Admins are not self-registered: one is created from configuration when missing, in the deployment's data region (its address counts as verified). */
export async function ensureAdmin(store: IdentityStore, email: string, password: string, region: DataRegion): Promise<void> {
  const normalised = normaliseEmail(email);
  if (await store.findByEmail(normalised)) return;
  await store.createUser({ email: normalised, passwordHash: await hashPassword(password), role: 'admin', displayName: 'Administrator', region, verified: true });
}
