import type pg from 'pg';

/**
 * The slice of a Prisma transaction client the outbox and the idempotent consumer need. Taking
 * this instead of Prisma's types keeps the library independent of each service's generated client.
 */
export interface SqlTx {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface SqlDatabase extends SqlTx {
  $transaction<R>(fn: (tx: SqlTx) => Promise<R>, options?: { timeout?: number; maxWait?: number }): Promise<R>;
}

/** Schema-qualified table name; the schema comes from configuration, never from input. */
export function table(schema: string, name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  return `"${schema}"."${name}"`;
}

/**
 * Runs `work` in a transaction on one connection of `pool`: committed if it resolves, rolled back
 * if it throws. `timeoutMs` is Prisma's interactive-transaction `timeout` as PostgreSQL can keep
 * it: a transaction left waiting longer than that between statements (the outbox relay waiting on
 * Kafka) has its session ended by the server, so its row locks and connection are not held for
 * ever. It is set with BEGIN, in the same round trip (simple protocol).
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, timeoutMs = 0): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client's own errors (the server ending its session) are ours to handle: an
  // 'error' event with no listener would end the process. The next query fails anyway.
  const onError = (err: Error) => void (broken = err);
  client.on('error', onError);
  try {
    const timeout = Number.isSafeInteger(timeoutMs) && timeoutMs > 0 ? timeoutMs : 0;
    await client.query(timeout ? `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${timeout}` : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is dropped, not handed to the next caller.
    await client.query('ROLLBACK').catch((rollbackFailed: Error) => void (broken = rollbackFailed));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * The same interface over a plain pg pool: the outbox relay and the readiness probe of every
 * service run through it (hostService), and tests of this library use it without a generated
 * Prisma client. Why not Prisma there: an interactive Prisma transaction costs about 0.7 ms of
 * CPU even when it finds nothing, against 0.2 ms here, and each service's relay runs one at least
 * four times a second and after every commit (`make bench-db-reads`).
 */
export function poolDatabase(pool: pg.Pool): SqlDatabase {
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
    $transaction: (fn, options) => inTransaction(pool, (client) => fn(on(client)), options?.timeout),
  };
}
