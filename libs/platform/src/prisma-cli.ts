import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

/**
 * The configuration each service's `prisma.config.ts` exports for the Prisma CLI (migrations).
 *
 * Prisma bug #27403: the migrate engine, reading PostgreSQL's catalog through the pg adapter,
 * cannot deserialise columns of type `name` (oid 19) and `"char"` (oid 18). They are text in all
 * but name, so this CLI-only client reports them as text (oid 25). The application's client does
 * not need this and does not use it.
 */
const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;

function reportCatalogTypesAsText<R>(result: R): R {
  for (const r of (Array.isArray(result) ? result : [result]) as Array<{ fields?: Array<{ dataTypeID: number }> }>) {
    for (const field of r?.fields ?? []) {
      if (field.dataTypeID === NAME_OID || field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

class CatalogTolerantClient extends pg.Client {
  override query(...args: unknown[]): any {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: unknown, res: unknown) => last(err, err ? res : reportCatalogTypesAsText(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const out = (super.query as (...a: unknown[]) => unknown)(...args) as Promise<unknown> | undefined;
    return out && typeof out.then === 'function' ? out.then(reportCatalogTypesAsText) : out;
  }
}

export function prismaCliConfig(service: string) {
  const schema = process.env.DATABASE_SCHEMA ?? service;
  return {
    experimental: { adapter: true },
    engine: 'js',
    schema: 'prisma/schema.prisma',
    migrations: { path: 'prisma/migrations' },
    async adapter() {
      const url = process.env.DATABASE_URL;
      if (!url) throw new Error('DATABASE_URL is not set');
      return new PrismaPg(
        // search_path keeps `_prisma_migrations` inside the service's schema; without it the
        // second service's migrations collide with the first's. idleTimeoutMillis: the CLI would
        // otherwise keep idle connections open for 10 s before it exits.
        { connectionString: url, options: `-c search_path=${schema}`, idleTimeoutMillis: 1, Client: CatalogTolerantClient } as pg.PoolConfig,
        { schema },
      );
    },
  } as const;
}
