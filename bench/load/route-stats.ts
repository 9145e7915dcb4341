import type { Timeline } from './timeline';
import * as hdr from 'hdr-histogram-js';

/** Latency (HdrHistogram, 1 µs to 60 s) and outcomes of one route during one phase of a benchmark. */
export class RouteStats {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  readonly statuses = new Map<number, number>();
  /** Transport failures (connection refused or reset, timeouts): no HTTP status at all. */
  failures = 0;

  record(latencyMs: number, status: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Answers outside 2xx, except those the route's caller expects (e.g. 409 when a slot was just taken). */
  errors(expected: number[] = []): number {
    let n = this.failures;
    for (const [status, count] of this.statuses) if ((status < 200 || status >= 300) && !expected.includes(status)) n += count;
    return n;
  }

  percentile(p: number): number {
    return this.histogram.getValueAtPercentile(p) / 1000;
  }

  summary() {
    return {
      count: this.count,
      p50: round(this.percentile(50)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      max: round(this.histogram.maxValue / 1000),
      statuses: Object.fromEntries([...this.statuses].sort(([a], [b]) => a - b)),
      failures: this.failures,
    };
  }
}

const round = (v: number) => Math.round(v * 10) / 10;

/** Every route's stats for one phase, by route label. */
export class PhaseStats {
  readonly routes = new Map<string, RouteStats>();
  readonly startedAt = performance.now();
  endedAt = 0;
  /** Second by second, for a hold that is measured (loadPhases). */
  timeline?: Timeline;

  route(label: string): RouteStats {
    let stats = this.routes.get(label);
    if (!stats) this.routes.set(label, (stats = new RouteStats()));
    return stats;
  }

  get seconds(): number {
    return ((this.endedAt || performance.now()) - this.startedAt) / 1000;
  }
}
