import { ConcurrencyLimit } from './concurrency-limit';

describe('adaptive in-flight limit (AIMD on latency while requests queue)', () => {
  let clock = 0;
  const limit = (max = 64) => new ConcurrencyLimit({ max, min: 16, windowMs: 500, slowShare: 0.05, backoff: 0.75, queueShare: 0.8, growth: 0.1 }, () => clock);
  /** One window: requests admitted up to `peak` in flight, `served` of them answered, `slow` too slowly. */
  const window = (l: ConcurrencyLimit, { served, slow, peak }: { served: number; slow: number; peak: number }) => {
    l.admits(peak - 1);
    for (let i = 0; i < served; i++) l.record(i < slow);
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
    window(l, { served: 100, slow: 10, peak: 64 });
    expect(l.limit).toBe(48);
    for (let i = 0; i < 20; i++) window(l, { served: 100, slow: 50, peak: l.limit });
    expect(l.limit).toBe(16);
  });

  it('holds when answers are slow but nothing queues at the bound (a slow backend or a busy machine, not the gateway)', () => {
    const l = limit();
    for (let i = 0; i < 10; i++) window(l, { served: 100, slow: 60, peak: 20 });
    expect(l.limit).toBe(64);
  });

  it('keeps its limit when few answers are slow, and grows back only while the limit is what refuses', () => {
    const l = limit();
    window(l, { served: 100, slow: 10, peak: 64 });
    expect(l.limit).toBe(48);
    window(l, { served: 100, slow: 5, peak: 48 }); // 5 %: within the objective, nothing refused
    expect(l.limit).toBe(48);
    expect(l.admits(48)).toBe(false); // refused: the limit binds
    window(l, { served: 100, slow: 0, peak: 48 });
    expect(l.limit).toBe(52); // + 10 %
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
