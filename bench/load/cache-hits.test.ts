// The cache figures the load report takes from the services' metrics, read from what prom-client
// renders for the very counters the services register (names, labels).
import client from 'prom-client';
import { cacheLookupsBetween, cacheLookupsIn, describeCacheLookups } from './cache-hits';

function metricsOf(counts: { gateway?: Record<string, number>; aside?: Array<[string, string, number]> }) {
  const registry = new client.Registry();
  const gateway = new client.Counter({ name: 'gateway_public_cache_lookups_total', help: 'h', labelNames: ['outcome'], registers: [registry] });
  const aside = new client.Counter({ name: 'cache_lookups_total', help: 'h', labelNames: ['cache', 'outcome'], registers: [registry] });
  for (const [outcome, n] of Object.entries(counts.gateway ?? {})) gateway.labels(outcome).inc(n);
  for (const [cache, outcome, n] of counts.aside ?? []) aside.labels(cache, outcome).inc(n);
  return registry.metrics();
}

describe('cache lookups from the services metrics texts', () => {
  it('reads each cache by name and outcome, and subtracts a reading from a later one', async () => {
    const gatewayBefore = cacheLookupsIn(await metricsOf({ gateway: { hit: 10, miss: 5 } }));
    const searchBefore = cacheLookupsIn(await metricsOf({ aside: [['search', 'hit', 3], ['search', 'miss', 2]] }));
    expect(gatewayBefore).toEqual({ 'gateway micro-cache': { hit: 10, miss: 5, error: 0 } });
    expect(searchBefore).toEqual({ search: { hit: 3, miss: 2, error: 0 } });

    const gatewayAfter = cacheLookupsIn(await metricsOf({ gateway: { hit: 40, miss: 15 } }));
    const searchAfter = cacheLookupsIn(await metricsOf({ aside: [['search', 'hit', 9], ['search', 'miss', 4], ['search', 'error', 1]] }));
    const appointmentAfter = cacheLookupsIn(await metricsOf({ aside: [['slots', 'hit', 1], ['slots', 'miss', 3]] }));

    const hold = cacheLookupsBetween([gatewayBefore, searchBefore, {}], [gatewayAfter, searchAfter, appointmentAfter]);
    expect(hold).toEqual({
      'gateway micro-cache': { hit: 30, miss: 10, error: 0 },
      search: { hit: 6, miss: 2, error: 1 },
      slots: { hit: 1, miss: 3, error: 0 },
    });
    expect(describeCacheLookups(hold)).toBe('gateway micro-cache 75 % of 40, search 67 % of 9 (1 failed), slots 25 % of 4');
  });

  it('says so when nothing was looked up', async () => {
    expect(describeCacheLookups(cacheLookupsBetween([cacheLookupsIn(await metricsOf({}))], [cacheLookupsIn(await metricsOf({}))]))).toBe('no lookups');
  });
});
