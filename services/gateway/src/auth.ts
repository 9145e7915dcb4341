import type { FastifyReply, FastifyRequest } from 'fastify';
import { unverifiedRegionClaim, type AccessTokenVerifier, type Principal, type Role } from '@cryptocare/platform';
import type { RevocationList } from '@cryptocare/cache';
import { HttpError } from './http-errors';
import type { DataRegions } from './data-region';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Who is calling: the access token of `Authorization: Bearer …`, verified locally with identity's
 * JWKS, and not revoked (signed out, session revoked, account erased) in the shared revocation
 * list. Tokens are never taken from the query string, where they would land in logs and
 * browser history (the event stream has its own short-lived ticket).
 */
export class Authenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revocations: RevocationList,
    /** This deployment's data region: tokens of another region's users are answered WRONG_REGION. */
    readonly regions?: DataRegions,
  ) {}

  async principalOf(token: string): Promise<Principal> {
    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (err) {
      // Another region's identity signs with keys this one does not have, so its tokens never
      // verify here. Their unverified `region` claim is read for one thing only: to name, in a
      // refusal, where the client should go (a public URL). The answer is a refusal either way,
      // so a forged claim gains nothing but that URL; nothing is granted on an unverified claim.
      const claimed = unverifiedRegionClaim(token);
      if (this.regions && claimed && claimed !== this.regions.here) throw this.regions.misdirected(claimed);
      throw err;
    }
    // A verified token of another region (should the regions ever share keys) is refused too.
    if (this.regions && principal.region && principal.region !== this.regions.here) throw this.regions.misdirected(principal.region);
    return this.unlessRevoked(principal);
  }

  /** The principal of a credential derived from an access token (a stream ticket), if still valid. */
  async unlessRevoked(principal: Principal): Promise<Principal> {
    let revoked: boolean;
    try {
      revoked = await this.revocations.isRevoked(principal);
    } catch {
      // Without the list a signed-out or erased user's token could pass: refuse, retryably.
      throw new HttpError(503, 'AUTH_UNAVAILABLE', 'sign-in cannot be checked right now, retry shortly');
    }
    if (revoked) throw new HttpError(401, 'TOKEN_REVOKED', 'this session has ended; sign in again');
    return principal;
  }

  /** Route guard: a valid, unrevoked bearer token of one of `roles` (any role when none given). */
  requireRole(...roles: Role[]) {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const header = request.headers.authorization;
      if (!header?.startsWith('Bearer ')) throw new HttpError(401, 'UNAUTHENTICATED', 'an access token is required (Authorization: Bearer …)');
      request.principal = await this.principalOf(header.slice(7));
      if (roles.length > 0 && !roles.includes(request.principal.role)) {
        throw new HttpError(403, 'FORBIDDEN', `this route is for ${roles.join(' or ')} accounts`);
      }
    };
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpError(401, 'UNAUTHENTICATED', 'an access token is required');
  return request.principal;
}
