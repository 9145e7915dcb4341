import type { Cache } from './cache';

/** Who a verified access token speaks for, as far as revocation is concerned. */
export interface TokenHolder {
  userId: string;
  /** The refresh-token family (one sign-in) the access token was issued for; '' for old tokens. */
  sessionId: string;
  /** When the token was issued (ms since epoch). */
  issuedAt: number;
}

/**
 * Access tokens are verified locally and live for minutes; this list ends them at once, across
 * every gateway replica (it lives in the shared cache: Redis, or the embedded mode's in-process
 * cache). identity writes it when a session is signed out or revoked and when a user is erased;
 * an entry only has to outlive the tokens it revokes, so it expires with them.
 */
export class RevocationList {
  constructor(
    private readonly cache: Cache,
    /** The longest an access token lives (identity's access token lifetime), plus clock skew. */
    private readonly ttlSeconds: number,
  ) {}

  /** Ends every access token of one session (sign-out, refresh token reuse). */
  revokeSession(sessionId: string): Promise<void> {
    return this.cache.set(`revoked:session:${sessionId}`, Date.now(), this.ttlSeconds);
  }

  /** Ends every access token of a user issued up to now (erasure). */
  revokeUser(userId: string, at = Date.now()): Promise<void> {
    return this.cache.set(`revoked:user:${userId}`, at, this.ttlSeconds);
  }

  /** Throws when the cache cannot be read: the caller decides (the gateway refuses with 503). */
  async isRevoked(holder: TokenHolder): Promise<boolean> {
    // One read of both entries (an MGET in Redis): this runs on every authenticated request.
    const userKey = `revoked:user:${holder.userId}`;
    const [userSince, session] = (await this.cache.getMany(holder.sessionId ? [userKey, `revoked:session:${holder.sessionId}`] : [userKey])) as Array<number | undefined>;
    if (session !== undefined) return true;
    // Tokens are stamped in whole seconds: one issued in the same second as the revocation is
    // treated as issued before it.
    return userSince !== undefined && holder.issuedAt <= userSince + 1_000;
  }
}
