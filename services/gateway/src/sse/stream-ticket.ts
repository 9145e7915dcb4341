import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal, Role } from '@cryptocare/platform';
import { HttpError } from '../http-errors';

/** How long a stream ticket opens its stream (an EventSource reconnecting within it reuses it). */
export const STREAM_TICKET_TTL_MS = 60_000;

interface TicketClaims {
  /** user id, role, sign-in (session) of the access token the ticket was issued for */
  sub: string;
  role: Role;
  sid: string;
  /** when that access token was issued (ms), for revocation checks */
  iat: number;
  /** the one booking whose event stream it opens */
  apt: string;
  /** expiry, ms since epoch */
  exp: number;
}

const ROLES: readonly Role[] = ['patient', 'professional', 'admin'];
const VERSION = 'st1';

/**
 * Short-lived credentials for `GET /v1/appointments/{id}/events?ticket=…`: EventSource cannot set
 * an Authorization header, and an access token in a URL ends up in logs and browser history. A
 * ticket is an HMAC-signed (SHA-256) statement "this user may open this booking's stream until
 * then", bound to one user and one booking and valid STREAM_TICKET_TTL_MS. Every gateway replica
 * must share the key (STREAM_TICKET_SECRET); without one each process draws its own, which is
 * right for a single process (dev, tests) only.
 */
export class StreamTickets {
  private readonly key: Buffer;

  constructor(
    secret: string | undefined,
    private readonly ttlMs = STREAM_TICKET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  issue(principal: Principal, appointmentId: string): { ticket: string; expiresAt: string } {
    const exp = this.now() + this.ttlMs;
    const claims: TicketClaims = { sub: principal.userId, role: principal.role, sid: principal.sessionId, iat: principal.issuedAt, apt: appointmentId, exp };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { ticket: `${VERSION}.${body}.${this.sign(body)}`, expiresAt: new Date(exp).toISOString() };
  }

  /** The principal a ticket speaks for, if it is genuine, unexpired and for this booking; else 401. */
  verify(ticket: string, appointmentId: string): Principal {
    const [version, body, mac, ...rest] = ticket.split('.');
    if (version !== VERSION || !body || !mac || rest.length > 0 || !this.matches(body, mac)) {
      throw new HttpError(401, 'INVALID_TICKET', 'the stream ticket is not valid');
    }
    let claims: TicketClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TicketClaims;
    } catch {
      throw new HttpError(401, 'INVALID_TICKET', 'the stream ticket is not valid');
    }
    if (typeof claims.sub !== 'string' || !ROLES.includes(claims.role) || typeof claims.exp !== 'number') {
      throw new HttpError(401, 'INVALID_TICKET', 'the stream ticket is not valid');
    }
    if (claims.apt !== appointmentId) throw new HttpError(401, 'INVALID_TICKET', 'the stream ticket is for another booking');
    if (claims.exp <= this.now()) throw new HttpError(401, 'TICKET_EXPIRED', 'the stream ticket has expired; ask for a new one');
    return { userId: claims.sub, role: claims.role, sessionId: typeof claims.sid === 'string' ? claims.sid : '', issuedAt: typeof claims.iat === 'number' ? claims.iat : 0 };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${body}`).digest('base64url');
  }

  private matches(body: string, mac: string): boolean {
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
