// Benchmarks of the plan's service levels (seed plan 1.3), on the real stack: every service its own
// process against the local PostgreSQL, Redis and Kafka (scripts/infra), providers simulated.
//   1. the booking saga, one booking after another: booking → invoice + QR (SLO < 2 s),
//      payment → confirmed (< 5 s), confirmed → meeting link (< 2 s);
//   2. API latency under load (autocannon): search and slots, p95 vs the 500 ms SLO.
// Run: `make bench` (or `npx tsx bench/run.ts`); writes bench/results/<date>.md and prints it.
import os from 'node:os';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { ApiClient, eventually, seedDemoDirectory, startPlatform, currentConsents } from '@cryptocare/testing';
import { platformEnv, serviceRuntime } from './load/service-runtime';
import { coldRedisDatabase } from './load/cold-cache';

const BOOKINGS = Number(process.env.BENCH_BOOKINGS ?? 30);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}
const ms = (v: number) => `${Math.round(v)} ms`;

async function bookingSaga(api: ApiClient) {
  const samples = { invoice: [] as number[], confirmation: [] as number[], meeting: [] as number[] };
  const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `bench-${Date.now()}@example.ch`, password: 'bench-password-1', role: 'patient', displayName: 'Bench', consents: currentConsents() });
  const patient = api.as(session.accessToken);
  const pros = (await patient.expect(200, 'GET', '/v1/professionals?country=CH&limit=10')).items as Array<{ id: string }>;
  for (let i = 0; i < BOOKINGS; i++) {
    const pro = pros[i % pros.length]!;
    const slot = (await patient.expect(200, 'GET', `/v1/professionals/${pro.id}/slots`)).items[0];
    let started = performance.now();
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: pro.id, start: slot.start });
    samples.invoice.push(performance.now() - started);
    if (!booked.invoice?.qrSvg) throw new Error('no QR code in the booking answer');
    const stream = patient.openEvents(`/v1/appointments/${booked.appointment.id}/events`);
    await eventually(async () => stream.events.some((e) => e.event === 'invoice_ready'), 10_000, 5);
    started = performance.now();
    await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' });
    await eventually(async () => stream.events.some((e) => e.event === 'confirmed'), 30_000, 5);
    const confirmedAt = performance.now();
    samples.confirmation.push(confirmedAt - started);
    await eventually(async () => stream.events.some((e) => e.event === 'meeting_ready'), 30_000, 5);
    samples.meeting.push(performance.now() - confirmedAt);
    stream.close();
  }
  return samples;
}

async function load(url: string, title: string) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS, title });
  return {
    title,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    total: result.requests.total,
  };
}

async function main() {
  // The per-client rate limit would otherwise answer most of the load with 429.
  // The chart's production runtime (logs at info, 10 % of traces), unless BENCH_RUNTIME=quiet.
  const runtime = await serviceRuntime();
  const platform = await startPlatform({ bundles: runtime.bundles, redisDatabase: await coldRedisDatabase(), logLevel: 'error', extraEnv: platformEnv(runtime, { gateway: { RATE_LIMIT_PER_MINUTE: '100000000' } }) });
  try {
    const api = new ApiClient(platform.gatewayUrl);
    const ids = await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    const saga = await bookingSaga(api);
    const search = await load(`${platform.gatewayUrl}/v1/professionals?specialty=general-practice&country=CH`, 'GET /v1/professionals (search)');
    const slots = await load(`${platform.gatewayUrl}/v1/professionals/${ids[1]}/slots`, 'GET /v1/professionals/{id}/slots');

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const lines = [
      `# Benchmark ${new Date().toISOString().slice(0, 10)} (commit ${commit})`,
      '',
      `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; all six services, PostgreSQL, Redis, Kafka and the load generator on this one machine.`,
      `Command: \`make bench\` (BENCH_BOOKINGS=${BOOKINGS}, BENCH_LOAD_SECONDS=${LOAD_SECONDS}, BENCH_CONNECTIONS=${CONNECTIONS}).`,
      `Services' runtime: ${runtime.summary}.`,
      '',
      `## Booking saga (${BOOKINGS} bookings, one at a time)`,
      '',
      '| step | SLO | p50 | p95 | max |',
      '|---|---|---|---|---|',
      `| booking answered with invoice + QR code | < 2 s | ${ms(quantile(saga.invoice, 0.5))} | ${ms(quantile(saga.invoice, 0.95))} | ${ms(Math.max(...saga.invoice))} |`,
      `| provider payment → \`confirmed\` on the stream | < 5 s | ${ms(quantile(saga.confirmation, 0.5))} | ${ms(quantile(saga.confirmation, 0.95))} | ${ms(Math.max(...saga.confirmation))} |`,
      `| \`confirmed\` → \`meeting_ready\` (meeting link) | < 2 s | ${ms(quantile(saga.meeting, 0.5))} | ${ms(quantile(saga.meeting, 0.95))} | ${ms(Math.max(...saga.meeting))} |`,
      '',
      `## API under load (${CONNECTIONS} connections, ${LOAD_SECONDS} s each)`,
      '',
      '| route | req/s | p50 | p90 | p97.5 | p99 | errors / total |',
      '|---|---|---|---|---|---|---|',
      ...[search, slots].map((r) => `| ${r.title} | ${r.requestsPerSecond} | ${r.p50} ms | ${r.p90} ms | ${r.p97_5} ms | ${r.p99} ms | ${r.errors} / ${r.total} |`),
      '',
    ];
    const report = lines.join('\n');
    const file = path.join(__dirname, 'results', `${new Date().toISOString().slice(0, 10)}.md`);
    writeFileSync(file, report);
    process.stdout.write(`${report}\nwritten to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await platform.stop();
    runtime.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
