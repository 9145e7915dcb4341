import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { common, identity } from '@cryptocare/contracts';
import { AccessTokenVerifier, ConfigError, createGrpcClient, prismaAdapter, type GrpcClient } from '@cryptocare/platform';
import { InProcessBus } from '@cryptocare/events';
import { infraUrls, migratedSchema, currentConsents } from '@cryptocare/testing';
import pg from 'pg';
import { main } from '../src/main';
import { PrismaClient } from '../src/generated/prisma';
import { newSigningKey } from '../src/domain/tokens';
import { KeyEncryption, keyEncryptionFromEnv } from '../src/domain/key-encryption';
import { KEY_PUBLISH_LEAD_MS, SigningKeyRing } from '../src/store/signing-keys';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '../../..');

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

describe('signing keys: rotation with overlap, encryption at rest (real PostgreSQL)', () => {
  const encryptionKey = randomBytes(32);
  const databaseUrl = infraUrls().databaseUrl;
  let schema: string;
  let sql: pg.Client;
  let service: Awaited<ReturnType<typeof main>>;
  let client: GrpcClient<typeof identity, 'IdentityService'>;
  const prismas: PrismaClient[] = [];
  let legacyKid: string;
  let n = 0;

  const env = () => ({ DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, SIGNING_KEY_ENCRYPTION_KEY: encryptionKey.toString('base64'), LOG_LEVEL: 'silent', NODE_ENV: 'test' as const });
  /** A verifier that has never seen the JWKS, as a gateway replica starting now. */
  const freshVerifier = () =>
    new AccessTokenVerifier(async () => {
      const { jwksJson, issuer } = await client.getJwks({});
      return { jwks: JSON.parse(jwksJson), issuer };
    });
  const publishedKids = async () => (JSON.parse((await client.getJwks({})).jwksJson) as { keys: Array<{ kid: string; d?: string }> }).keys.map((k) => k.kid);
  const signIn = async () =>
    (await client.register({ email: `keys${++n}@example.ch`, password: 'correct horse battery', role: identity.Role.ROLE_PATIENT, displayName: 'K', region: common.Region.REGION_CH, consents: currentConsents() })).tokens!
      .accessToken;
  /** A second process on the same table (another replica, or the rotate command), with its own clock. */
  const ring = (options: { now?: () => Date; encryption?: KeyEncryption } = {}) => {
    const db = new PrismaClient({ adapter: prismaAdapter(databaseUrl, schema) });
    prismas.push(db);
    return new SigningKeyRing(db, options.encryption ?? new KeyEncryption(encryptionKey), schema, { rotationDays: 30, now: options.now });
  };

  beforeAll(async () => {
    schema = await migratedSchema('identity');
    sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    // A key stored the old way: private JWK in plaintext, signing since yesterday.
    const legacy = await newSigningKey();
    legacyKid = legacy.kid;
    await sql.query(
      `INSERT INTO "${schema}".signing_keys (kid, private_jwk, public_jwk, created_at, activates_at) VALUES ($1, $2, $3, now() - interval '1 day', now() - interval '1 day')`,
      [legacy.kid, legacy.privateJwk, legacy.publicJwk],
    );
    service = await main({ ...env(), GRPC_PORT: '0', HTTP_PORT: '0' }, { bus: new InProcessBus() });
    client = createGrpcClient(identity, 'IdentityService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await service.stop();
    await Promise.all(prismas.map((p) => p.$disconnect()));
    await sql.end();
  });

  it('encrypts plaintext private keys at start: no "d" readable in the table, and the key still signs', async () => {
    const { rows } = await sql.query<{ private_jwk: Record<string, unknown> }>(`SELECT private_jwk FROM "${schema}".signing_keys`);
    expect(rows.length).toBe(1);
    for (const { private_jwk } of rows) {
      expect(private_jwk).not.toHaveProperty('d');
      expect(private_jwk).toMatchObject({ enc: 'A256GCM', kek: expect.any(String), iv: expect.any(String), tag: expect.any(String), ct: expect.any(String) });
      expect(JSON.stringify(private_jwk)).not.toContain('"d"');
    }
    const token = await signIn();
    expect(kidOf(token)).toBe(legacyKid);
    await expect(freshVerifier().verify(token)).resolves.toMatchObject({ role: 'patient' });
  });

  let pendingKid: string;
  it('the rotate command publishes a new key that does not sign before its publish lead', async () => {
    const before = await signIn();
    const { stdout } = await run(path.join(repoRoot, 'node_modules/.bin/tsx'), ['services/identity/src/rotate-keys.ts'], { cwd: repoRoot, env: { ...process.env, ...env() } });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { kid: string; activatesAt: string; retired: Array<{ kid: string; retiredAt: string }> };
    pendingKid = result.kid;
    expect(new Date(result.activatesAt).getTime()).toBeGreaterThan(Date.now() + KEY_PUBLISH_LEAD_MS - 60_000);
    // The old key is retired only once the last token it may sign (until activation) has expired.
    expect(result.retired).toEqual([{ kid: legacyKid, retiredAt: expect.any(String) }]);
    expect(new Date(result.retired[0]!.retiredAt).getTime()).toBeGreaterThan(new Date(result.activatesAt).getTime() + 15 * 60_000);

    expect(await publishedKids()).toEqual(expect.arrayContaining([legacyKid, pendingKid]));
    const after = await signIn();
    expect(kidOf(after)).toBe(legacyKid);
    await expect(freshVerifier().verify(before)).resolves.toMatchObject({ role: 'patient' });
    const { rows } = await sql.query(`SELECT private_jwk FROM "${schema}".signing_keys WHERE kid = $1`, [pendingKid]);
    expect(rows[0].private_jwk).not.toHaveProperty('d');
  });

  let oldToken: string;
  let newKid: string;
  it('once the new key is active it signs, and tokens of both keys are accepted during the overlap', async () => {
    oldToken = await signIn();
    expect(kidOf(oldToken)).toBe(legacyKid);
    // A rotation made a publish lead ago (its key is active now), seen from the service's clock.
    const result = await ring({ now: () => new Date(Date.now() - KEY_PUBLISH_LEAD_MS - 1_000) }).rotate();
    newKid = result.kid!;
    const newToken = await signIn();
    expect(kidOf(newToken)).toBe(newKid);
    const verifier = freshVerifier();
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ role: 'patient' });
    await expect(verifier.verify(newToken)).resolves.toMatchObject({ role: 'patient' });
    expect(await publishedKids()).toEqual(expect.arrayContaining([legacyKid, newKid]));
  });

  it('an emergency rotation retires every older key at once: gone from the JWKS, its tokens refused', async () => {
    const newKeyToken = await signIn();
    const { stdout } = await run(path.join(repoRoot, 'node_modules/.bin/tsx'), ['services/identity/src/rotate-keys.ts', '--emergency'], { cwd: repoRoot, env: { ...process.env, ...env() } });
    const { kid } = JSON.parse(stdout.trim().split('\n').pop()!) as { kid: string };
    expect(await publishedKids()).toEqual([kid]);
    const verifier = freshVerifier();
    await expect(verifier.verify(oldToken)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(verifier.verify(newKeyToken)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const token = await signIn();
    expect(kidOf(token)).toBe(kid);
    await expect(verifier.verify(token)).resolves.toMatchObject({ role: 'patient' });
  });

  it('a scheduled rotation runs once the period passed, and two replicas at once create one key', async () => {
    const count = async () => (await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".signing_keys`)).rows[0]!.n;
    const before = Number(await count());
    expect(await ring().rotateIfDue()).toMatchObject({ rotated: false });
    const in31Days = () => new Date(Date.now() + 31 * 86_400_000);
    const results = await Promise.all([ring({ now: in31Days }).rotateIfDue(), ring({ now: in31Days }).rotateIfDue(), ring({ now: in31Days }).rotateIfDue()]);
    expect(results.filter((r) => r.rotated)).toHaveLength(1);
    expect(Number(await count())).toBe(before + 1);
  });

  it('re-encrypts under a new encryption key while the old one stays readable, and refuses a key it cannot read', async () => {
    const next = randomBytes(32);
    const rotated = new KeyEncryption(next, [encryptionKey]);
    expect(await ring({ encryption: rotated }).encryptStoredKeys()).toBeGreaterThan(0);
    const { rows } = await sql.query<{ private_jwk: { kek: string } }>(`SELECT private_jwk FROM "${schema}".signing_keys`);
    expect(new Set(rows.map((r) => r.private_jwk.kek))).toEqual(new Set([rotated.currentId]));
    await expect(ring({ encryption: rotated }).signingKeys()).resolves.toMatchObject({ current: { privateJwk: { d: expect.any(String) } } });
    await expect(ring({ encryption: new KeyEncryption(randomBytes(32)) }).signingKeys()).rejects.toThrow(/SIGNING_KEY_ENCRYPTION_KEYS_OLD/);
  });

  it('in production a missing or malformed SIGNING_KEY_ENCRYPTION_KEY stops the process naming it', () => {
    expect(() => keyEncryptionFromEnv({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => keyEncryptionFromEnv({ NODE_ENV: 'production' })).toThrow(/SIGNING_KEY_ENCRYPTION_KEY/);
    expect(() => keyEncryptionFromEnv({ NODE_ENV: 'production', SIGNING_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/SIGNING_KEY_ENCRYPTION_KEY: expected 32 bytes/);
    expect(keyEncryptionFromEnv({ NODE_ENV: 'test' })).toBeInstanceOf(KeyEncryption);
  });
});
