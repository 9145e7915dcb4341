import { MemoryCache, type Cache } from '@cryptocare/cache';
import { createLogger } from '@cryptocare/platform';
import { SlotsCache, type SlotInputs } from './slots-cache';

/** A cache that counts its round trips (each call is one, as on Redis). */
function countingCache(): { cache: Cache; reads: () => number } {
  const inner = new MemoryCache(100);
  let reads = 0;
  const cache: Cache = {
    get: (key) => (reads++, inner.get(key)),
    getMany: (keys) => (reads++, inner.getMany(keys)),
    set: (key, value, ttl) => inner.set(key, value, ttl),
    del: (...keys) => inner.del(...keys),
    hit: (key, window) => inner.hit(key, window),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return { cache, reads: () => reads };
}

describe('SlotsCache', () => {
  const from = new Date('2026-12-07T00:00:00Z');
  const to = new Date('2026-12-14T00:00:00Z');
  const inputs: SlotInputs = { schedule: undefined, timeOff: [], busy: [{ startAt: new Date('2026-12-07T09:00:00Z'), endAt: new Date('2026-12-07T09:30:00Z') }] };

  it('answers a cached listing in one round trip (the version and the entry read together)', async () => {
    const { cache, reads } = countingCache();
    const slots = new SlotsCache(cache, createLogger('test', 'silent'));
    let loads = 0;
    const load = async () => (loads++, inputs);
    await slots.inputs('p-1', from, to, load);
    const before = reads();
    expect(await slots.inputs('p-1', from, to, load)).toEqual(inputs);
    expect({ loads, reads: reads() - before }).toEqual({ loads: 1, reads: 1 });
  });

  it('forgets every range of a professional whose availability changed, and only theirs', async () => {
    const { cache } = countingCache();
    const slots = new SlotsCache(cache, createLogger('test', 'silent'));
    const loads: string[] = [];
    const load = (who: string) => async () => (loads.push(who), inputs);
    await slots.inputs('p-1', from, to, load('p-1'));
    await slots.inputs('p-2', from, to, load('p-2'));
    await slots.changed('p-1');
    await slots.inputs('p-1', from, to, load('p-1'));
    await slots.inputs('p-2', from, to, load('p-2'));
    expect(loads).toEqual(['p-1', 'p-2', 'p-1']);
  });
});
