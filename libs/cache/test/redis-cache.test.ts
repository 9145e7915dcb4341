import { CacheAside, MemoryCache, RedisCache, RevocationList, type Cache } from '@cryptocare/cache';
import { eventually, infraUrls, uniqueName } from '@cryptocare/testing';

describe.each([
  ['Redis (real server)', () => new RedisCache(infraUrls().redisUrl, uniqueName('cache-it'))],
  ['in-process LRU', () => new MemoryCache(100)],
])('%s', (_name, make: () => Cache) => {
  let cache: Cache;
  beforeEach(() => {
    cache = make();
  });
  afterEach(() => cache.close());

  it('stores JSON values with a TTL and forgets them after it', async () => {
    await cache.set('profile:1', { name: 'Dr. Keller', price: 120 }, 1);
    expect(await cache.get('profile:1')).toEqual({ name: 'Dr. Keller', price: 120 });
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await cache.get('profile:1')).toBeUndefined();
  });

  it('deletes keys (event-driven invalidation)', async () => {
    await cache.set('a', 1, 60);
    await cache.set('b', 2, 60);
    await cache.del('a', 'b');
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBeUndefined();
  });

  it('counts hits in a window that keeps its first expiry (rate limits)', async () => {
    expect(await cache.hit('rl:1.2.3.4', 1)).toBe(1);
    expect(await cache.hit('rl:1.2.3.4', 1)).toBe(2);
    expect(await cache.hit('rl:1.2.3.4', 1)).toBe(3);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await cache.hit('rl:1.2.3.4', 1)).toBe(1);
  });

  it('loads a missing key once for concurrent readers (single-flight)', async () => {
    const aside = new CacheAside(cache, 'test');
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 50));
      return { specialties: ['cardiology'] };
    };
    const results = await Promise.all(Array.from({ length: 20 }, () => aside.getOrLoad('specialties', 60, load)));
    expect(loads).toBe(1);
    expect(results.every((r) => r.specialties[0] === 'cardiology')).toBe(true);
    expect(await aside.getOrLoad('specialties', 60, load)).toEqual({ specialties: ['cardiology'] });
    expect(loads).toBe(1);
  });

  it('reads several keys in one call, in order, absent ones undefined', async () => {
    await cache.set('m', 'gen-1', 60);
    await cache.set('v', { page: [1, 2] }, 60);
    expect(await cache.getMany(['m', 'absent', 'v'])).toEqual(['gen-1', undefined, { page: [1, 2] }]);
  });

  it('serves a value kept under a marker only while the marker stands, reading both in one call', async () => {
    const reads = jest.spyOn(cache, 'getMany');
    const aside = new CacheAside(cache, 'test');
    let loads = 0;
    const load = async () => ({ page: ++loads });
    // No marker yet: the initial one; loaded once, then a hit in a single read.
    expect(await aside.getOrLoadUnder('generation', 'first', 'search:a', 60, load)).toEqual({ page: 1 });
    reads.mockClear();
    expect(await aside.getOrLoadUnder('generation', 'first', 'search:a', 60, load)).toEqual({ page: 1 });
    expect(reads).toHaveBeenCalledTimes(1);
    // A new generation: what was kept under the old one is never served again.
    await cache.set('generation', 'g2', 60);
    expect(await aside.getOrLoadUnder('generation', 'first', 'search:a', 60, load)).toEqual({ page: 2 });
    expect(await aside.getOrLoadUnder('generation', 'first', 'search:a', 60, load)).toEqual({ page: 2 });
    expect(loads).toBe(2);
  });

  it('ends revoked sessions and the tokens of a revoked user, reading both entries in one call', async () => {
    const revocations = new RevocationList(cache, 60);
    const reads = jest.spyOn(cache, 'getMany');
    const issuedAt = Date.now() - 5_000;
    const token = { userId: 'u-1', sessionId: 's-1', issuedAt };
    expect(await revocations.isRevoked(token)).toBe(false);
    await revocations.revokeSession('s-1');
    expect(await revocations.isRevoked(token)).toBe(true);
    expect(await revocations.isRevoked({ ...token, sessionId: 's-2' })).toBe(false);
    // A user revoked now: tokens issued before (or in the same second) end, later ones stand.
    await revocations.revokeUser('u-1');
    expect(await revocations.isRevoked({ userId: 'u-1', sessionId: '', issuedAt })).toBe(true);
    expect(await revocations.isRevoked({ userId: 'u-1', sessionId: 's-3', issuedAt: Date.now() + 5_000 })).toBe(false);
    // One read a check (an MGET in Redis), never a read per entry: this runs on every authenticated request.
    expect(reads).toHaveBeenCalledTimes(5);
  });
});

describe('cache-aside and a slow cache', () => {
  it('answers a miss from the loader without waiting for the cache to store it; a later read finds it', async () => {
    const memory = new MemoryCache(10);
    let stored = () => {};
    const slow: Cache = Object.assign(Object.create(memory) as Cache, {
      set: <T>(key: string, value: T, ttl: number) => new Promise<void>((resolve) => (stored = () => void memory.set(key, value, ttl).then(resolve))),
    });
    const aside = new CacheAside(slow, 'slow');
    const read = aside.getOrLoad('k', 60, async () => 'from the source');
    const first = await Promise.race([read, new Promise((r) => setTimeout(() => r('waited for the cache'), 200))]);
    expect(first).toBe('from the source');
    stored();
    await eventually(() => memory.get('k'), 2_000, 10);
    expect(await aside.getOrLoad('k', 60, async () => 'loaded again')).toBe('from the source');
  });
});

describe('cache-aside when Redis is down', () => {
  it('still answers from the loader', async () => {
    const dead = new RedisCache('redis://127.0.0.1:1', 'down');
    const aside = new CacheAside(dead, 'down');
    await expect(aside.getOrLoad('k', 60, async () => 42)).resolves.toBe(42);
    await expect(aside.getOrLoadUnder('generation', 'first', 'k', 60, async () => 43)).resolves.toBe(43);
    await dead.close();
  });
});

describe('RedisCache namespaces', () => {
  it('keeps the entries of two namespaces apart under one prefix (test platforms sharing one Redis)', async () => {
    const prefix = uniqueName('ns-it');
    const one = new RedisCache(infraUrls().redisUrl, prefix, 'platform-1.');
    const two = new RedisCache(infraUrls().redisUrl, prefix, 'platform-2.');
    try {
      await one.set('search:page', { ids: ['a'] }, 60);
      expect(await two.get('search:page')).toBeUndefined();
      await two.set('search:page', { ids: ['b'] }, 60);
      expect(await one.get('search:page')).toEqual({ ids: ['a'] });
      expect(await two.get('search:page')).toEqual({ ids: ['b'] });
    } finally {
      await one.close();
      await two.close();
    }
  });
});
