import { createHash, randomUUID } from 'node:crypto';
import { CacheAside, type Cache } from '@cryptocare/cache';
import type { Logger } from '@cryptocare/platform';
import type { SearchCriteria } from '../domain/search-criteria';

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
 * Search pages, by default (SEARCH_CACHE_SECONDS). A page is cached whole under its checked criteria,
 * with the directory's generation it was read under. Why: a search is the platform's most expensive
 * read (several ms of PostgreSQL at 50 000 profiles, bench/results/load-*), and people ask the same
 * ones (a specialty in a city). What may be stale, and for how long:
 *  - who is listed and what their profile says: never; saving, verifying or erasing a profile starts
 *    a new generation, and every page cached before it is no longer read;
 *  - the earliest free slot and the order by it: up to this long. A booking changes them every
 *    second at peak, so following them would empty the cache as fast as it fills; a listing's "next
 *    free" is a hint, and the professional's page and the booking itself read the slots afresh.
 */
export const SEARCH_TTL_SECONDS = 30;
/** How long a generation marker lives: far longer than any page it governs. */
const GENERATION_TTL_SECONDS = 24 * 60 * 60;

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
    /** 0: searches are not cached. */
    private readonly searchTtlSeconds = SEARCH_TTL_SECONDS,
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

  /** A search page, from the cache or `load` (one load per process for simultaneous misses). */
  async searchPage<T>(criteria: SearchCriteria, load: () => Promise<T>): Promise<T> {
    if (this.searchTtlSeconds <= 0) return load();
    const digest = createHash('sha256').update(JSON.stringify(criteria)).digest('base64url');
    // The page is kept with the generation it was read under, and both are read in one round trip
    // (MGET): a search answered from the cache costs one Redis call, not two in a row.
    return this.aside.getOrLoadUnder(this.generationKey(), 'first', `${this.prefix}search:v2:${digest}`, this.searchTtlSeconds, load);
  }

  /**
   * Starts a new generation of search pages (a profile was saved, verified or erased), now and again
   * shortly after: as for a profile, a page loaded just before the change committed may be stored
   * just after the first start. Never fails the change (it is committed); logged.
   */
  async invalidateSearches(): Promise<void> {
    if (this.searchTtlSeconds <= 0) return;
    const key = this.generationKey();
    await this.newGeneration();
    clearTimeout(this.pending.get(key));
    const timer = setTimeout(() => {
      this.pending.delete(key);
      void this.newGeneration();
    }, this.secondInvalidationMs);
    timer.unref();
    this.pending.set(key, timer);
  }

  private generationKey(): string {
    return `${this.prefix}search:generation`;
  }

  private async newGeneration(): Promise<void> {
    await this.aside.put(this.generationKey(), randomUUID(), GENERATION_TTL_SECONDS).catch((err: unknown) => this.logger.warn({ err }, 'starting a new generation of search pages failed'));
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

  /** A profile changed in what searches show (saved, verified, erased): it and every search page. */
  async invalidateListing(id: string): Promise<void> {
    await Promise.all([this.invalidateProfile(id), this.invalidateSearches()]);
  }

  /** Runs the pending second invalidations now (before the cache closes at shutdown). */
  async flush(): Promise<void> {
    const keys = [...this.pending.keys()];
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await Promise.all(keys.map((key) => (key === this.generationKey() ? this.newGeneration() : this.forget(key))));
  }

  private async forget(key: string): Promise<void> {
    await this.aside.invalidate(key).catch((err: unknown) => this.logger.warn({ err, key }, 'cache invalidation failed'));
  }
}
