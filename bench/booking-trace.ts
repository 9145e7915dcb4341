// Where one booking's time goes (`make bench-booking-trace`): the platform with the chart's
// production runtime but every trace sampled, exported over OTLP to a receiver in this process;
// BENCH_BOOKINGS bookings one after another (default 30), each by a patient who has the slot
// listing in hand; then, over the booking requests' traces, each span's median and p90 by service,
// and the timeline of the last one. Writes bench/results/booking-trace-<date>[-BENCH_NAME].md.
import os from 'node:os';
import { execSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiClient, backendServices, currentConsents, otlpEnv, seedDemoDirectory, startOtlpReceiver, startPlatform, type ReceivedSpan } from '@cryptocare/testing';
import { chartRuntime } from './load/chart-runtime';

const BOOKINGS = Number(process.env.BENCH_BOOKINGS ?? 30);
/** Between bookings, so that one booking's events are handled before the next (one at a time). */
const PAUSE_MS = 300;

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)] ?? NaN;

/** Per span (service, kind, name): how many, median and p90 in ms, the longest first. */
export function spanTable(spans: ReceivedSpan[], traceIds: Set<string>): Array<{ span: string; count: number; p50: number; p90: number }> {
  const durations = new Map<string, number[]>();
  for (const s of spans) {
    if (!traceIds.has(s.traceId)) continue;
    const key = `${s.service} ${s.kind} ${s.name}`;
    durations.set(key, [...(durations.get(key) ?? []), s.endMs - s.startMs]);
  }
  return [...durations.entries()].map(([span, v]) => ({ span, count: v.length, p50: quantile(v, 0.5), p90: quantile(v, 0.9) })).sort((a, b) => b.p50 - a.p50 || b.p90 - a.p90);
}

async function main() {
  const receiver = await startOtlpReceiver();
  // The production runtime (log level, NODE_ENV), every trace sampled so that each booking has one.
  const chart = chartRuntime(receiver.url, undefined, { samplerRatio: '1' });
  const extraEnv = Object.fromEntries((['gateway', ...backendServices] as const).map((s) => [s, { ...chart.envOf(s), ...otlpEnv(receiver.url), OTEL_SERVICE_NAME: s }]));
  const platform = await startPlatform({ extraEnv });
  try {
    const api = new ApiClient(platform.gatewayUrl);
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `trace-${Date.now()}@example.ch`, password: 'bench-password-1', role: 'patient', displayName: 'Trace', consents: currentConsents() });
    const patient = api.as(session.accessToken);
    const pros = (await patient.expect(200, 'GET', '/v1/professionals?country=CH&limit=10')).items as Array<{ id: string }>;
    const totals: number[] = [];
    for (let i = 0; i < BOOKINGS; i++) {
      const pro = pros[i % pros.length]!;
      const slots = (await patient.expect(200, 'GET', `/v1/professionals/${pro.id}/slots`)).items as Array<{ start: string }>;
      const started = performance.now();
      await patient.expect(201, 'POST', '/v1/appointments', { professionalId: pro.id, start: slots[0]!.start });
      totals.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
    // The services export in batches (OTEL_BSP_SCHEDULE_DELAY): wait for the last ones.
    await new Promise((r) => setTimeout(r, 3_000));
    const roots = receiver.spans.filter((s) => s.service === 'gateway' && s.kind === 'server' && s.name === 'POST /v1/appointments');
    const traceIds = new Set(roots.map((r) => r.traceId));
    const last = roots.at(-1)!;
    const timeline = receiver.spans
      .filter((s) => s.traceId === last.traceId && s.startMs - last.startMs < 1_000)
      .sort((a, b) => a.startMs - b.startMs)
      .map((s) => `| +${s.startMs - last.startMs} | ${s.endMs - s.startMs} | ${s.service} | ${s.kind} ${s.name} |`);

    const commit = execSync('git rev-parse --short HEAD').toString().trim();
    const dirty = execSync('git status --porcelain -- services libs').toString().trim() ? ' with uncommitted changes' : '';
    const name = process.env.BENCH_NAME ? `-${process.env.BENCH_NAME}` : '';
    const file = path.join(__dirname, 'results', `booking-trace-${new Date().toISOString().slice(0, 10)}${name}.md`);
    if (existsSync(file)) throw new Error(`${file} exists: set another BENCH_NAME`);
    const report = [
      `# Where one booking's time goes, ${new Date().toISOString().slice(0, 10)} (commit ${commit}${dirty})`,
      '',
      `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; every service its own process on the local PostgreSQL, Redis and Kafka, providers simulated in the generator's process.`,
      `Command: \`make bench-booking-trace\` (BENCH_BOOKINGS=${BOOKINGS}); ${BOOKINGS} bookings one after another, ${PAUSE_MS} ms apart.`,
      `Runtime: ${chart.summary.replace(/parentbased_traceidratio 1/, 'every trace sampled')}.`,
      '',
      `Booking + QR as the client saw it: p50 ${quantile(totals, 0.5).toFixed(1)} ms, p90 ${quantile(totals, 0.9).toFixed(1)} ms; ${traceIds.size} traces.`,
      '',
      '| span (service, kind, name) | count | p50 (ms) | p90 (ms) |',
      '|---|---|---|---|',
      ...spanTable(receiver.spans, traceIds).map((r) => `| ${r.span} | ${r.count} | ${r.p50} | ${r.p90} |`),
      '',
      'The last booking, span by span (start after the gateway took the request, duration, ms; spans whole milliseconds as exported):',
      '',
      '| start | took | service | span |',
      '|---|---|---|---|',
      ...timeline,
      '',
    ].join('\n');
    writeFileSync(file, report);
    console.log(report);
  } finally {
    await platform.stop();
    await receiver.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
