// What a search's words mean is read once per replica: the store's second search with the same
// words is one statement, not two (real PostgreSQL, the store as main.ts builds it).
import pg from 'pg';
import { Outbox } from '@cryptocare/events';
import { prismaAdapter } from '@cryptocare/platform';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import { PrismaClient } from '../src/generated/prisma';
import { DirectoryStore } from '../src/store/directory-store';

describe('the meaning of search words, per replica', () => {
  let schema: string;
  let pool: pg.Pool;
  let prisma: PrismaClient;
  const statements: string[] = [];

  beforeAll(async () => {
    schema = await migratedSchema('search');
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    prisma = new PrismaClient({ adapter: prismaAdapter(pool, schema) });
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** The replica pool, counting the statements the store sends it. */
  function countingReplica(): pg.Pool {
    return new Proxy(pool, {
      get(target, name, receiver) {
        if (name !== 'query') return Reflect.get(target, name, receiver);
        return (text: string, values?: unknown[]) => {
          statements.push(text);
          return target.query(text, values);
        };
      },
    });
  }

  it('resolves the same words once, and other words again', async () => {
    const store = new DirectoryStore(prisma, new Outbox(schema, 'search'), schema, pool, countingReplica());
    const meanings = () => statements.filter((s) => s.includes('search_query(')).length;
    await store.search({ limit: 20, query: 'Zürich' });
    expect([meanings(), statements.length]).toEqual([1, 2]);
    await store.search({ limit: 20, query: 'Zürich', specialty: 'cardiology' });
    expect([meanings(), statements.length]).toEqual([1, 3]);
    await store.search({ limit: 20, query: 'Kelller' });
    expect([meanings(), statements.length]).toEqual([2, 5]);
    // Searches without words read no meaning at all.
    await store.search({ limit: 20, specialty: 'cardiology' });
    expect([meanings(), statements.length]).toEqual([2, 6]);
  });
});
