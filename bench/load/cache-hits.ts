import { parsePrometheus } from '@cryptocare/testing';

/**
 * How often each cache answered, from one scrape of a service's /metrics: the gateway's micro-cache
 * of public reads (`gateway_public_cache_lookups_total`) and the services' cache-aside caches
 * (`cache_lookups_total`, by cache: search's directory answers, appointment's slot inputs). A read
 * that misses costs a backend call or a PostgreSQL statement, so the ratio says how much of a run's
 * reads reached the database. Read before and after a hold; the difference is the hold's.
 */
export interface CacheLookups {
  hit: number;
  miss: number;
  error: number;
}

/** Lookups by cache name ("gateway micro-cache", "search", "slots") in one service's metrics text. */
export function cacheLookupsIn(metricsText: string): Record<string, CacheLookups> {
  const samples = parsePrometheus(metricsText);
  const found: Record<string, CacheLookups> = {};
  const add = (cache: string, outcome: string, value: number) => {
    const entry = (found[cache] ??= { hit: 0, miss: 0, error: 0 });
    if (outcome === 'hit' || outcome === 'miss' || outcome === 'error') entry[outcome] += value;
  };
  for (const s of samples) {
    if (s.name === 'gateway_public_cache_lookups_total') add('gateway micro-cache', s.labels.outcome ?? '', s.value);
    else if (s.name === 'cache_lookups_total' && s.labels.cache) add(s.labels.cache, s.labels.outcome ?? '', s.value);
  }
  return found;
}

/** after - before, per cache, summed over the processes scraped (each replica counts its own). */
export function cacheLookupsBetween(before: Array<Record<string, CacheLookups>>, after: Array<Record<string, CacheLookups>>): Record<string, CacheLookups> {
  const total = (scrapes: Array<Record<string, CacheLookups>>) => {
    const sum: Record<string, CacheLookups> = {};
    for (const scrape of scrapes)
      for (const [cache, l] of Object.entries(scrape)) {
        const entry = (sum[cache] ??= { hit: 0, miss: 0, error: 0 });
        entry.hit += l.hit;
        entry.miss += l.miss;
        entry.error += l.error;
      }
    return sum;
  };
  const [b, a] = [total(before), total(after)];
  return Object.fromEntries(
    Object.entries(a).map(([cache, l]) => {
      const was = b[cache] ?? { hit: 0, miss: 0, error: 0 };
      return [cache, { hit: l.hit - was.hit, miss: l.miss - was.miss, error: l.error - was.error }];
    }),
  );
}

/** "search 62 % of 12 000" per cache, for a report line. */
export function describeCacheLookups(lookups: Record<string, CacheLookups>): string {
  const parts = Object.entries(lookups)
    .map(([cache, l]) => ({ cache, all: l.hit + l.miss + l.error, l }))
    .filter((x) => x.all > 0)
    .map(({ cache, all, l }) => `${cache} ${Math.round((l.hit / all) * 100)} % of ${all}${l.error ? ` (${l.error} failed)` : ''}`);
  return parts.join(', ') || 'no lookups';
}
