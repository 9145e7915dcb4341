import { LRUCache } from 'lru-cache';
import type { Cache } from './cache';

/** Bounded in-process cache with per-entry TTL, for the embedded mode and tests. */
export class MemoryCache implements Cache {
  private readonly lru: LRUCache<string, { json: string }>;

  constructor(maxEntries = 10_000) {
    this.lru = new LRUCache({ max: maxEntries, ttlAutopurge: false });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.lru.get(key);
    return entry ? (JSON.parse(entry.json) as T) : undefined;
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set<T>(key: string, value: T, ttlSeconds: number): Promise<void> {
    this.lru.set(key, { json: JSON.stringify(value) }, { ttl: ttlSeconds * 1000 });
  }

  async del(...keys: string[]): Promise<void> {
    for (const key of keys) this.lru.delete(key);
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const current = await this.get<number>(key);
    if (current === undefined) {
      await this.set(key, 1, windowSeconds);
      return 1;
    }
    // Keep the window's original expiry.
    const ttl = this.lru.getRemainingTTL(key);
    this.lru.set(key, { json: JSON.stringify(current + 1) }, { ttl: Math.max(1, ttl) });
    return current + 1;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.lru.clear();
  }
}
