import { counter } from '@cryptocare/platform';

/** Cache-aside store shared by a service's replicas (Redis) or local (embedded mode). */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  /** Several values in one round trip, in the order of `keys` (undefined where absent). */
  getMany(keys: string[]): Promise<unknown[]>;
  set<T>(key: string, value: T, ttlSeconds: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /** Increments a counter that expires after `windowSeconds` from its first hit (rate limits). */
  hit(key: string, windowSeconds: number): Promise<number>;
  /** Readiness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A value kept with the marker it stands under (getOrLoadUnder). */
interface Marked<T> {
  marker: string;
  value: T;
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
    return this.loadOnce(key, load, (value) => this.cache.set(key, value, ttlSeconds));
  }

  /**
   * getOrLoad for a value that stands only while a marker keeps the value it had when the value was
   * stored (a generation, started again when the source changes): the marker and the value are read
   * in one round trip, and a value stored under another marker is a miss. `initial` is the marker
   * while none was ever set. An unreachable cache reads through, as nothing cached can be trusted.
   */
  async getOrLoadUnder<T>(markerKey: string, initial: string, key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T> {
    let marker: string;
    let stored: Marked<T> | undefined;
    try {
      const [markerValue, value] = await this.cache.getMany([markerKey, key]);
      marker = typeof markerValue === 'string' ? markerValue : initial;
      stored = value as Marked<T> | undefined;
    } catch {
      lookups.labels(this.name, 'error').inc();
      return load();
    }
    if (stored && stored.marker === marker) {
      lookups.labels(this.name, 'hit').inc();
      return stored.value;
    }
    lookups.labels(this.name, 'miss').inc();
    // Stored under the marker read before the load: a change meanwhile makes it a miss at once.
    return this.loadOnce(`${key}\u0000${marker}`, load, (value) => this.cache.set<Marked<T>>(key, { marker, value }, ttlSeconds));
  }

  invalidate(...keys: string[]): Promise<void> {
    return this.cache.del(...keys);
  }

  /** Stores a value as it is (a marker the service keeps itself, not a copy of the source). */
  put<T>(key: string, value: T, ttlSeconds: number): Promise<void> {
    return this.cache.set(key, value, ttlSeconds);
  }

  /** One load per `flight` in this process at a time; what it loads is stored with `store`. */
  private loadOnce<T>(flight: string, load: () => Promise<T>, store: (value: T) => Promise<void>): Promise<T> {
    const pending = this.inFlight.get(flight) as Promise<T> | undefined;
    if (pending) return pending;
    const loading = (async () => {
      try {
        const value = await load();
        // The reader does not wait for the write: its value came from the source of truth, and
        // waiting was one more round trip to the cache on every miss (half of all searches, most of
        // their p95; bench/results/load-*). `store` sends the write now, before the value is
        // returned, so whoever reads after this answer finds it. A cache outage fails nothing.
        void store(value).catch(() => undefined);
        return value;
      } finally {
        this.inFlight.delete(flight);
      }
    })();
    this.inFlight.set(flight, loading);
    return loading;
  }
}
