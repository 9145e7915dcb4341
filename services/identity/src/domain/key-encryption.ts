import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { ConfigError, z, type Logger } from '@cryptocare/platform';

/**
 * How a private signing key is stored: AES-256-GCM under an encryption key from the environment,
 * named by `kek` (the first 16 hex digits of the key's SHA-256) so the encryption key can itself
 * be rotated: old keys stay readable (SIGNING_KEY_ENCRYPTION_KEYS_OLD) while rows are re-encrypted.
 */
export interface EncryptedJwk {
  enc: 'A256GCM';
  kek: string;
  iv: string;
  tag: string;
  ct: string;
}

export function isEncryptedJwk(value: unknown): value is EncryptedJwk {
  const v = value as Partial<EncryptedJwk> | null;
  return !!v && typeof v === 'object' && v.enc === 'A256GCM' && typeof v.kek === 'string' && typeof v.ct === 'string';
}

/** Token signing keys: rotation period and the encryption of private keys at rest (docs/operations/signing-keys.md). */
export const signingKeyEnv = {
  KEY_ROTATION_DAYS: z.coerce.number().positive().default(30),
  /** 32 bytes, base64; required in production. */
  SIGNING_KEY_ENCRYPTION_KEY: z.string().optional(),
  /** Comma-separated previous encryption keys, still read while rows are re-encrypted at start. */
  SIGNING_KEY_ENCRYPTION_KEYS_OLD: z.string().optional(),
};

/** Dev/test only: a fixed key, so restarts read what they wrote. Never used in production. */
const DEVELOPMENT_KEY = createHash('sha256').update('cryptocare development signing-key encryption key (not secret)').digest();

export class KeyEncryption {
  private readonly keys = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(current: Buffer, old: Buffer[] = []) {
    for (const key of [current, ...old]) {
      if (key.length !== 32) throw new ConfigError('a signing-key encryption key must be 32 bytes (base64)');
      this.keys.set(kekId(key), key);
    }
    this.currentId = kekId(current);
  }

  encrypt(jwk: JWK): EncryptedJwk {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    const ct = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
    return { enc: 'A256GCM', kek: this.currentId, iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ct: ct.toString('base64url') };
  }

  decrypt(envelope: EncryptedJwk): JWK {
    const key = this.keys.get(envelope.kek);
    if (!key) throw new Error(`signing key encrypted with unknown encryption key ${envelope.kek}: add it to SIGNING_KEY_ENCRYPTION_KEYS_OLD`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64url'));
    return JSON.parse(Buffer.concat([decipher.update(Buffer.from(envelope.ct, 'base64url')), decipher.final()]).toString('utf8')) as JWK;
  }
}

function kekId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function decodeKey(name: string, value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(`invalid configuration:\n  ${name}: expected 32 bytes in base64 (openssl rand -base64 32), got ${key.length}`);
  return key;
}

/**
 * SIGNING_KEY_ENCRYPTION_KEY (32 bytes, base64) encrypts; SIGNING_KEY_ENCRYPTION_KEYS_OLD
 * (comma-separated) only decrypt. Missing in production: the process stops naming the variable.
 * Elsewhere a fixed development key is used, with a loud warning.
 */
export function keyEncryptionFromEnv(env: { NODE_ENV: string; SIGNING_KEY_ENCRYPTION_KEY?: string; SIGNING_KEY_ENCRYPTION_KEYS_OLD?: string }, logger?: Logger): KeyEncryption {
  const old = (env.SIGNING_KEY_ENCRYPTION_KEYS_OLD ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map((s) => decodeKey('SIGNING_KEY_ENCRYPTION_KEYS_OLD', s));
  if (env.SIGNING_KEY_ENCRYPTION_KEY) return new KeyEncryption(decodeKey('SIGNING_KEY_ENCRYPTION_KEY', env.SIGNING_KEY_ENCRYPTION_KEY), old);
  if (env.NODE_ENV === 'production') {
    throw new ConfigError('invalid configuration:\n  SIGNING_KEY_ENCRYPTION_KEY: required in production (32 bytes, base64), it encrypts the token signing keys at rest');
  }
  logger?.warn('SIGNING_KEY_ENCRYPTION_KEY not set: signing keys are encrypted with a PUBLIC development key. Never run like this in production.');
  return new KeyEncryption(DEVELOPMENT_KEY, old);
}
