import { Redis } from 'ioredis';
import { infraUrls, uniqueName } from '@cryptocare/testing';
import { BatchedRateLimitStore } from './rate-limit-store';

/** The gateway's rate-limit counters against the real Redis: two stores stand for two replicas. */
describe('BatchedRateLimitStore', () => {
  let redis: Redis;
  let calls: number;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(infraUrls().redisUrl, { enableAutoPipelining: true });
  });
  afterAll(() => redis.quit());
  beforeEach(() => {
    prefix = `${uniqueName('rl-test')}-`;
    calls = 0;
  });

  /** Counts the store's script calls to Redis. */
  const counted = (store: BatchedRateLimitStore) => {
    const original = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).rateLimitAdd!;
    (store as unknown as { redis: unknown }).redis = {
      rateLimitAdd: (...args: unknown[]) => {
        calls++;
        return original.apply(redis, args);
      },
    };
    return store;
  };
  /** One replica's store (its batches flushed by the test unless flushEveryMs says otherwise). */
  const replica = (batchBelow = 0.5, flushEveryMs = 60_000) => counted(new BatchedRateLimitStore({ redis, keyPrefix: prefix, batchBelow, flushEveryMs }));
  const hit = (store: BatchedRateLimitStore, key: string, max: number, windowMs = 60_000) =>
    new Promise<{ current: number; ttl: number }>((resolve, reject) => store.incr(key, (err, result) => (err ? reject(err) : resolve(result!)), windowMs, max));
  const inRedis = async (key: string) => Number(await redis.get(`${prefix}${key}`));

  it('adds an address well under its limit to Redis in one batch, not a round trip a request', async () => {
    const store = replica();
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push((await hit(store, '10.0.0.1', 100)).current);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The window's first request was counted in Redis; the 19 after it are still here.
    expect(calls).toBe(1);
    expect(await inRedis('10.0.0.1')).toBe(1);
    await store.flush();
    expect(calls).toBe(2);
    expect(await inRedis('10.0.0.1')).toBe(20);
    expect(await redis.pttl(`${prefix}10.0.0.1`)).toBeGreaterThan(59_000);
  });

  it('flushes by itself after flushEveryMs', async () => {
    const store = replica(0.5, 50);
    for (let i = 0; i < 10; i++) await hit(store, '10.0.0.2', 100);
    const started = Date.now();
    while ((await inRedis('10.0.0.2')) < 10 && Date.now() - started < 3_000) await new Promise((r) => setTimeout(r, 20));
    expect(await inRedis('10.0.0.2')).toBe(10);
  });

  it('counts every request exactly from half the limit on, and lets no more than the limit through', async () => {
    const store = replica();
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) seen.push((await hit(store, '10.0.0.3', 10)).current);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // 1 (first) exact; 2-4 batched (under 5); 5-12 each exact, the batch going with the first of them.
    expect(calls).toBe(1 + 8);
    expect(await inRedis('10.0.0.3')).toBe(12);
  });

  it('judges concurrent requests near the limit each on its own total', async () => {
    const store = replica();
    for (let i = 0; i < 8; i++) await hit(store, '10.0.0.4', 10);
    const concurrent = await Promise.all([hit(store, '10.0.0.4', 10), hit(store, '10.0.0.4', 10), hit(store, '10.0.0.4', 10)]);
    expect(concurrent.map((r) => r.current).sort((a, b) => a - b)).toEqual([9, 10, 11]);
  });

  it('shares one count between replicas: a replica reads the total on its first request of the window and at every batch', async () => {
    const a = replica();
    const b = replica();
    for (let i = 0; i < 30; i++) await hit(a, '10.0.0.5', 100);
    await a.flush();
    expect((await hit(b, '10.0.0.5', 100)).current).toBe(31);
    // B counts on top of A's 30; A learns B's requests at its next batch.
    for (let i = 0; i < 9; i++) await hit(b, '10.0.0.5', 100);
    await b.flush();
    await hit(a, '10.0.0.5', 100);
    await a.flush();
    expect(await inRedis('10.0.0.5')).toBe(41);
    // B has not heard of A's last request yet (the gap the store's comment bounds): it counts 41 ...
    expect((await hit(b, '10.0.0.5', 100)).current).toBe(41);
    // ... and learns the total at its next batch.
    await b.flush();
    expect(await inRedis('10.0.0.5')).toBe(42);
    expect((await hit(b, '10.0.0.5', 100)).current).toBe(43);
  });

  it('starts a new window when the previous one ends', async () => {
    const store = replica();
    for (let i = 0; i < 3; i++) await hit(store, '10.0.0.6', 100, 300);
    await store.flush();
    await new Promise((r) => setTimeout(r, 400));
    expect((await hit(store, '10.0.0.6', 100, 300)).current).toBe(1);
  });

  it('route and account limits (child stores) count every request exactly, under their own keys', async () => {
    const child = counted(replica().child({ routeInfo: { method: 'POST', url: '/v1/auth/login' } }));
    for (let i = 0; i < 5; i++) await hit(child, '10.0.0.7', 100);
    expect(calls).toBe(5);
    expect(Number(await redis.get(`${prefix}POST/v1/auth/login-10.0.0.7`))).toBe(5);
  });

  it('answers an error (the plugin then lets the request through) when Redis cannot be reached', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    const store = new BatchedRateLimitStore({ redis: down, keyPrefix: prefix, batchBelow: 0.5, flushEveryMs: 60_000 });
    await expect(hit(store, '10.0.0.8', 100)).rejects.toThrow();
    down.disconnect();
  });
});
