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
