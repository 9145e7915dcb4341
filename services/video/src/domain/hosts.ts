// Who hosts a booking's Zoom meeting, free of Prisma and HTTP.

/** A professional's own Zoom user, one of the configured pool, or the account's own user ("me"). */
export type HostKind = 'professional' | 'pool' | 'account';

/** Zoom's limit: 100 meeting creations or updates per host user and UTC day. */
export const ZOOM_DAILY_MEETING_LIMIT = 100;

/** The account's own user, whom Zoom's `users/me` means: the host when neither professionals' users nor a pool exist. */
export const ACCOUNT_HOST = 'me';

/** The UTC day (yyyy-mm-dd) an instant falls in: Zoom's daily limits reset at 00:00 UTC. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The email of a professional's Zoom user. Zoom needs one per user; it carries no name (the
 * professional's id only), under a domain the practice controls (custCreate users get no mail).
 */
export function professionalHostEmail(professionalId: string, domain: string): string {
  return `pro-${professionalId.toLowerCase()}@${domain.toLowerCase()}`;
}

/** The configured pool: Zoom user ids or emails, comma or space separated, without duplicates. */
export function parseHostPool(value: string | undefined): string[] {
  return [...new Set((value ?? '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}
