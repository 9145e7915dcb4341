// Where a read's time goes between the gateway and the service that answers it, from the traces a
// benchmark kept (BENCH_TRACES_FILE=file make bench-load; the chart's sampling, 10 % of requests):
// for each route, the gateway's request span cut at its gRPC call and the service's span for it.
//   before    the gateway's own work before the call (authentication, checks)
//   to        the call's way to the service: grpc-js in the gateway, HTTP/2 over loopback, grpc-js
//             in the service, and each process waiting for its event loop and a core
//   service   the service's handler (its cache and database round trips included)
//   back      the answer's way back: serialising, HTTP/2, grpc-js, the gateway's event loop
//   after     the gateway's own work after the call (presenting, serialising the JSON answer)
// and the service's part again, split by whether it ran a database statement (a cache miss, for the
// cached reads) or not.
// `to` and `back` come from two processes' clocks, whose span starts are whole milliseconds (OTel
// JS takes a span's start from Date.now()): each is ±1 ms; their sum (the call's span less the
// service's) is exact. Durations are exact.
// Run: `npx tsx bench/traces-breakdown.ts file [hold seconds, 120]`: the spans of the last that many
// seconds before the last one ended (the hold, when the run stops right after it).
import { readFileSync } from 'node:fs';

interface Span {
  service: string;
  id: string;
  parent: string;
  name: string;
  startMs: number;
  endMs: number;
  kind: number;
}

type AnyValue = Record<string, unknown>;
interface Export {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: AnyValue }> };
    scopeSpans?: Array<{ spans?: Array<{ spanId: string; parentSpanId?: string; name: string; kind?: number; startTimeUnixNano: string; endTimeUnixNano: string }> }>;
  }>;
}

const SERVER = 2;
const CLIENT = 3;
const parts = ['before', 'to', 'service', 'back', 'after'] as const;
type Part = (typeof parts)[number];
type Cut = Record<Part, number> & { statements: number };

const ms = (nanos: string) => Number(BigInt(nanos) / 1000n) / 1000;

export function readSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    for (const rs of (JSON.parse(line) as Export).resourceSpans ?? []) {
      const service = String(Object.values(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {})[0] ?? 'unknown');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({ service, id: s.spanId, parent: s.parentSpanId ?? '', name: s.name, kind: Number(s.kind ?? 0), startMs: ms(s.startTimeUnixNano), endMs: ms(s.endTimeUnixNano) });
        }
      }
    }
  }
  return spans;
}

/** Each gateway request with one gRPC call answered by a traced service span, cut in parts. */
export function breakdown(spans: Span[], holdSeconds: number): Map<string, Cut[]> {
  const end = Math.max(...spans.map((s) => s.endMs));
  const children = new Map<string, Span[]>();
  for (const s of spans) {
    const siblings = children.get(s.parent);
    if (siblings) siblings.push(s);
    else children.set(s.parent, [s]);
  }
  const routes = new Map<string, Cut[]>();
  for (const root of spans) {
    if (root.service !== 'gateway' || root.parent !== '' || root.kind !== SERVER || root.startMs < end - holdSeconds * 1000) continue;
    const calls = (children.get(root.id) ?? []).filter((c) => c.kind === CLIENT && c.service === 'gateway');
    const answered = calls.map((call) => ({ call, served: (children.get(call.id) ?? []).find((s) => s.kind === SERVER && s.service !== 'gateway') })).filter((c) => c.served);
    if (answered.length !== 1) continue; // none traced, or several calls: not one path to cut
    const { call, served } = answered[0]!;
    const statements = (children.get(served!.id) ?? []).filter((s) => s.name.startsWith('pg.')).length;
    const cut = { before: call.startMs - root.startMs, to: served!.startMs - call.startMs, service: served!.endMs - served!.startMs, back: call.endMs - served!.endMs, after: root.endMs - call.endMs, statements };
    const cuts = routes.get(root.name);
    if (cuts) cuts.push(cut);
    else routes.set(root.name, [cut]);
  }
  return routes;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export function report(routes: Map<string, Cut[]>): string {
  const lines = ['| route | traces | part | p50 | p95 | p99 | mean in the slowest 5 % |', '|---|---|---|---|---|---|---|'];
  for (const [route, cuts] of [...routes].sort(([a], [b]) => a.localeCompare(b))) {
    if (cuts.length < 50) continue;
    const total = (c: Cut) => parts.reduce((sum, p) => sum + c[p], 0);
    const byTotal = [...cuts].sort((a, b) => total(a) - total(b));
    const slowest = byTotal.slice(Math.floor(byTotal.length * 0.95));
    const row = (name: string, values: number[], slow: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mean = slow.reduce((a, b) => a + b, 0) / Math.max(1, slow.length);
      return `| ${route} | ${cuts.length} | ${name} | ${quantile(sorted, 0.5).toFixed(1)} | ${quantile(sorted, 0.95).toFixed(1)} | ${quantile(sorted, 0.99).toFixed(1)} | ${mean.toFixed(1)} |`;
    };
    lines.push(row('whole (gateway span)', cuts.map(total), slowest.map(total)));
    for (const p of parts) lines.push(row(p, cuts.map((c) => c[p]), slowest.map((c) => c[p])));
    const ran = (c: Cut) => c.statements > 0;
    const share = (xs: Cut[]) => `${Math.round((100 * xs.filter(ran).length) / Math.max(1, xs.length))} %`;
    const split: Array<[string, Cut[]]> = [
      [`service, with a database statement (${share(cuts)}; ${share(slowest)} of the slowest)`, cuts.filter(ran)],
      ['service, without', cuts.filter((c) => !ran(c))],
    ];
    for (const [name, some] of split) if (some.length > 0) lines.push(row(name, some.map((c) => c.service), slowest.filter((c) => some.includes(c)).map((c) => c.service)));
  }
  return lines.join('\n');
}

if (require.main === module) {
  const [file, hold] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/traces-breakdown.ts <BENCH_TRACES_FILE> [hold seconds]\n');
    process.exit(2);
  }
  process.stdout.write(`${report(breakdown(readSpans(readFileSync(file, 'utf8')), Number(hold ?? 120)))}\n`);
}
