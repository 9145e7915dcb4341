import { CacheAside, type Cache } from '@cryptocare/cache';
import type { Logger } from '@cryptocare/platform';

/** ARCHITECTURE section 7: reference lists 1 h, profiles 15 min. */
export const REFERENCE_TTL_SECONDS = 60 * 60;
export const PROFILE_TTL_SECONDS = 15 * 60;
/**
 * A profile is deleted from the cache when it changes and once more this long after. The second
 * delete removes a stale copy that a concurrent reader loaded from the database just before the
 * change committed and stored just after the first delete (a consumer cannot delete after its
 * commit: the commit happens after its handler returns).
 */
export const SECOND_INVALIDATION_MS = 1_000;

/**
 * The search service's cache-aside reads. Values are JSON (the proto-shaped messages), so they
 * are the same whether the cache is Redis or in-process.
 */
export class DirectoryCache {
  private readonly aside: CacheAside;
  /** Pending second invalidations, by key. */
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    cache: Cache,
    private readonly logger: Logger,
    /** Namespace for a cache shared with other services (the embedded mode's); '' for Redis, which prefixes itself. */
    private readonly prefix = '',
    private readonly secondInvalidationMs = SECOND_INVALIDATION_MS,
  ) {
    this.aside = new CacheAside(cache, 'search');
  }

  profileKey(id: string): string {
    // v2: profiles carry their review (a v1 copy, without it, is never read).
    return `${this.prefix}profile:v2:${id}`;
  }

  profile<T>(id: string, load: () => Promise<T>): Promise<T> {
    return this.aside.getOrLoad(this.profileKey(id), PROFILE_TTL_SECONDS, load);
  }

  reference<T>(name: 'specialties' | 'countries', load: () => Promise<T>): Promise<T> {
    return this.aside.getOrLoad(`${this.prefix}${name}:v1`, REFERENCE_TTL_SECONDS, load);
  }

  /**
   * Forgets a profile now and again shortly after. A cache outage does not fail the change that
   * caused it (the change is committed by then); it is logged.
   */
  async invalidateProfile(id: string): Promise<void> {
    const key = this.profileKey(id);
    await this.forget(key);
    clearTimeout(this.pending.get(key));
    const timer = setTimeout(() => {
      this.pending.delete(key);
      void this.forget(key);
    }, this.secondInvalidationMs);
    timer.unref();
    this.pending.set(key, timer);
  }

  /** Runs the pending second invalidations now (before the cache closes at shutdown). */
  async flush(): Promise<void> {
    const keys = [...this.pending.keys()];
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await Promise.all(keys.map((key) => this.forget(key)));
  }

  private async forget(key: string): Promise<void> {
    await this.aside.invalidate(key).catch((err: unknown) => this.logger.warn({ err, key }, 'cache invalidation failed'));
  }
}
