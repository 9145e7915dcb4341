// poolDatabase: the outbox relay's transactions on a plain pg pool (real PostgreSQL).
import { poolDatabase } from '@cryptocare/events';
import { dropSchema, freshSchema } from '@cryptocare/testing';
import type pg from 'pg';

describe('poolDatabase (real PostgreSQL)', () => {
  let schema: string;
  let pool: pg.Pool;
  const count = async () => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".rows`)).rows[0]!.n;

  beforeAll(async () => {
    ({ schema, pool } = await freshSchema('pool_db'));
    await pool.query(`CREATE TABLE "${schema}".rows (id int PRIMARY KEY)`);
  });
  afterAll(() => dropSchema(pool, schema));
  beforeEach(() => pool.query(`DELETE FROM "${schema}".rows`));

  it('commits what the work wrote, with its parameters, and tells how many rows a statement touched', async () => {
    const db = poolDatabase(pool);
    const touched = await db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO "${schema}".rows (id) VALUES ($1), ($2)`, 1, 2);
      return tx.$executeRawUnsafe(`UPDATE "${schema}".rows SET id = id + 10 WHERE id = ANY($1::int[])`, [1, 2]);
    });
    expect(touched).toBe(2);
    expect(await db.$queryRawUnsafe<Array<{ id: number }>>(`SELECT id FROM "${schema}".rows ORDER BY id`)).toEqual([{ id: 11 }, { id: 12 }]);
  });

  it('rolls back everything when the work throws, and gives the error back', async () => {
    const db = poolDatabase(pool);
    await expect(
      db.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO "${schema}".rows (id) VALUES (1)`);
        throw new Error('the rule said no');
      }),
    ).rejects.toThrow('the rule said no');
    expect(await count()).toBe(0);
  });

  it('ends a transaction left waiting longer than its timeout (as the relay waiting on Kafka): nothing is written, the pool still serves', async () => {
    const small = await freshSchema('pool_db_timeout'); // a pool of its own: the server ends one of its connections
    try {
      const db = poolDatabase(small.pool);
      await expect(
        db.$transaction(
          async (tx) => {
            await tx.$executeRawUnsafe(`INSERT INTO "${schema}".rows (id) VALUES (7)`);
            await new Promise((resolve) => setTimeout(resolve, 1_500)); // idle in transaction
            await tx.$executeRawUnsafe(`INSERT INTO "${schema}".rows (id) VALUES (8)`);
          },
          { timeout: 300 },
        ),
      ).rejects.toThrow();
      expect(await count()).toBe(0);
      // The ended connection was dropped, not handed out again.
      for (let i = 0; i < 3; i++) expect(await db.$transaction((tx) => tx.$queryRawUnsafe<Array<{ one: number }>>('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
      // Without a timeout nothing ends a transaction that waits (the server's default is off).
      await db.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO "${schema}".rows (id) VALUES (9)`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      });
      expect(await count()).toBe(1);
    } finally {
      await dropSchema(small.pool, small.schema);
    }
  });
});
