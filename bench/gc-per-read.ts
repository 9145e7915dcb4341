// What the gateway allocates per request, counted rather than timed: its minor garbage collections
// (nodejs_gc_duration_seconds_count{kind="minor"}) over a fixed number of micro-cached reads. On a
// host whose speed drifts by tens of per cent from one run to the next (bench/results/*-2026-12-03-*),
// CPU time per request cannot tell two settings apart in a few runs; the number of young-generation
// collections per 1 000 reads can, as it follows the bytes allocated. The services run with the
// runtime of bench/load/service-runtime.ts (the chart's production settings unless
// BENCH_RUNTIME=quiet; BENCH_OTEL_DISABLED_INSTRUMENTATIONS, BENCH_LOG_LEVEL, ... change one).
// BENCH_GC_READ=slots reads slot listings instead (the gateway, then appointment's Redis-cached
// listing over gRPC) and counts appointment's collections too: what a backend's runtime costs a call.
// Run: `make bench-gc-per-read` (BENCH_READS, default 30 000, after 5 000 to warm up).
import os from 'node:os';
import { Pool } from 'undici';
import { seedDemoDirectory, startPlatform } from '@cryptocare/testing';
import { platformEnv, serviceRuntime } from './load/service-runtime';
import { coldRedisDatabase } from './load/cold-cache';

const reads = Number(process.env.BENCH_READS ?? 30_000);
const inFlight = 16;
const slots = process.env.BENCH_GC_READ === 'slots';
/** The week from tomorrow, fixed for the run, as the web client asks for it. */
const week = (() => {
  const from = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
  return `from=${from.toISOString()}&to=${new Date(from.getTime() + 7 * 86_400_000).toISOString()}`;
})();

async function minorGcs(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const match = /^nodejs_gc_duration_seconds_count\{kind="minor"\} (\d+)/m.exec(text);
  if (!match) throw new Error(`no minor GC count at ${metricsUrl}`);
  return Number(match[1]);
}

async function main() {
  const runtime = await serviceRuntime();
  const platform = await startPlatform({ bundles: runtime.bundles, redisDatabase: await coldRedisDatabase(), logLevel: 'error', extraEnv: platformEnv(runtime, { gateway: { RATE_LIMIT_PER_MINUTE: '100000000', PUBLIC_CACHE_SECONDS: '5' } }) });
  try {
    const ids = await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    const pool = new Pool(platform.gatewayUrl, { connections: inFlight });
    // Profile reads of the demo directory: after the first of each, answered by the micro-cache.
    // Slot listings: after the first of each, answered from appointment's cache.
    const read = async (n: number) => {
      let sent = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (sent < n) {
            sent += 1;
            const id = ids[sent % ids.length];
            const answer = await pool.request({ method: 'GET', path: slots ? `/v1/professionals/${id}/slots?${week}` : `/v1/professionals/${id}` });
            await answer.body.text();
            if (answer.statusCode !== 200) throw new Error(`read answered ${answer.statusCode}`);
          }
        }),
      );
    };
    const counted = slots ? (['gateway', 'appointment'] as const) : (['gateway'] as const);
    const gcCounts = () => Promise.all(counted.map((service) => minorGcs(platform.metricsUrl(service))));
    await read(5_000);
    const before = await gcCounts();
    const started = Date.now();
    await read(reads);
    const after = await gcCounts();
    await pool.close();
    const perService = counted.map((service, i) => {
      const gcs = after[i]! - before[i]!;
      return `${service} made ${gcs} minor GCs, ${((gcs / reads) * 1000).toFixed(2)} per 1 000 reads`;
    });
    process.stdout.write(
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; services' runtime: ${runtime.summary}.\n` +
        `${reads} ${slots ? 'cached slot listings' : 'micro-cached reads'} (${inFlight} in flight) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${perService.join('; ')}.\n`,
    );
  } finally {
    await platform.stop();
    runtime.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
