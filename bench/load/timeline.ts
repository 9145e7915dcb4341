import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpuBetween, cpuReading, type CpuReading } from './process-cpu';

/** One second of a hold: what the patients got, and what the machine did meanwhile. */
export interface Second {
  /** Seconds since the hold began (the second that ended then); the ramp's seconds are 0 and below. */
  at: number;
  answers: number;
  /** Answers slower than the read objective (timeline's slowMs). */
  slow: number;
  /** 503 OVERLOADED: refused by a gateway. */
  refused: number;
  maxMs: number;
  /** Cores used in that second by each group (as the hold's CPU line). */
  cpu: Record<string, number>;
  /** The load generator's own event-loop delay, most in that second (ms): a late generator measures its own lateness. */
  generatorLagMs: number;
}

/** How often the generator's event loop is sampled (ms). */
const LAG_RESOLUTION_MS = 10;

/**
 * How late the generator's event loop was (ms), from the longest interval between two samples:
 * monitorEventLoopDelay records the whole interval, the resolution included (an idle loop reads 10 ms).
 */
export function lateness(longestIntervalNs: number): number {
  return Math.max(0, Math.round(longestIntervalNs / 1e6 - LAG_RESOLUTION_MS));
}

/**
 * A hold second by second, to tell a spread-out tail (every second a little slow) from spells (a
 * few seconds when everything is slow: a pause somewhere, a sweep, a checkpoint), and to see who used
 * the CPU in the worst seconds. The generator's own event-loop delay is read too: answers it records
 * late are its lateness, not the platform's.
 */
export class Timeline {
  readonly seconds: Second[] = [];
  private current = { answers: 0, slow: 0, refused: 0, maxMs: 0 };
  private readonly lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private readonly startedAt = performance.now();
  private lastReading: CpuReading;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly groups: Record<string, number[]>,
    /** Started with the ramp, this long before the hold (so the cold start shows too). */
    private readonly rampSeconds = 0,
    private readonly slowMs = 50,
  ) {
    this.lag.enable();
    this.lastReading = cpuReading(groups);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  record(latencyMs: number, status: number): void {
    this.current.answers += 1;
    if (latencyMs > this.slowMs) this.current.slow += 1;
    if (status === 503) this.current.refused += 1;
    this.current.maxMs = Math.max(this.current.maxMs, latencyMs);
  }

  stop(): Second[] {
    clearInterval(this.timer);
    this.lag.disable();
    return this.seconds;
  }

  /** The hold's seconds (the ramp's left out). */
  get hold(): Second[] {
    return this.seconds.filter((s) => s.at > 0);
  }

  /** The ramp's seconds. */
  get ramp(): Second[] {
    return this.seconds.filter((s) => s.at <= 0);
  }

  /** The hold's n seconds with the most slow or refused answers, in time order. */
  worst(n: number): Second[] {
    return this.hold.sort((a, b) => b.slow + b.refused - (a.slow + a.refused)).slice(0, n).sort((a, b) => a.at - b.at);
  }

  private tick(): void {
    // One pass over /proc a second: this reading ends this second and starts the next.
    const reading = cpuReading(this.groups);
    const cpu = cpuBetween(this.lastReading, reading);
    this.lastReading = reading;
    const at = Math.round((performance.now() - this.startedAt) / 1000) - this.rampSeconds;
    this.seconds.push({ at, ...this.current, maxMs: Math.round(this.current.maxMs), cpu, generatorLagMs: lateness(this.lag.max) });
    this.current = { answers: 0, slow: 0, refused: 0, maxMs: 0 };
    this.lag.reset();
  }
}
