import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, type DataRegion, type Role } from '@cryptocare/platform';

export const ACCESS_TOKEN_SECONDS = 15 * 60;
export const REFRESH_TOKEN_DAYS = 30;

export interface KeyPairJwk {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function newSigningKey(): Promise<KeyPairJwk> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, publicJwk };
}

/** Short-lived access JWT that every process verifies locally with the JWKS. */
export async function signAccessToken(key: KeyPairJwk, issuer: string, user: { id: string; role: Role; region: DataRegion }, sessionId: string): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, 'ES256');
  // `sid`: the sign-in (refresh token family) it belongs to, so signing out ends it at once.
  // `region`: the user's data region; a gateway of another region answers WRONG_REGION with it.
  return new SignJWT({ role: user.role, sid: sessionId, region: user.region })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(issuer)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${ACCESS_TOKEN_SECONDS}s`)
    .sign(privateKey);
}
