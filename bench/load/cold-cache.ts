import { RedisCache } from '@cryptocare/cache';
import { infraUrls, withDatabase } from '@cryptocare/testing';

/**
 * The Redis database a benchmark's platform runs on, its own (test platforms use 0 and the
 * data-region test 14 and 15).
 */
export const BENCH_REDIS_DATABASE = 12;

/**
 * Empties the benchmarks' Redis database, so each run's platform starts with cold caches, as a new
 * deployment does, and on a Redis holding nothing of earlier runs. Why: the seeded directory's ids
 * are the same in every run (a fixed seed), and the caches' keys were a service's prefix and an id,
 * so a run used to read the slot inputs and profiles the previous run had cached (15 minutes): the
 * second run of a production / quiet pair found 73 % of its slot listings cached against the first
 * one's 54 % (bench/results/load-2026-12-03-cache-hits-*.md). Since REDIS_NAMESPACE every platform's
 * keys are its own as well; the flush still leaves earlier runs' entries out of this run's Redis.
 * Returns the database, for startPlatform's `redisDatabase`.
 */
export async function coldRedisDatabase(): Promise<number> {
  const redis = new RedisCache(withDatabase(infraUrls().redisUrl, BENCH_REDIS_DATABASE), 'bench');
  try {
    await redis.client.flushdb();
  } finally {
    redis.client.disconnect();
  }
  return BENCH_REDIS_DATABASE;
}
