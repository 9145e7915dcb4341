// The benchmarks' platform starts on empty caches of its own: its Redis database is emptied, and
// nothing else is (the tests' platforms share database 0 of the same Redis).
import { RedisCache } from '@cryptocare/cache';
import { infraUrls, withDatabase } from '@cryptocare/testing';
import { BENCH_REDIS_DATABASE, coldRedisDatabase } from './cold-cache';

const inDatabase = (database: number) => new RedisCache(withDatabase(infraUrls().redisUrl, database), 'cold-cache-test');

describe('the benchmarks cold Redis database', () => {
  const bench = inDatabase(BENCH_REDIS_DATABASE);
  const shared = inDatabase(0);
  afterAll(() => {
    bench.client.disconnect();
    shared.client.disconnect();
  });

  it('is emptied before a run, and only it', async () => {
    const key = `slots:${Date.now()}`;
    await bench.set(key, { cached: 'by an earlier run' }, 60);
    await shared.set(key, { cached: 'by a test' }, 60);

    expect(await coldRedisDatabase()).toBe(BENCH_REDIS_DATABASE);

    expect(await bench.get(key)).toBeUndefined();
    expect(await shared.get(key)).toEqual({ cached: 'by a test' });
    await shared.del(key);
  });
});
