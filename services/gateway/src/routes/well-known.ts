import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Backends } from '../clients';
import { errorResponses, NoContent } from './schemas';

/** The public members of an EC/RSA/OKP JWK: whatever identity sends, nothing private goes out. */
const PUBLIC_JWK_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use', 'key_ops'] as const;

/** How long clients and caches may keep the key set (identity publishes a key an hour before it signs). */
export const JWKS_MAX_AGE_SECONDS = 300;
/** This process asks identity at most this often. */
const JWKS_MEMO_MS = 30_000;

const Jwk = Type.Object(
  { kty: Type.String(), kid: Type.String(), alg: Type.Optional(Type.String()), use: Type.Optional(Type.String()), crv: Type.Optional(Type.String()), x: Type.Optional(Type.String()), y: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

/** `/.well-known/jwks.json`: identity's public token-verification keys, for anyone who verifies our access tokens. */
export function wellKnownRoutes(app: FastifyInstance, backends: Backends) {
  let memo: { body: string; etag: string; at: number } | undefined;
  const current = async () => {
    if (memo && Date.now() - memo.at < JWKS_MEMO_MS) return memo;
    const { jwksJson } = await backends.identity.getJwks({});
    const keys = ((JSON.parse(jwksJson) as { keys?: Array<Record<string, unknown>> }).keys ?? []).map((key) =>
      Object.fromEntries(PUBLIC_JWK_MEMBERS.filter((m) => key[m] !== undefined).map((m) => [m, key[m]])),
    );
    const body = JSON.stringify({ keys });
    memo = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, at: Date.now() };
    return memo;
  };

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        operationId: 'getJwks',
        summary: 'The public keys that verify access tokens (JWKS, RFC 7517); cacheable, with an ETag',
        description:
          'Keys are published before they sign and stay published until every token they signed has expired, so a client caching this for max-age never misses a key. Supports If-None-Match (304).',
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }), 304: NoContent, 429: errorResponses[429], 503: errorResponses[503], 504: errorResponses[504] },
      },
    },
    async (request, reply) => {
      const { body, etag } = await current();
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).header('etag', etag);
      const ifNoneMatch = request.headers['if-none-match'];
      if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.status(304).send();
      return reply.type('application/json').send(body);
    },
  );
}
