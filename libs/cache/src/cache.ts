import { counter } from '@cryptocare/platform';

/** Cache-aside store shared by a service's replicas (Redis) or local (embedded mode). */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlSeconds: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /** Increments a counter that expires after `windowSeconds` from its first hit (rate limits). */
  hit(key: string, windowSeconds: number): Promise<number>;
  /** Readiness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Hit ratio = hit / (hit + miss + error), per cache (dashboards compute it from this counter). */
const lookups = counter('cache_lookups_total', 'Cache-aside lookups by outcome (hit, miss, error)', ['cache', 'outcome']);

/**
 * Cache-aside with single-flight: concurrent misses of one key in this process share one load,
 * so an expired hot key causes one database query, not a stampede.
 */
export class CacheAside {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly cache: Cache,
    private readonly name: string,
  ) {}

  async getOrLoad<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T> {
    let failed = false;
    const cached = await this.cache.get<T>(key).catch(() => {
      failed = true;
      return undefined;
    });
    if (cached !== undefined) {
      lookups.labels(this.name, 'hit').inc();
      return cached;
    }
    // An unreachable cache reads through to the source: counted apart, it is not a cold key.
    lookups.labels(this.name, failed ? 'error' : 'miss').inc();
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const loading = (async () => {
      try {
        const value = await load();
        // A cache outage must not fail the read: the value came from the source of truth.
        await this.cache.set(key, value, ttlSeconds).catch(() => undefined);
        return value;
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, loading);
    return loading;
  }

  invalidate(...keys: string[]): Promise<void> {
    return this.cache.del(...keys);
  }

  /** The cached value, or undefined when absent (not counted; rejects when the cache is unreachable). */
  peek<T>(key: string): Promise<T | undefined> {
    return this.cache.get<T>(key);
  }

  /** Stores a value as it is (a marker the service keeps itself, not a copy of the source). */
  put<T>(key: string, value: T, ttlSeconds: number): Promise<void> {
    return this.cache.set(key, value, ttlSeconds);
  }
}
