import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { unauthenticated } from './errors';

export type Role = 'patient' | 'professional' | 'admin';

/** The data regions: each is its own deployment, whose databases hold only its users (docs/compliance/data-region.md). */
export const DATA_REGIONS = ['CH', 'EU'] as const;
export type DataRegion = (typeof DATA_REGIONS)[number];

export function isDataRegion(value: unknown): value is DataRegion {
  return typeof value === 'string' && (DATA_REGIONS as readonly string[]).includes(value);
}

export interface Principal {
  userId: string;
  role: Role;
  /** The sign-in (refresh token family) the token belongs to: what sign-out revokes. */
  sessionId: string;
  /** When the token was issued (ms since epoch). */
  issuedAt: number;
  /** The data region of the user (the `region` claim); absent in credentials that do not carry it (stream tickets). */
  region?: DataRegion;
}

export const ACCESS_TOKEN_AUDIENCE = 'cryptocare-api';

/**
 * Verifies access tokens locally against identity's public keys (JWKS). The key set is fetched
 * lazily and again when a token names a key we do not know yet (rotation), at most every 30 s.
 */
export class AccessTokenVerifier {
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private kids = new Set<string>();
  private fetchedAt = 0;
  private issuer = '';

  constructor(private readonly fetchJwks: () => Promise<{ jwks: JSONWebKeySet; issuer: string }>) {}

  async verify(token: string): Promise<Principal> {
    const kid = peekKid(token);
    if (!this.keys || (kid && !this.kids.has(kid) && Date.now() - this.fetchedAt > 30_000)) await this.refresh();
    try {
      const { payload } = await jwtVerify(token, this.keys!, { issuer: this.issuer, audience: ACCESS_TOKEN_AUDIENCE, algorithms: ['ES256'] });
      const role = payload.role as Role;
      if (!payload.sub || !['patient', 'professional', 'admin'].includes(role)) throw new Error('claims');
      return {
        userId: payload.sub,
        role,
        sessionId: typeof payload.sid === 'string' ? payload.sid : '',
        issuedAt: (payload.iat ?? 0) * 1000,
        ...(isDataRegion(payload.region) ? { region: payload.region } : {}),
      };
    } catch {
      throw unauthenticated('INVALID_TOKEN', 'the access token is invalid or expired');
    }
  }

  private async refresh() {
    const { jwks, issuer } = await this.fetchJwks();
    this.keys = createLocalJWKSet(jwks);
    this.kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => !!k));
    this.issuer = issuer;
    this.fetchedAt = Date.now();
  }
}

/**
 * The `region` claim of a token WITHOUT verifying it: for nothing but naming, in a refusal, the
 * region whose deployment a client should go to (a token signed by another region's identity
 * cannot verify here). Never a basis to grant anything.
 */
export function unverifiedRegionClaim(token: string): DataRegion | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { region?: unknown };
    return isDataRegion(payload?.region) ? payload.region : undefined;
  } catch {
    return undefined;
  }
}

function peekKid(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: string };
    return header.kid;
  } catch {
    return undefined;
  }
}
