import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The browser keeps its refresh token in a cookie it cannot read (httpOnly), sent only to the
 * auth routes (path /v1/auth) and only from our own pages (SameSite=Strict): a script injected
 * into the page cannot steal it, and another site cannot make the browser use it. The access
 * token stays in the page's memory. API clients keep using the JSON body as before.
 */
export const REFRESH_COOKIE = 'cc_refresh';
const PATH = '/v1/auth';
/** identity's refresh tokens live 30 days (REFRESH_TOKEN_DAYS); the cookie no longer. */
const MAX_AGE_SECONDS = 30 * 86_400;

/** Plain HTTP on a loopback address is local development (`make dev`): a Secure cookie would not come back there. */
function isPlainHttpDev(request: FastifyRequest): boolean {
  if (request.protocol !== 'http') return false;
  const host = request.hostname.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function options(request: FastifyRequest) {
  return { path: PATH, httpOnly: true, secure: !isPlainHttpDev(request), sameSite: 'strict' as const };
}

export function setRefreshCookie(request: FastifyRequest, reply: FastifyReply, refreshToken: string | undefined): void {
  if (refreshToken) reply.setCookie(REFRESH_COOKIE, refreshToken, { ...options(request), maxAge: MAX_AGE_SECONDS });
}

export function clearRefreshCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, options(request));
}

/** The refresh token of the body (API clients) or else of the cookie (the browser). */
export function refreshTokenOf(request: FastifyRequest): string | undefined {
  const fromBody = (request.body as { refreshToken?: string } | undefined)?.refreshToken;
  if (fromBody) return fromBody;
  const fromCookie = request.cookies?.[REFRESH_COOKIE];
  // The same bounds as the body's (RefreshBody): anything else is not a token of ours.
  return fromCookie && fromCookie.length <= 200 && /^[\x21-\x7e]+$/.test(fromCookie) ? fromCookie : undefined;
}
