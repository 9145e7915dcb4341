import pg from 'pg';
import { infraUrls, startPlatform } from '../src';

describe('a stopped platform', () => {
  it('leaves no schema of its run behind', async () => {
    const platform = await startPlatform({ logLevel: 'error' });
    const schemas = Object.values(platform.schemas);
    const db = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 1 });
    try {
      const existing = async () => (await db.query<{ name: string }>('SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1', [schemas])).rows.map((r) => r.name);
      // Each backend service's schema, migrated, while it runs.
      expect(await existing()).toEqual([...schemas].sort());
      await platform.stop();
      expect(await existing()).toEqual([]);
    } finally {
      await db.end();
    }
  });
});
