// The in-flight bound that follows the backends: additive increase, multiplicative decrease (AIMD,
// as TCP congestion control and Netflix's concurrency-limits do it) on the latency of the requests
// served. A fixed bound is right for one machine and one mix only: 64 let accepted reads reach a p95
// of 478 ms at 5x load on two cores (bench/results/overload-2026-12-01-inflight64.md), 16 shed a
// quarter of a load the stack could serve. This one shrinks while served requests miss their
// latency objective while requests queue at the bound, and grows back while they meet it. Slow
// answers with the bound far from reached are not a queue in the gateway (a slow backend, a busy
// machine): refusing more would not make them faster, so the bound
// holds (its first version shrank to its floor at 2 000 users and shed 60 % of a load it could serve:
// bench/results/load-2026-12-01-aimd-v1.md).
//
// A multiplicative decrease alone takes seconds to come down from the ceiling (64 → 4 at × 0.75 is ten
// windows), and at 5x load every one of those windows serves slowly. So a slow window with requests
// queued also cuts the bound at once to what Little's law says keeps answers within their objective:
// in flight = throughput × time in the system; with each request's objective as its time, the sum of
// the window's objectives over the window's length is the concurrency that serves it at its objectives
// on average, and half of it (mean latency at half the objective) leaves room for the p95.
// A window judges latency only with enough answers in it (minSamples): a few slow sign-ins on a busy
// machine (argon2; the embedded mode on a CI runner) are no queue, and once cut the bound to its
// floor and refused ordinary traffic.
// The floor is 16, not lower: at the floor every window looks "queued" (a handful in flight is 80 % of
// a tiny bound), so a bound of 4 stayed there at 2 000 users and refused 44 % of the traffic, and at 800
// users with the machine half idle it still refused 2.5 % (bench/results/load-2026-12-02.md). With 16,
// the 2 000 users were refused 16 % and the 800 users 0.1 %, and at 5x overload the requests accepted
// kept a p95 of 154 ms, within the plan's 500 ms (bench/results/overload-2026-12-02.md).
//
// It grows back in every window whose answers meet their objective, not only in those where the bound
// refused: growing only while refusing (TCP's rule for a window in use) left it at the floor for good
// after the cold start of a 2 000-user run cut it there (JIT, empty caches: 30 of 30 answers slow in
// one window). Afterwards most windows were fast with 4-10 in flight, so nothing refused and nothing
// grew, and each burst above 16 was refused (the spells of refusals at 2 000 users). Unused,
// it climbs back to its ceiling in about 15 windows (4 s); a slow window with requests queued cuts it
// again at once.

export interface ConcurrencyLimitOptions {
  /** The most requests at once, whatever the latency (MAX_IN_FLIGHT). */
  max: number;
  /** The fewest: a floor so a slow spell never stops the gateway from serving. */
  min: number;
  /** Length of a measurement window (ms): the limit changes at most once per window. */
  windowMs: number;
  /** Share of a window's requests allowed to miss their objective (0.05: the p95 objective). */
  slowShare: number;
  /** Factor applied to the limit after a window with too many slow requests while requests queued. */
  backoff: number;
  /** Share of the limit that in-flight requests must have reached in the window for it to shrink. */
  queueShare: number;
  /** Growth per window while requests are fast: this share of it, at least 1. */
  growth: number;
  /** Fewest answers in a window for its latency to shrink the bound. */
  minSamples: number;
  /** Share of the Little's-law concurrency (Σ objectives / window) a slow, queued window cuts to at once. */
  littleShare: number;
}

export const defaultConcurrencyLimit: Omit<ConcurrencyLimitOptions, 'max'> = { min: 16, windowMs: 250, slowShare: 0.05, backoff: 0.75, queueShare: 0.8, growth: 0.1, minSamples: 20, littleShare: 0.5 };

export class ConcurrencyLimit {
  private current: number;
  private windowStart: number;
  private served = 0;
  private slow = 0;
  /** Sum of the latency objectives (ms) of the requests served in this window. */
  private objectivesMs = 0;
  private peakInFlight = 0;

  constructor(
    private readonly options: ConcurrencyLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = options.max;
    this.windowStart = now();
  }

  get limit(): number {
    return Math.floor(this.current);
  }

  /** Whether one more request may start with `inFlight` already served (false: shed it). */
  admits(inFlight: number): boolean {
    this.roll();
    this.peakInFlight = Math.max(this.peakInFlight, inFlight + 1);
    return inFlight < this.limit;
  }

  /** A request served in `latencyMs` against its objective. */
  record(latencyMs: number, objectiveMs: number): void {
    this.roll();
    this.served += 1;
    this.objectivesMs += objectiveMs;
    if (latencyMs > objectiveMs) this.slow += 1;
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < this.options.windowMs) return;
    const { min, max, slowShare, backoff, queueShare, growth, minSamples, littleShare } = this.options;
    const slow = this.served >= minSamples && this.slow > this.served * slowShare;
    const queued = this.peakInFlight >= this.current * queueShare;
    const little = (littleShare * this.objectivesMs) / (now - this.windowStart);
    if (slow && queued) this.current = Math.max(Math.min(min, max), Math.min(this.current * backoff, little));
    else if (!slow) this.current = Math.min(max, this.current + Math.max(1, this.current * growth));
    this.windowStart = now;
    this.served = 0;
    this.slow = 0;
    this.objectivesMs = 0;
    this.peakInFlight = 0;
  }
}
