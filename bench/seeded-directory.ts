// The benches that read the search service's store directly (db-reads, directory-churn): a fresh
// search schema with the plan's 50 000 profiles of the seeded directory (the earliest free slot one to
// 720 hours on), the store over it, and the report written to bench/results/ before the schema goes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { databasePool, prismaAdapter } from '@cryptocare/platform';
import { Outbox } from '@cryptocare/events';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import { generateDirectory } from '@cryptocare/testing/src/directory-seed';
import { PrismaClient } from '../services/search/src/generated/prisma';
import { writeSeedProfessionals } from '../services/search/src/seed/seed-directory';
import { DirectoryStore } from '../services/search/src/store/directory-store';

export const PROFESSIONALS = 50_000;

export interface SeededDirectory {
  schema: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  store: DirectoryStore;
  now: Date;
}

/** Runs `measure` on the seeded directory and writes the report lines it returns to bench/results/<name>-<date>.md. */
export async function onSeededDirectory(name: string, measure: (directory: SeededDirectory) => Promise<string[]>): Promise<void> {
  const databaseUrl = infraUrls().databaseUrl;
  const schema = await migratedSchema('search');
  const pool = databasePool(databaseUrl, { max: 2 });
  const prisma = new PrismaClient({ adapter: prismaAdapter(databaseUrl, schema, { max: 2 }) });
  const store = new DirectoryStore(prisma, new Outbox(schema, 'search'), schema, pool);
  try {
    const now = new Date();
    const rows = (function* () {
      let i = 0;
      for (const p of generateDirectory({ professionals: PROFESSIONALS, seed: 13 })) yield { ...p, nextAvailableAt: new Date(now.getTime() + (i++ % 720) * 3_600_000).toISOString() };
    })();
    await writeSeedProfessionals(pool, schema, rows, now);
    const lines = await measure({ schema, pool, prisma, store, now });
    const file = path.join(__dirname, 'results', `${name}-${now.toISOString().slice(0, 10)}.md`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    process.stdout.write(`${lines.join('\n')}\nwritten to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await prisma.$disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}
