// Overload benchmark (issue 14): at 5x the capacity, does the gateway shed with 503 + Retry-After,
// keep the latency of what it accepts within the SLO (p95 < 50 ms), and recover after the load drops?
// On the real stack: every service its own process against the local PostgreSQL, Redis and Kafka.
//   1. capacity: a closed loop (autocannon, BENCH_CAPACITY_CONNECTIONS connections) on a read mix —
//      searches with varied filters, profile views, slots — gives the throughput the stack sustains;
//   2. overload: an open loop (constant arrival rate, whatever the answers) at BENCH_OVERLOAD_FACTOR
//      times that throughput for BENCH_OVERLOAD_SECONDS;
//   3. drop: the same open loop at BENCH_LOW_FACTOR of the capacity for BENCH_LOW_SECONDS.
// Latency is measured from each request's scheduled start (no coordinated omission: a request the
// generator could not send on time counts its wait). Recovery time: from the drop to the end of the
// first whole second whose accepted requests have p95 under the SLO and none of which was shed.
// Run: `make bench-overload` (never in tests); writes bench/results/overload-<date>.{json,md}.
import os from 'node:os';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { seedDemoDirectory, startPlatform } from '@cryptocare/testing';
import { measureCpu, pidsOf } from './load/process-cpu';
import { platformEnv, serviceRuntime } from './load/service-runtime';
import { coldRedisDatabase } from './load/cold-cache';

/**
 * The gateway's read objective (p95), which its adaptive bound holds served reads to; recovery is
 * counted against it. The plan's API SLO (ARCHITECTURE section 1, the chart's alerts) is p95 < 500 ms.
 */
const SLO_P95_MS = 50;
const PLAN_SLO_P95_MS = 500;
const CAPACITY_SECONDS = Number(process.env.BENCH_CAPACITY_SECONDS ?? 10);
const CAPACITY_CONNECTIONS = Number(process.env.BENCH_CAPACITY_CONNECTIONS ?? 32);
const OVERLOAD_FACTOR = Number(process.env.BENCH_OVERLOAD_FACTOR ?? 5);
const OVERLOAD_SECONDS = Number(process.env.BENCH_OVERLOAD_SECONDS ?? 20);
const LOW_FACTOR = Number(process.env.BENCH_LOW_FACTOR ?? 0.2);
const LOW_SECONDS = Number(process.env.BENCH_LOW_SECONDS ?? 15);
/** The gateway's in-flight bound for the run (MAX_IN_FLIGHT); unset: the gateway's default. */
const MAX_IN_FLIGHT = process.env.BENCH_MAX_IN_FLIGHT;
/**
 * The gateway's micro-cache of anonymous directory reads (PUBLIC_CACHE_SECONDS). Off by default: the
 * read mix is all anonymous, so with it the gateway alone would answer and the run would measure the
 * load generator more than the stack; 5 is the production setting.
 */
const PUBLIC_CACHE_SECONDS = process.env.BENCH_PUBLIC_CACHE_SECONDS ?? '0';
const REQUEST_TIMEOUT_MS = 10_000;
/** The generator's keep-alive connections (all opened before the open-loop phases). */
const CONNECTIONS = 512;

interface Outcome {
  /** Scheduled start, ms since the phase began. */
  scheduledAt: number;
  /** How late the generator sent it (ms): large values mean the generator, not the gateway, fell behind. */
  sendLagMs: number;
  latencyMs: number;
  /** HTTP status, or 0 for a transport error / timeout. */
  status: number;
  retryAfter: boolean;
  code?: string;
  /** The kind of read: search, profile or slots. */
  kind: string;
}

const kindOf = (url: string) => (url.includes('/slots') ? 'slots' : url.includes('?') ? 'search' : 'profile');

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** The read mix: searches with varied filters, profile views and slots of the demo directory. */
function readMix(ids: string[]): string[] {
  const searches = [
    '/v1/professionals?country=CH',
    '/v1/professionals?specialty=general-practice',
    '/v1/professionals?specialty=cardiology&country=CH',
    '/v1/professionals?language=fr&limit=10',
    '/v1/professionals?lat=47.37&lng=8.54&radiusKm=100',
    '/v1/professionals?q=Keller',
  ];
  return [...searches, ...ids.map((id) => `/v1/professionals/${id}`), ...ids.slice(0, 4).map((id) => `/v1/professionals/${id}/slots`)];
}

/**
 * Sends `rate` requests per second for `seconds`, on schedule whatever the answers (open loop). undici's
 * pool, not node:http: at 5x it costs the generator about half the CPU, and the generator shares the
 * machine with the stack it measures.
 */
async function openLoop(pool: Pool, paths: string[], rate: number, seconds: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const pending: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  const send = async (index: number): Promise<void> => {
    const scheduledAt = (index / rate) * 1000;
    const sendLagMs = performance.now() - started - scheduledAt;
    const url = paths[index % paths.length]!;
    const done = (status: number, retryAfter: boolean, code?: string) =>
      outcomes.push({ kind: kindOf(url), scheduledAt, sendLagMs, latencyMs: performance.now() - started - scheduledAt, status, retryAfter, ...(code ? { code } : {}) });
    try {
      const res = await pool.request({ method: 'GET', path: url });
      let code: string | undefined;
      if (res.statusCode === 200) await res.body.dump();
      else code = ((await res.body.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
      done(res.statusCode, res.headers['retry-after'] !== undefined, code);
    } catch (err) {
      done(0, false, (err as { code?: string }).code?.includes('TIMEOUT') ? 'TIMEOUT' : 'CONNECTION_ERROR');
    }
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) pending.push(send(sent++));
      if (sent >= total) return resolve();
      setImmediate(tick);
    };
    tick();
  });
  await Promise.all(pending);
  return outcomes;
}

/**
 * The generator's connections, opened before the phases: in production the gateway sits behind an
 * ingress that keeps warm keep-alive connections to it, so a load peak arrives on open connections;
 * a storm of new connections is another test (and one the ingress absorbs).
 */
async function warmPool(base: URL): Promise<Pool> {
  const pool = new Pool(base.origin, { connections: CONNECTIONS, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => (await pool.request({ method: 'GET', path: '/healthz' })).body.dump()));
  return pool;
}

/** Samples the gateway's adaptive in-flight bound (its /metrics gauge) every 250 ms until the returned stop is called. */
function sampleInFlightLimit(metricsUrl: string): () => Promise<Array<{ at: number; limit: number }>> {
  const samples: Array<{ at: number; limit: number }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const text = await (await fetch(metricsUrl)).text().catch(() => '');
      const match = /^http_server_in_flight_limit(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(text);
      if (match) samples.push({ at: performance.now(), limit: Number(match[1]) });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return samples;
  };
}

/** The bound's lowest, median and highest value sampled in [from, to), and its median per second. */
function limitsBetween(samples: Array<{ at: number; limit: number }>, from: number, to: number) {
  const inPhase = samples.filter((s) => s.at >= from && s.at < to);
  const sorted = inPhase.map((s) => s.limit).sort((a, b) => a - b);
  const perSecond = Array.from({ length: Math.ceil((to - from) / 1000) }, (_, second) => {
    const values = inPhase.filter((s) => Math.floor((s.at - from) / 1000) === second).map((s) => s.limit).sort((a, b) => a - b);
    return quantile(values, 0.5);
  });
  return { min: sorted[0] ?? NaN, median: quantile(sorted, 0.5), max: sorted[sorted.length - 1] ?? NaN, perSecond };
}

function summarise(outcomes: Outcome[], seconds: number, rate: number) {
  const accepted = outcomes.filter((o) => o.status === 200).map((o) => o.latencyMs).sort((a, b) => a - b);
  const shed = outcomes.filter((o) => o.status === 503 && o.code === 'OVERLOADED');
  const other = outcomes.filter((o) => o.status !== 200 && !(o.status === 503 && o.code === 'OVERLOADED'));
  const otherByKind: Record<string, number> = {};
  for (const o of other) otherByKind[`${o.status}${o.code ? ` ${o.code}` : ''}`] = (otherByKind[`${o.status}${o.code ? ` ${o.code}` : ''}`] ?? 0) + 1;
  const perSecond = Array.from({ length: Math.ceil(seconds) }, (_, s) => {
    const inSecond = outcomes.filter((o) => o.scheduledAt >= s * 1000 && o.scheduledAt < (s + 1) * 1000);
    const ok = inSecond.filter((o) => o.status === 200).map((o) => o.latencyMs).sort((a, b) => a - b);
    return { second: s, sent: inSecond.length, accepted: ok.length, shed: inSecond.filter((o) => o.status === 503).length, p95: Math.round(quantile(ok, 0.95)) };
  });
  return {
    offeredPerSecond: Math.round(rate),
    requests: outcomes.length,
    acceptedPerSecond: Math.round(accepted.length / seconds),
    shedShare: outcomes.length ? shed.length / outcomes.length : 0,
    shedWithRetryAfter: shed.filter((o) => o.retryAfter).length,
    shed: shed.length,
    acceptedMs: { p50: Math.round(quantile(accepted, 0.5)), p95: Math.round(quantile(accepted, 0.95)), p99: Math.round(quantile(accepted, 0.99)) },
    acceptedP95ByKind: Object.fromEntries(
      ['search', 'profile', 'slots'].map((kind) => [kind, Math.round(quantile(outcomes.filter((o) => o.status === 200 && o.kind === kind).map((o) => o.latencyMs).sort((a, b) => a - b), 0.95))]),
    ),
    otherErrors: other.length,
    otherByKind,
    generatorSendLagMs: (() => {
      const lags = outcomes.map((o) => o.sendLagMs).sort((a, b) => a - b);
      return { p50: Math.round(quantile(lags, 0.5)), p95: Math.round(quantile(lags, 0.95)) };
    })(),
    perSecond,
  };
}

async function main() {
  const gatewayEnv: Record<string, string> = { RATE_LIMIT_PER_MINUTE: '100000000', PUBLIC_CACHE_SECONDS };
  if (MAX_IN_FLIGHT !== undefined) gatewayEnv.MAX_IN_FLIGHT = MAX_IN_FLIGHT;
  // The services as the chart runs them in production unless BENCH_RUNTIME=quiet; BENCH_CPU_PROFILE=dir
  // for their V8 CPU profiles of the whole run (bench/load/service-runtime.ts).
  const runtime = await serviceRuntime();
  // The per-client rate limit would otherwise answer most of the load with 429 (one address).
  const platform = await startPlatform({ bundles: runtime.bundles, redisDatabase: await coldRedisDatabase(), logLevel: 'error', extraEnv: platformEnv(runtime, { gateway: gatewayEnv }) });
  try {
    const ids = await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    const paths = readMix(ids);
    const base = new URL(platform.gatewayUrl);

    // Warm-up (caches, JIT), then the capacity of the read mix in a closed loop.
    await autocannon({ url: platform.gatewayUrl, requests: paths.map((p) => ({ method: 'GET', path: p })), connections: 8, duration: 3 });
    const closed = await autocannon({ url: platform.gatewayUrl, requests: paths.map((p) => ({ method: 'GET', path: p })), connections: CAPACITY_CONNECTIONS, duration: CAPACITY_SECONDS });
    // Only what was served counts: with a small in-flight bound, fast 503s would inflate it.
    const capacity = Math.round(closed['2xx'] / CAPACITY_SECONDS);
    const capacityRun = { connections: CAPACITY_CONNECTIONS, seconds: CAPACITY_SECONDS, requestsPerSecond: capacity, p50: closed.latency.p50, p97_5: closed.latency.p97_5, p99: closed.latency.p99, non2xx: closed.non2xx, errors: closed.errors };

    const overloadRate = capacity * OVERLOAD_FACTOR;
    const lowRate = Math.max(1, capacity * LOW_FACTOR);
    const pool = await warmPool(base);
    const cpuDuringOverload = measureCpu(pidsOf(platform));
    const stopSampling = sampleInFlightLimit(platform.metricsUrl('gateway'));
    const overloadStart = performance.now();
    const overload = summarise(await openLoop(pool, paths, overloadRate, OVERLOAD_SECONDS), OVERLOAD_SECONDS, overloadRate);
    const overloadCpu = cpuDuringOverload();
    const lowStart = performance.now();
    const low = summarise(await openLoop(pool, paths, lowRate, LOW_SECONDS), LOW_SECONDS, lowRate);
    const limitSamples = await stopSampling();
    const inFlightLimit = { overload: limitsBetween(limitSamples, overloadStart, lowStart), low: limitsBetween(limitSamples, lowStart, performance.now()) };
    await pool.close();
    const firstGood = low.perSecond.find((s) => s.shed === 0 && s.accepted > 0 && s.p95 < SLO_P95_MS);
    const recoverySeconds = firstGood ? firstGood.second + 1 : null;

    const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const date = new Date().toISOString().slice(0, 10);
    const command = `make bench-overload (BENCH_CAPACITY_CONNECTIONS=${CAPACITY_CONNECTIONS}, BENCH_OVERLOAD_FACTOR=${OVERLOAD_FACTOR}, BENCH_OVERLOAD_SECONDS=${OVERLOAD_SECONDS}, BENCH_LOW_FACTOR=${LOW_FACTOR}, BENCH_LOW_SECONDS=${LOW_SECONDS}, BENCH_PUBLIC_CACHE_SECONDS=${PUBLIC_CACHE_SECONDS}${MAX_IN_FLIGHT !== undefined ? `, BENCH_MAX_IN_FLIGHT=${MAX_IN_FLIGHT}` : ''})`;
    const result = { date, commit, machine, runtime: runtime.summary, command, sloP95Ms: SLO_P95_MS, maxInFlight: MAX_IN_FLIGHT ?? 'gateway default', publicCacheSeconds: Number(PUBLIC_CACHE_SECONDS), readMix: paths.length, capacity: capacityRun, overload, overloadCpuCores: overloadCpu, inFlightLimit, low, recoverySeconds };

    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    const row = (name: string, r: ReturnType<typeof summarise>) =>
      `| ${name} | ${r.offeredPerSecond} | ${r.acceptedPerSecond} | ${pct(r.shedShare)} (${r.shedWithRetryAfter}/${r.shed} with Retry-After) | ${r.acceptedMs.p50} ms | ${r.acceptedMs.p95} ms | ${r.acceptedMs.p99} ms | ${r.otherErrors}${r.otherErrors ? ` (${Object.entries(r.otherByKind).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''} |`;
    const report = [
      `# Overload benchmark ${date} (commit ${commit})`,
      '',
      `Machine: ${machine}; all six services, PostgreSQL, Redis, Kafka and the load generator on this one machine.`,
      `Services' runtime: ${runtime.summary}.`,
      `Command: \`${command}\`. Gateway in-flight bound: ${result.maxInFlight}. The plan's SLO: API p95 < ${PLAN_SLO_P95_MS} ms; the gateway's read objective: p95 < ${SLO_P95_MS} ms (recovery is counted against it).`,
      '',
      `Capacity of the read mix (${paths.length} URLs: searches, profiles, slots), closed loop, ${CAPACITY_CONNECTIONS} connections, ${CAPACITY_SECONDS} s: **${capacity} req/s** (2xx only; p50 ${closed.latency.p50} ms, p97.5 ${closed.latency.p97_5} ms, p99 ${closed.latency.p99} ms, non-2xx ${closed.non2xx}).`,
      '',
      '| phase (open loop) | offered req/s | accepted req/s | shed (503 OVERLOADED) | accepted p50 | p95 | p99 | other errors |',
      '|---|---|---|---|---|---|---|---|',
      row(`${OVERLOAD_FACTOR}x capacity, ${OVERLOAD_SECONDS} s`, overload),
      row(`${LOW_FACTOR}x capacity, ${LOW_SECONDS} s (after the drop)`, low),
      '',
      `Accepted p95 by kind of read: overload ${Object.entries(overload.acceptedP95ByKind).map(([k, v]) => `${k} ${v} ms`).join(', ')}; after the drop ${Object.entries(low.acceptedP95ByKind).map(([k, v]) => `${k} ${v} ms`).join(', ')}.`,
      '',
      `Generator send lag (scheduled → sent) p50 / p95: overload ${overload.generatorSendLagMs.p50} / ${overload.generatorSendLagMs.p95} ms, after the drop ${low.generatorSendLagMs.p50} / ${low.generatorSendLagMs.p95} ms (counted in the latencies; large values mean the generator fell behind).`,
      '',
      `Gateway's adaptive in-flight bound (sampled every 250 ms), min / median / max: during the overload ${inFlightLimit.overload.min} / ${inFlightLimit.overload.median} / ${inFlightLimit.overload.max}, after the drop ${inFlightLimit.low.min} / ${inFlightLimit.low.median} / ${inFlightLimit.low.max}; median per second after the drop: ${inFlightLimit.low.perSecond.join(' ')}. The generator's ${CONNECTIONS} keep-alive connections are opened before the phases (as an ingress keeps them).`,
      '',
      `CPU during the overload (cores; the machine has ${os.cpus().length}): ${Object.entries(overloadCpu).map(([name, cores]) => `${name} ${cores}`).join(', ')}.`,
      '',
      `Recovery: ${recoverySeconds === null ? 'not within the low phase' : `${recoverySeconds} s`} after the drop (end of the first whole second with p95 < ${SLO_P95_MS} ms and nothing shed).`,
      '',
      'Per second after the drop (sent, accepted, shed, p95 ms): ' + low.perSecond.map((s) => `${s.second}:${s.sent}/${s.accepted}/${s.shed}/${s.p95}`).join(' '),
      '',
      'Per second of the overload (sent, accepted, shed, p95 ms): ' + overload.perSecond.map((s) => `${s.second}:${s.sent}/${s.accepted}/${s.shed}/${s.p95}`).join(' '),
      '',
    ].join('\n');
    const dir = path.join(__dirname, 'results');
    writeFileSync(path.join(dir, `overload-${date}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(dir, `overload-${date}.md`), report);
    process.stdout.write(`${report}\nwritten to bench/results/overload-${date}.{json,md}\n`);
  } finally {
    await platform.stop();
    runtime.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
