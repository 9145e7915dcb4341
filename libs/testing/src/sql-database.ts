import pg from 'pg';
import type { SqlDatabase, SqlTx } from '@cryptocare/events';

/**
 * The Prisma-shaped SQL interface of @cryptocare/events over a plain pg pool, for tests that
 * exercise the event library without a service's generated Prisma client.
 */
export function pgSqlDatabase(pool: pg.Pool): SqlDatabase {
  const on = (q: pg.Pool | pg.PoolClient): SqlTx => ({
    async $executeRawUnsafe(query: string, ...values: unknown[]) {
      return (await q.query(query, values)).rowCount ?? 0;
    },
    async $queryRawUnsafe<T>(query: string, ...values: unknown[]) {
      return (await q.query(query, values)).rows as T;
    },
  });
  return {
    ...on(pool),
    async $transaction<R>(fn: (tx: SqlTx) => Promise<R>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(on(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}
