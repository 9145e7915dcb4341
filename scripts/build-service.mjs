// Builds one service for its container image: esbuild bundles the service and our libs into
//   dist/main.js         the process (node dist/main.js)
//   dist/migrate.js      applies its migrations (the Helm pre-upgrade Job: node dist/migrate.js)
//   dist/prisma.config.mjs, dist/prisma/{schema.prisma,migrations}  what the Prisma CLI reads
//   dist/generated/prisma  the generated Prisma client (it loads its wasm next to itself)
// npm packages stay external: the image installs the service's production dependencies.
// Usage: node scripts/build-service.mjs <service>
import { build } from 'esbuild';
import { cpSync, existsSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const service = process.argv[2];
const dir = path.join(root, 'services', service ?? '');
if (!service || !existsSync(path.join(dir, 'src/main.ts'))) {
  console.error('usage: node scripts/build-service.mjs <gateway|identity|search|appointment|payment|video>');
  process.exit(2);
}
const dist = path.join(dir, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

/** Bundles our workspace code; keeps npm packages and the generated Prisma client external. */
const workspaceOnly = {
  name: 'workspace-only',
  setup(b) {
    b.onResolve({ filter: /generated\/prisma$/ }, () => ({ path: './generated/prisma/index.js', external: true }));
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@cryptocare/') ? undefined : { path: args.path, external: true }));
  },
};
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, plugins: [workspaceOnly], logLevel: 'warning' };

await build({ ...common, entryPoints: [path.join(dir, 'src/main.ts')], outfile: path.join(dist, 'main.js') });
// identity's signing-key rotation command (docs/operations/signing-keys.md): `node dist/rotate-keys.js` in a pod.
if (existsSync(path.join(dir, 'src/rotate-keys.ts'))) await build({ ...common, entryPoints: [path.join(dir, 'src/rotate-keys.ts')], outfile: path.join(dist, 'rotate-keys.js') });
// identity's consent documents (services/identity/src/domain/consent-documents.ts reads dist/legal).
if (service === 'identity') cpSync(path.join(root, 'docs/legal'), path.join(dist, 'legal'), { recursive: true });
// identity's audit-chain check (docs/compliance/audit.md): `node dist/verify-audit.js` in a pod.
if (existsSync(path.join(dir, 'src/verify-audit.ts'))) await build({ ...common, entryPoints: [path.join(dir, 'src/verify-audit.ts')], outfile: path.join(dist, 'verify-audit.js') });

const hasDatabase = existsSync(path.join(dir, 'prisma/schema.prisma'));
if (hasDatabase) {
  const migrate = path.join(dist, 'migrate-entry.ts');
  writeFileSync(
    migrate,
    `import { applyMigrations, createLogger } from '@cryptocare/platform';
const logger = createLogger('${service}-migrate');
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) { logger.fatal('DATABASE_URL is not set'); process.exit(1); }
applyMigrations({ serviceDir: __dirname, databaseUrl, schema: process.env.DATABASE_SCHEMA ?? '${service}' })
  .then(() => logger.info('migrations applied'), (err) => { logger.fatal({ err }, 'migrations failed'); process.exit(1); });
`,
  );
  await build({ ...common, entryPoints: [migrate], outfile: path.join(dist, 'migrate.js') });
  rmSync(migrate);
  // The Prisma CLI loads its config as an ES module.
  await build({ ...common, format: 'esm', entryPoints: [path.join(dir, 'prisma.config.ts')], outfile: path.join(dist, 'prisma.config.mjs') });
  cpSync(path.join(dir, 'prisma'), path.join(dist, 'prisma'), { recursive: true });
  cpSync(path.join(dir, 'src/generated/prisma'), path.join(dist, 'generated/prisma'), { recursive: true });
}
console.log(`built services/${service}/dist`);
