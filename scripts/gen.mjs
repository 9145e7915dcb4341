// Generates the TypeScript gRPC contracts (ts-proto) and every service's Prisma client.
// Run by `npm install` (postinstall) and `make gen`, so a fresh checkout never needs a manual step.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...prismaOfflineEnv() } });

function prismaOfflineEnv() {
  // Prisma 6 with driver adapters needs no engine binaries, but its CLI still looks for them and
  // would try to download them; pointing at any existing file keeps it offline.
  const anyFile = join(root, 'package.json');
  return {
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? anyFile,
    PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? anyFile,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
}

if (!existsSync(bin('buf'))) {
  console.log('gen: dependencies not installed yet, skipping');
  process.exit(0);
}

const out = join(root, 'libs/contracts/src/gen');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
run(bin('buf'), ['generate', 'proto', '--template', 'proto/buf.gen.yaml', '--output', 'libs/contracts/src/gen']);

for (const svc of ['identity', 'search', 'appointment', 'payment', 'video']) {
  const dir = join(root, 'services', svc);
  if (existsSync(join(dir, 'prisma', 'schema.prisma'))) {
    run(bin('prisma'), ['generate', '--schema', 'prisma/schema.prisma'], dir);
  }
}
