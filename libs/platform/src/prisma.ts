import { spawn } from 'node:child_process';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

/**
 * Prisma 6 through the `pg` driver adapter (no engine binaries, nothing downloaded). Each service
 * owns one PostgreSQL schema; the adapter qualifies every table with it, so moving a service to
 * its own database is a change of DATABASE_URL only, and no `search_path` is needed at run time
 * (PgBouncer in transaction mode rejects startup options).
 */
export function prismaAdapter(database: string | pg.Pool, schema: string, pool: pg.PoolConfig = {}): PrismaPg {
  // A pool of the service's own (databasePool): the service ends it after $disconnect.
  if (typeof database !== 'string') return new PrismaPg(database, { schema });
  return new PrismaPg({ connectionString: database, max: 10, ...pool }, { schema });
}

/**
 * The connection pool of a service's database, shared by its PrismaClient (prismaAdapter) and the
 * hot reads that skip Prisma. Why skip it there: every Prisma call, a raw one too, goes through the
 * query compiler (wasm) and Prisma's result mapping; at 50 000 profiles a profile read by id
 * costs the service 0.74-0.98 ms of CPU through Prisma and 0.08-0.09 ms through pg, a search page
 * 0.52-0.60 ms against 0.19-0.22 ms (`make bench-db-reads`, bench/results/db-reads-*.md).
 * Writes and transactions stay with Prisma, except the outbox relay's (poolDatabase in @cryptocare/events).
 */
export function databasePool(databaseUrl: string, config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, ...config });
  // An idle connection's error (a server restart) must not crash the process: the next query
  // meets it and answers UNAVAILABLE (outage.ts). Prisma adds a listener of its own once connected.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Interactive transactions' defaults for every service's PrismaClient. Prisma waits 2 s for a pooled
 * connection and then fails the call; under a load burst on two cores a service's short
 * transactions queue longer than that (identity's sign-ups serialise on the audit chain's lock), so
 * they wait up to 5 s, still inside the gateway's deadline. A call that waits longer answers
 * UNAVAILABLE (outage.ts), which the gateway turns into 503 + Retry-After.
 */
export const transactionOptions = { maxWait: 5_000, timeout: 10_000 };

/** Environment that keeps the Prisma CLI offline: it never needs the engine files it asks for. */
export function prismaOfflineEnv(anyExistingFile: string): Record<string, string> {
  return {
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? anyExistingFile,
    PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? anyExistingFile,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
}

/**
 * Applies a service's checked-in migrations (`prisma migrate deploy`) to its schema.
 * Two workarounds, both for Prisma 6.19 with driver adapters:
 * - the schema must exist before the CLI creates `_prisma_migrations` in it (search_path);
 * - the wasm schema engine leaves a 10 s timer behind after it is done, so once the CLI has
 *   printed its final line we stop it instead of waiting (the work is committed by then).
 */
export async function applyMigrations(opts: { serviceDir: string; databaseUrl: string; schema: string }): Promise<void> {
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema}"`);
  } finally {
    await client.end();
  }
  const cli = require.resolve('prisma/build/index.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: opts.serviceDir,
      env: { ...process.env, ...prismaOfflineEnv(cli), DATABASE_URL: opts.databaseUrl, DATABASE_SCHEMA: opts.schema },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let succeeded = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/All migrations have been successfully applied|No pending migrations to apply/.test(output)) {
        succeeded = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) =>
      succeeded || code === 0 ? resolve() : reject(new Error(`migrations of ${opts.schema} failed (exit ${code}):\n${output}`)),
    );
  });
}
