import { lateness } from './timeline';

describe("the generator's lateness", () => {
  // monitorEventLoopDelay({ resolution: 10 }) records whole intervals between its samples: an idle
  // loop reads 10.0-10.1 ms (Node 24), and reports before this fix called that "late by 10 ms".
  it('is the longest interval less the sampling interval', () => {
    expect(lateness(10_089_854)).toBe(0);
    expect(lateness(27_400_000)).toBe(17);
  });

  it('is never negative (a sample a little early)', () => {
    expect(lateness(9_900_000)).toBe(0);
  });
});
