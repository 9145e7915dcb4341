import { ConcurrencyLimit } from './concurrency-limit';

describe('adaptive in-flight limit (AIMD on latency)', () => {
  let clock = 0;
  const limit = (max = 64) => new ConcurrencyLimit({ max, min: 4, windowMs: 500, slowShare: 0.05, backoff: 0.75 }, () => clock);
  const window = (l: ConcurrencyLimit, served: number, slow: number) => {
    for (let i = 0; i < served; i++) l.record(i < slow);
    clock += 500;
  };
  beforeEach(() => (clock = 0));

  it('starts at the configured bound and admits below it only', () => {
    const l = limit(3);
    expect(l.admits(2)).toBe(true);
    expect(l.admits(3)).toBe(false);
  });

  it('shrinks while more than 5 % of the served requests miss their objective, never below the floor', () => {
    const l = limit();
    window(l, 100, 10);
    expect(l.admits(0)).toBe(true); // rolls the window
    expect(l.limit).toBe(48);
    for (let i = 0; i < 20; i++) {
      window(l, 100, 50);
      l.admits(0);
    }
    expect(l.limit).toBe(4);
  });

  it('keeps its limit when few requests are slow, and grows by one per window only while the limit is what refuses', () => {
    const l = limit();
    window(l, 100, 10);
    l.admits(0);
    expect(l.limit).toBe(48);
    window(l, 100, 5); // 5 %: within the objective, nothing refused
    l.admits(0);
    expect(l.limit).toBe(48);
    expect(l.admits(48)).toBe(false); // refused: the limit binds
    window(l, 100, 0);
    l.admits(0);
    expect(l.limit).toBe(49);
  });

  it('never grows past the configured bound, and a floor above a tiny bound is the bound', () => {
    const l = limit(2);
    for (let i = 0; i < 5; i++) {
      l.admits(2);
      window(l, 10, 0);
    }
    l.admits(0);
    expect(l.limit).toBe(2);
    window(l, 10, 10);
    l.admits(0);
    expect(l.limit).toBe(2);
  });
});
