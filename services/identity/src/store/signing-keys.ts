import type { JWK } from 'jose';
import type { PrismaClient, SigningKey } from '../generated/prisma';
import { ACCESS_TOKEN_SECONDS, newSigningKey, type KeyPairJwk } from '../domain/tokens';
import { isEncryptedJwk, type KeyEncryption } from '../domain/key-encryption';

/**
 * How long a new key is published before it signs. It must exceed every cache of the JWKS in
 * front of a verifier: the gateway's AccessTokenVerifier refetches on an unknown kid at most every
 * 30 s, and `/.well-known/jwks.json` is cacheable for 300 s. An hour leaves a wide margin.
 */
export const KEY_PUBLISH_LEAD_MS = 60 * 60 * 1000;
/** Clock skew allowed between identity and the verifiers when an old key is retired. */
export const KEY_RETIRE_SKEW_MS = 5 * 60 * 1000;

export interface RotationResult {
  rotated: boolean;
  kid?: string;
  activatesAt?: Date;
  /** Keys whose retirement this rotation scheduled (or, in an emergency, did at once). */
  retired: Array<{ kid: string; retiredAt: Date }>;
}

/**
 * identity's token signing keys (table `signing_keys`). A key is published in the JWKS from its
 * creation until `retiredAt`; it signs from `activatesAt`, and the newest active one signs. A
 * rotation creates a key that activates after the publish lead and schedules the older keys'
 * retirement for when every token they signed has expired. Private keys are stored encrypted.
 * Every change runs under one advisory lock, so replicas rotating at once create one key.
 */
export class SigningKeyRing {
  private readonly now: () => Date;
  private readonly publishLeadMs: number;

  constructor(
    private readonly db: PrismaClient,
    private readonly encryption: KeyEncryption,
    private readonly schema: string,
    private readonly options: { rotationDays: number; publishLeadMs?: number; now?: () => Date },
  ) {
    this.now = options.now ?? (() => new Date());
    this.publishLeadMs = options.publishLeadMs ?? KEY_PUBLISH_LEAD_MS;
  }

  /** The key that signs now (created on first use) and every published public key. */
  async signingKeys(): Promise<{ current: KeyPairJwk; all: Array<{ kid: string; publicJwk: JWK }> }> {
    let published = await this.published();
    let current = this.newestActive(published);
    if (!current) {
      // First start (or every key retired by hand): nothing signed yet, so the key signs at once.
      await this.locked(async (tx, now) => {
        if (this.newestActive(await this.published(tx))) return;
        await this.insert(tx, now, now);
      });
      published = await this.published();
      current = this.newestActive(published)!;
    }
    return {
      current: { kid: current.kid, privateJwk: this.privateJwkOf(current), publicJwk: current.publicJwk as JWK },
      all: published.map((k) => ({ kid: k.kid, publicJwk: k.publicJwk as JWK })),
    };
  }

  /** Rotates when the newest key is older than the rotation period (the scheduled task). */
  rotateIfDue(): Promise<RotationResult> {
    return this.rotate({ onlyIfDue: true });
  }

  /**
   * Creates a key. Normally it is published now and signs after the publish lead, and the older
   * keys leave the JWKS once their last tokens expired. `emergency` (a key leaked): the new key
   * signs at once and every older key leaves the JWKS at once; the tokens they signed die.
   */
  async rotate(options: { emergency?: boolean; onlyIfDue?: boolean } = {}): Promise<RotationResult> {
    return this.locked(async (tx, now) => {
      const published = await this.published(tx);
      if (options.onlyIfDue) {
        const newest = await tx.signingKey.findFirst({ orderBy: { createdAt: 'desc' } });
        // No key yet: the first one is created, active at once, when a token is first signed.
        if (!newest || newest.createdAt.getTime() + this.options.rotationDays * 86_400_000 > now.getTime()) return { rotated: false, retired: [] };
      }
      const activatesAt = options.emergency ? now : new Date(now.getTime() + this.publishLeadMs);
      const kid = await this.insert(tx, now, activatesAt);
      const retiredAt = options.emergency ? now : new Date(activatesAt.getTime() + ACCESS_TOKEN_SECONDS * 1000 + KEY_RETIRE_SKEW_MS);
      const retired = published.filter((k) => options.emergency || !k.retiredAt || k.retiredAt > retiredAt).map((k) => ({ kid: k.kid, retiredAt }));
      if (retired.length > 0) await tx.signingKey.updateMany({ where: { kid: { in: retired.map((k) => k.kid) } }, data: { retiredAt } });
      return { rotated: true, kid, activatesAt, retired };
    });
  }

  /**
   * At start: encrypts private keys stored in plaintext (rows from before encryption) and
   * re-encrypts those under an old encryption key with the current one. Returns how many changed.
   */
  async encryptStoredKeys(): Promise<number> {
    return this.locked(async (tx) => {
      let changed = 0;
      for (const row of await tx.signingKey.findMany()) {
        const stored = row.privateJwk as unknown;
        if (isEncryptedJwk(stored) && stored.kek === this.encryption.currentId) continue;
        const jwk = isEncryptedJwk(stored) ? this.encryption.decrypt(stored) : (stored as JWK);
        await tx.signingKey.update({ where: { kid: row.kid }, data: { privateJwk: this.encryption.encrypt(jwk) as object } });
        changed++;
      }
      return changed;
    });
  }

  private privateJwkOf(row: SigningKey): JWK {
    const stored = row.privateJwk as unknown;
    // A plaintext row can only exist until encryptStoredKeys ran at start.
    return isEncryptedJwk(stored) ? this.encryption.decrypt(stored) : (stored as JWK);
  }

  private published(tx: Pick<PrismaClient, 'signingKey'> = this.db): Promise<SigningKey[]> {
    const now = this.now();
    return tx.signingKey.findMany({ where: { OR: [{ retiredAt: null }, { retiredAt: { gt: now } }] }, orderBy: [{ activatesAt: 'desc' }, { createdAt: 'desc' }] });
  }

  private newestActive(published: SigningKey[]): SigningKey | undefined {
    const now = this.now();
    return published.find((k) => k.activatesAt <= now);
  }

  private async insert(tx: Pick<PrismaClient, 'signingKey'>, createdAt: Date, activatesAt: Date): Promise<string> {
    const key = await newSigningKey();
    await tx.signingKey.create({
      data: { kid: key.kid, privateJwk: this.encryption.encrypt(key.privateJwk) as object, publicJwk: key.publicJwk as object, createdAt, activatesAt },
    });
    return key.kid;
  }

  /** One transaction holding the schema's signing-key lock: concurrent callers run one after another. */
  private locked<T>(work: (tx: Parameters<Parameters<PrismaClient['$transaction']>[0]>[0], now: Date) => Promise<T>): Promise<T> {
    return this.db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe('SELECT pg_advisory_xact_lock(hashtext($1))::text', `${this.schema}.signing_keys`);
      return work(tx, this.now());
    });
  }
}
