import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenVerifier, Principal, Role } from '@cryptocare/platform';
import { HttpError } from './http-errors';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Route guard: the access token from `Authorization: Bearer …` (or `?access_token=` for
 * EventSource, which cannot set headers) is verified locally with identity's JWKS.
 */
export function requireRole(verifier: AccessTokenVerifier, ...roles: Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const fromQuery = (request.query as { access_token?: string } | undefined)?.access_token;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : fromQuery;
    if (!token) throw new HttpError(401, 'UNAUTHENTICATED', 'an access token is required');
    request.principal = await verifier.verify(token);
    if (roles.length > 0 && !roles.includes(request.principal.role)) {
      throw new HttpError(403, 'FORBIDDEN', `this route is for ${roles.join(' or ')} accounts`);
    }
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpError(401, 'UNAUTHENTICATED', 'an access token is required');
  return request.principal;
}
