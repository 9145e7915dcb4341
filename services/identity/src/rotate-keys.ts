// Rotates identity's token signing key now: `npx tsx services/identity/src/rotate-keys.ts [--emergency]`
// (DATABASE_URL, DATABASE_SCHEMA, SIGNING_KEY_ENCRYPTION_KEY as for the service).
// Normal: the new key is published now and signs after the publish lead; older keys leave the JWKS
// once their tokens expired. --emergency (a key leaked): the new key signs at once and every older
// key leaves the JWKS at once, so every access token signed before dies (users refresh or sign in).
import { backendEnv, createLogger, loadConfig, prismaAdapter, transactionOptions } from '@cryptocare/platform';
import { PrismaClient } from './generated/prisma';
import { keyEncryptionFromEnv, signingKeyEnv } from './domain/key-encryption';
import { SigningKeyRing, type RotationResult } from './store/signing-keys';

export async function rotateKeysNow(env: NodeJS.ProcessEnv, options: { emergency: boolean }): Promise<RotationResult> {
  const config = loadConfig({ ...backendEnv('identity', 50051, 9101), ...signingKeyEnv }, env);
  const logger = createLogger('identity-rotate-keys', config.LOG_LEVEL);
  const db = new PrismaClient({ adapter: prismaAdapter(config.DATABASE_URL, config.DATABASE_SCHEMA), transactionOptions });
  try {
    const ring = new SigningKeyRing(db, keyEncryptionFromEnv(config, logger), config.DATABASE_SCHEMA, { rotationDays: config.KEY_ROTATION_DAYS });
    await ring.encryptStoredKeys();
    return await ring.rotate({ emergency: options.emergency });
  } finally {
    await db.$disconnect();
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--emergency');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: rotate-keys.ts [--emergency]`);
    process.exit(2);
  }
  rotateKeysNow(process.env, { emergency: args.includes('--emergency') }).then(
    (r) => {
      console.log(JSON.stringify({ kid: r.kid, activatesAt: r.activatesAt, retired: r.retired }));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
