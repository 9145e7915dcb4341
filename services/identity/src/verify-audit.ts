// Verifies identity's audit chain: `npm run -w @cryptocare/identity-service verify-audit`, or
// `node dist/verify-audit.js` in a pod (DATABASE_URL, DATABASE_SCHEMA as for the service).
// Walks every entry in order, recomputing each hash and link; prints the first broken link and
// exits 1, or prints the number of entries and the head (worth keeping outside the database: only
// an outside copy of the head reveals entries cut from the end). Exit 2: usage or configuration.
import { backendEnv, loadConfig, prismaAdapter, transactionOptions } from '@cryptocare/platform';
import { PrismaClient } from './generated/prisma';
import { AuditTrail } from './store/audit-trail';

export async function verifyAudit(env: NodeJS.ProcessEnv) {
  const config = loadConfig(backendEnv('identity', 50051, 9101), env);
  const db = new PrismaClient({ adapter: prismaAdapter(config.DATABASE_URL, config.DATABASE_SCHEMA), transactionOptions });
  try {
    return await new AuditTrail(db, config.DATABASE_SCHEMA).verify();
  } finally {
    await db.$disconnect();
  }
}

if (require.main === module) {
  if (process.argv.length > 2) {
    console.error(`unknown argument(s): ${process.argv.slice(2).join(' ')}\nusage: verify-audit.ts`);
    process.exit(2);
  }
  verifyAudit(process.env).then(
    (r) => {
      if (r.broken) {
        console.error(JSON.stringify({ ok: false, checked: r.checked, brokenAt: r.broken.seq, problem: r.broken.problem }));
        process.exit(1);
      }
      console.log(JSON.stringify({ ok: true, checked: r.checked, head: r.head }));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
