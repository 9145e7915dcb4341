// The GC figures the load report takes from a service's metrics, read from what prom-client
// really renders (its own default GC histogram, fed by this process's real collections).
import client from 'prom-client';
import { gcPausesBetween, gcPausesIn } from './gc-pauses';

describe('GC pauses from a service metrics text', () => {
  it('sums every kind, counts the pauses over 10 ms and subtracts a reading from a later one', async () => {
    const registry = new client.Registry();
    // The same histogram (name, labels, buckets) as collectDefaultMetrics' gc collector.
    const gc = new client.Histogram({ name: 'nodejs_gc_duration_seconds', help: 'gc', labelNames: ['kind'], buckets: [0.001, 0.01, 0.1, 1, 2, 5], registers: [registry] });
    gc.labels('minor').observe(0.0005);
    gc.labels('minor').observe(0.004);
    gc.labels('major').observe(0.05);
    const before = gcPausesIn(await registry.metrics());
    expect(before.count).toBe(3);
    expect(before.over10ms).toBe(1);
    expect(before.seconds).toBeCloseTo(0.0545, 6);
    expect(before.secondsByKind.minor).toBeCloseTo(0.0045, 6);
    expect(before.secondsByKind.major).toBeCloseTo(0.05, 6);

    gc.labels('major').observe(0.2);
    gc.labels('incremental').observe(0.009);
    const after = gcPausesIn(await registry.metrics());
    expect(gcPausesBetween({ search: before }, { search: after })).toEqual({ search: { count: 2, seconds: 0.21, over10ms: 1, secondsByKind: { minor: 0, major: 0.2, incremental: 0.01 } } });
  });

  it('finds the collections prom-client records by default, and nothing in a text without them', async () => {
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    // Garbage enough for a few young-generation collections, then a turn for the GC observer.
    let kept = 0;
    for (let i = 0; i < 200; i++) kept += new Array(100_000).fill(i).length;
    expect(kept).toBe(20_000_000);
    await new Promise((r) => setTimeout(r, 100));
    const text = await registry.metrics();
    expect(text).toMatch(/^nodejs_gc_duration_seconds_bucket\{/m);
    expect(gcPausesIn(text).count).toBeGreaterThan(0);
    expect(gcPausesIn('http_requests_total 5\n')).toEqual({ count: 0, seconds: 0, over10ms: 0, secondsByKind: {} });
  });
});
