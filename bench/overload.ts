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
import http from 'node:http';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { seedDemoDirectory, startPlatform } from '@cryptocare/testing';

const SLO_P95_MS = 50;
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
}

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

/** Sends `rate` requests per second for `seconds`, on schedule whatever the answers (open loop). */
async function openLoop(base: URL, paths: string[], rate: number, seconds: number): Promise<Outcome[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const outcomes: Outcome[] = [];
  const pending: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  const send = (index: number) => {
    const scheduledAt = (index / rate) * 1000;
    const sendLagMs = performance.now() - started - scheduledAt;
    const url = paths[index % paths.length]!;
    pending.push(
      new Promise<void>((resolve) => {
        const done = (status: number, retryAfter: boolean, code?: string) => {
          outcomes.push({ scheduledAt, sendLagMs, latencyMs: performance.now() - started - scheduledAt, status, retryAfter, ...(code ? { code } : {}) });
          resolve();
        };
        const req = http.get({ host: base.hostname, port: base.port, path: url, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let code: string | undefined;
            if (res.statusCode !== 200) {
              try {
                code = JSON.parse(Buffer.concat(chunks).toString()).error?.code;
              } catch {
                code = undefined;
              }
            }
            done(res.statusCode ?? 0, res.headers['retry-after'] !== undefined, code);
          });
          res.on('error', () => done(0, false, 'RESPONSE_ERROR'));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (err) => done(0, false, err.message === 'timeout' ? 'TIMEOUT' : 'CONNECTION_ERROR'));
      }),
    );
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) send(sent++);
      if (sent >= total) return resolve();
      setImmediate(tick);
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  return outcomes;
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
  // The per-client rate limit would otherwise answer most of the load with 429 (one address).
  const platform = await startPlatform({ logLevel: 'error', extraEnv: { gateway: gatewayEnv } });
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
    const overload = summarise(await openLoop(base, paths, overloadRate, OVERLOAD_SECONDS), OVERLOAD_SECONDS, overloadRate);
    const low = summarise(await openLoop(base, paths, lowRate, LOW_SECONDS), LOW_SECONDS, lowRate);
    const firstGood = low.perSecond.find((s) => s.shed === 0 && s.accepted > 0 && s.p95 < SLO_P95_MS);
    const recoverySeconds = firstGood ? firstGood.second + 1 : null;

    const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const date = new Date().toISOString().slice(0, 10);
    const command = `make bench-overload (BENCH_CAPACITY_CONNECTIONS=${CAPACITY_CONNECTIONS}, BENCH_OVERLOAD_FACTOR=${OVERLOAD_FACTOR}, BENCH_OVERLOAD_SECONDS=${OVERLOAD_SECONDS}, BENCH_LOW_FACTOR=${LOW_FACTOR}, BENCH_LOW_SECONDS=${LOW_SECONDS}, BENCH_PUBLIC_CACHE_SECONDS=${PUBLIC_CACHE_SECONDS}${MAX_IN_FLIGHT !== undefined ? `, BENCH_MAX_IN_FLIGHT=${MAX_IN_FLIGHT}` : ''})`;
    const result = { date, commit, machine, command, sloP95Ms: SLO_P95_MS, maxInFlight: MAX_IN_FLIGHT ?? 'gateway default', publicCacheSeconds: Number(PUBLIC_CACHE_SECONDS), readMix: paths.length, capacity: capacityRun, overload, low, recoverySeconds };

    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    const row = (name: string, r: ReturnType<typeof summarise>) =>
      `| ${name} | ${r.offeredPerSecond} | ${r.acceptedPerSecond} | ${pct(r.shedShare)} (${r.shedWithRetryAfter}/${r.shed} with Retry-After) | ${r.acceptedMs.p50} ms | ${r.acceptedMs.p95} ms | ${r.acceptedMs.p99} ms | ${r.otherErrors}${r.otherErrors ? ` (${Object.entries(r.otherByKind).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''} |`;
    const report = [
      `# Overload benchmark ${date} (commit ${commit})`,
      '',
      `Machine: ${machine}; all six services, PostgreSQL, Redis, Kafka and the load generator on this one machine.`,
      `Command: \`${command}\`. Gateway in-flight bound: ${result.maxInFlight}. SLO: accepted requests p95 < ${SLO_P95_MS} ms.`,
      '',
      `Capacity of the read mix (${paths.length} URLs: searches, profiles, slots), closed loop, ${CAPACITY_CONNECTIONS} connections, ${CAPACITY_SECONDS} s: **${capacity} req/s** (2xx only; p50 ${closed.latency.p50} ms, p97.5 ${closed.latency.p97_5} ms, p99 ${closed.latency.p99} ms, non-2xx ${closed.non2xx}).`,
      '',
      '| phase (open loop) | offered req/s | accepted req/s | shed (503 OVERLOADED) | accepted p50 | p95 | p99 | other errors |',
      '|---|---|---|---|---|---|---|---|',
      row(`${OVERLOAD_FACTOR}x capacity, ${OVERLOAD_SECONDS} s`, overload),
      row(`${LOW_FACTOR}x capacity, ${LOW_SECONDS} s (after the drop)`, low),
      '',
      `Generator send lag (scheduled → sent) p50 / p95: overload ${overload.generatorSendLagMs.p50} / ${overload.generatorSendLagMs.p95} ms, after the drop ${low.generatorSendLagMs.p50} / ${low.generatorSendLagMs.p95} ms (counted in the latencies; large values mean the generator fell behind).`,
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
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
