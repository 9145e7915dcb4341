import { ConcurrencyLimit } from './concurrency-limit';

describe('adaptive in-flight limit (AIMD on latency while requests queue)', () => {
  let clock = 0;
  const limit = (max = 64) => new ConcurrencyLimit({ max, min: 16, windowMs: 500, slowShare: 0.05, backoff: 0.75, queueShare: 0.8, growth: 0.1, minSamples: 20, littleShare: 0.5 }, () => clock);
  /**
   * One window of 500 ms: requests admitted up to `peak` in flight, `served` of them answered against a
   * `objectiveMs` objective, `slow` of them too slowly.
   */
  const window = (l: ConcurrencyLimit, { served, slow, peak, objectiveMs = 200 }: { served: number; slow: number; peak: number; objectiveMs?: number }) => {
    l.admits(peak - 1);
    for (let i = 0; i < served; i++) l.record(i < slow ? objectiveMs + 1 : objectiveMs - 1, objectiveMs);
    clock += 500;
    l.admits(0); // the next request rolls the window
  };
  beforeEach(() => (clock = 0));

  it('starts at the configured bound and admits below it only', () => {
    const l = limit(3);
    expect(l.admits(2)).toBe(true);
    expect(l.admits(3)).toBe(false);
  });

  it('shrinks while more than 5 % of the answers miss their objective and requests queue near the bound, never below the floor', () => {
    const l = limit();
    window(l, { served: 400, slow: 40, peak: 64 });
    expect(l.limit).toBe(48);
    for (let i = 0; i < 20; i++) window(l, { served: 400, slow: 200, peak: l.limit });
    expect(l.limit).toBe(16);
  });

  it("cuts at once to the Little's-law concurrency of the window when it is below the multiplicative step", () => {
    const l = limit();
    // 300 answers in 0.5 s at a 50 ms objective: 600/s × 0.05 s = 30 in flight keep them at the
    // objective on average; half of it, 15, is under the floor.
    window(l, { served: 300, slow: 200, peak: 64, objectiveMs: 50 });
    expect(l.limit).toBe(16);
    const wide = limit();
    // 400 answers at 200 ms: 800/s × 0.2 s = 160, half 80, above 64 × 0.75: the step applies.
    window(wide, { served: 400, slow: 200, peak: 64, objectiveMs: 200 });
    expect(wide.limit).toBe(48);
    const mid = limit();
    // 200 answers at 100 ms: 400/s × 0.1 s = 40, half 20.
    window(mid, { served: 200, slow: 100, peak: 64, objectiveMs: 100 });
    expect(mid.limit).toBe(20);
  });

  it('holds when a window has too few answers to judge (a handful of slow sign-ins on a busy machine)', () => {
    const l = limit();
    for (let i = 0; i < 10; i++) window(l, { served: 19, slow: 19, peak: 64, objectiveMs: 2000 });
    expect(l.limit).toBe(64);
    window(l, { served: 20, slow: 20, peak: 64, objectiveMs: 50 });
    expect(l.limit).toBe(16);
  });

  it('holds when answers are slow but nothing queues at the bound (a slow backend or a busy machine, not the gateway)', () => {
    const l = limit();
    for (let i = 0; i < 10; i++) window(l, { served: 100, slow: 60, peak: 20 });
    expect(l.limit).toBe(64);
  });

  it('grows back while answers meet their objective (5 % slow at most), whether or not the bound refused', () => {
    const l = limit();
    window(l, { served: 400, slow: 40, peak: 64 });
    expect(l.limit).toBe(48);
    window(l, { served: 400, slow: 20, peak: 48 }); // 5 %: within the objective
    expect(l.limit).toBe(52); // + 10 %
    window(l, { served: 400, slow: 0, peak: 10 }); // nothing near the bound: still fast
    expect(l.limit).toBe(58);
  });

  it('climbs back from the floor after a cold start cut it there, while in flight stays far below it', () => {
    const l = limit();
    // The first window of a run: JIT and empty caches, every answer slow, requests queued.
    window(l, { served: 30, slow: 30, peak: 64, objectiveMs: 50 });
    expect(l.limit).toBe(16);
    // Then the load is served within its objectives with 4 to 10 in flight: nothing refused.
    const limits: number[] = [];
    for (let i = 0; i < 15; i++) {
      window(l, { served: 100, slow: 2, peak: 4 + (i % 7), objectiveMs: 50 });
      limits.push(l.limit);
    }
    expect(limits[0]).toBe(17);
    expect(limits[14]).toBe(64);
    // A slow window with requests queued cuts it again at once.
    window(l, { served: 100, slow: 50, peak: 60, objectiveMs: 50 });
    expect(l.limit).toBe(16);
  });

  it('never grows past the configured bound, and a floor above a tiny bound is the bound', () => {
    const l = limit(2);
    for (let i = 0; i < 5; i++) {
      l.admits(2);
      window(l, { served: 10, slow: 0, peak: 2 });
    }
    expect(l.limit).toBe(2);
    window(l, { served: 10, slow: 10, peak: 2 });
    expect(l.limit).toBe(2);
  });
});
