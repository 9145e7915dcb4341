/**
 * V8's garbage-collection pauses in each service, from the `nodejs_gc_duration_seconds` histogram
 * every service exports (prom-client's default metrics): a pause stops the process's event loop, so
 * every request in it waits. Read before and after a hold; the difference is the hold's.
 */
export interface GcPauses {
  /** Pauses of every kind (minor, major, incremental, weakcb). */
  count: number;
  /** Their total, in seconds. */
  seconds: number;
  /** Pauses longer than 10 ms (the histogram's bucket above 1 ms). */
  over10ms: number;
  /** Seconds in pauses by kind: minor (young generation), major (the whole heap), incremental (marking steps), weakcb. */
  secondsByKind: Record<string, number>;
}

/** The GC figures of one scrape of a service's /metrics (Prometheus text), all kinds summed. */
export function gcPausesIn(metricsText: string): GcPauses {
  const totals = { count: 0, seconds: 0, upTo10ms: 0 };
  const secondsByKind: Record<string, number> = {};
  for (const line of metricsText.split('\n')) {
    const m = /^nodejs_gc_duration_seconds(_bucket|_sum|_count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (m[1] === '_count') totals.count += value;
    else if (m[1] === '_sum') {
      totals.seconds += value;
      const kind = /kind="([^"]*)"/.exec(m[2]!)?.[1] ?? 'unknown';
      secondsByKind[kind] = (secondsByKind[kind] ?? 0) + value;
    }
    else if (/(^|,)le="0\.01"/.test(m[2]!)) totals.upTo10ms += value;
  }
  return { count: totals.count, seconds: totals.seconds, over10ms: totals.count - totals.upTo10ms, secondsByKind };
}

/** after - before, per service (seconds to 0.01 s). */
export function gcPausesBetween(before: Record<string, GcPauses>, after: Record<string, GcPauses>): Record<string, GcPauses> {
  return Object.fromEntries(
    Object.entries(after).map(([service, a]) => {
      const b = before[service] ?? { count: 0, seconds: 0, over10ms: 0, secondsByKind: {} };
      const round = (x: number) => Math.round(x * 100) / 100;
      const secondsByKind = Object.fromEntries(Object.entries(a.secondsByKind).map(([kind, v]) => [kind, round(v - (b.secondsByKind[kind] ?? 0))]));
      return [service, { count: a.count - b.count, seconds: round(a.seconds - b.seconds), over10ms: a.over10ms - b.over10ms, secondsByKind }];
    }),
  );
}
