// The plan's load tests (seed plan §6.2) on the real stack: every service its own process against the
// local PostgreSQL, Redis and Kafka, providers simulated, the load generator on the same machine.
//   baselines   bare fastify and bare grpc-js (a process of their own) vs cached search through the
//               gateway, each saturated, so the gateway's cost is a ratio;
//   load        2 000 patients (2x the planned 1 000 active users), closed loop with think time;
//   peak        5x the planned capacity (5 000 patients), bounded in time;
//   endurance   80 % of capacity (800 patients), bounded in time (the plan's 24 h is a staging run);
//   bookings    2 000 patients again, four times as many of them booking (booking stress: what the
//               booking path costs, beyond the plan's volume);
//   scale-out   the read mix saturated with 1 and then 2 processes of gateway, search and appointment.
// A patient's visit (bench/load/patient-journey.ts): search with varied filters, a profile, its slots,
// sometimes their bookings, sometimes a booking paid at once (booking + QR, payment → confirmed,
// confirmed → meeting link, from the booking's event stream).
// Run: `make bench-load` (variables below); writes bench/results/load-<date>.md and .json.
import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { search } from '@cryptocare/contracts';
import { createGrpcClient } from '@cryptocare/platform';
import { ApiClient, infraUrls, seedDemoDirectory, startPlatform, type RunningPlatform, type ServiceName } from '@cryptocare/testing';
import { seedDirectory } from '../scripts/seed';
import { AccountPool } from './load/accounts';
import { GatewayClient } from './load/gateway-client';
import { sampleDirectory } from './load/directory-sample';
import { patientVisit, readMix, routes, type DirectorySample, type JourneyContext } from './load/patient-journey';
import { cacheLookupsBetween, cacheLookupsIn, describeCacheLookups, type CacheLookups } from './load/cache-hits';
import { gcPausesBetween, gcPausesIn, type GcPauses } from './load/gc-pauses';
import { describeIndexReads, indexReadsBetween, indexReadsIn } from './load/index-reads';
import { measureCpu, pidsOf } from './load/process-cpu';
import { PhaseStats } from './load/route-stats';
import { nodeArgsOf, platformEnv, serviceRuntime, startHelper, type ServiceRuntime } from './load/service-runtime';
import { type Second, Timeline } from './load/timeline';
import { runPhase, saturate, type PhasePlan } from './load/virtual-users';
import { BENCH_REDIS_DATABASE, coldRedisDatabase } from './load/cold-cache';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const settings = {
  users: env('BENCH_USERS', 2000),
  peakUsers: env('BENCH_PEAK_USERS', 5000),
  enduranceUsers: env('BENCH_ENDURANCE_USERS', 800),
  rampSeconds: env('BENCH_RAMP_SECONDS', 20),
  /**
   * The first part's users keep this load this long after the ramp before its hold is measured.
   * Why: a bench platform starts with empty caches, which production's never are (Redis outlives
   * deploys; slot inputs and profiles stay 15 minutes): a cold 2-minute hold read slot inputs from
   * PostgreSQL for 46 % of its listings and took 1.45 cores where the same traffic on the caches a
   * previous run had filled took 1.26 (bench/results/load-2026-12-03-cold-*.md, -cache-hits-*.md).
   * 0: measure from cold. The parts after the first run on the caches it filled.
   */
  warmSeconds: env('BENCH_WARM_SECONDS', 180),
  loadSeconds: env('BENCH_LOAD_SECONDS', 120),
  peakSeconds: env('BENCH_PEAK_SECONDS', 60),
  enduranceSeconds: env('BENCH_ENDURANCE_SECONDS', 180),
  saturateSeconds: env('BENCH_SATURATE_SECONDS', 10),
  thinkMs: env('BENCH_THINK_MS', 5000),
  /**
   * Share of visits that end in a booking paid at once. The plan (seed §1.1) counts 4 000
   * consultations a month at its capacity of 1 000 active users, so 8 000 at the 2 000 users of the
   * load test: about 36 an hour over 22 days of 10 hours. 0.0125 makes about one booking a second at
   * 2 000 users, some 100 times that, so the booking path is under real load and its latencies
   * have a sample (a p95 of 170–180 bookings in the 2-minute hold, bench/results/load-2026-12-02.md).
   */
  bookingShare: env('BENCH_BOOKING_SHARE', 0.0125),
  /** The booking stress part's share: 4 bookings a second at 2 000 users (the mix measured until 2026-12-02). */
  stressBookingShare: env('BENCH_STRESS_BOOKING_SHARE', 0.05),
  stressSeconds: env('BENCH_STRESS_SECONDS', 60),
  accounts: env('BENCH_ACCOUNTS', 200),
  /** Professionals of the seeded directory (scripts/seed.ts) beside the demo ones; 0: demo only. */
  directory: env('BENCH_DIRECTORY', 50_000),
  connections: env('BENCH_CONNECTIONS', 128),
  /**
   * Processes of the gateway, search and appointment for the load parts (the scale-out part runs 1
   * then 2 whatever this says). The chart runs three of each at least in production (each its own
   * node); one is the harshest case: every read waits behind one event loop.
   */
  replicas: env('BENCH_REPLICAS', 1),
};
/** The parts to run (BENCH_PARTS, comma-separated; all by default): a quick look at one phase while tuning. */
const parts = new Set((process.env.BENCH_PARTS ?? 'baselines,load,peak,endurance,bookings,scale-out').split(','));
const services: ServiceName[] = ['gateway', 'identity', 'search', 'appointment', 'payment', 'video'];
const admin = { email: 'admin@cryptocare.test', password: 'admin-password-1' };

/**
 * BENCH_NICE=payment,video,identity:10 — those services' processes (every thread) at that nice level
 * once started: the booking cascade's background work (events, webhooks, meetings) then yields the
 * CPU to the read path when the machine is busy, as CPU weights could on a shared node. An experiment
 * (bench/results/load-2026-12-03-*.md), not the chart's setting.
 */
function deprioritise(platform: RunningPlatform): string {
  const [names, level] = (process.env.BENCH_NICE ?? '').split(':');
  if (!names) return '';
  const priority = Number(level ?? 10);
  for (const service of names.split(',') as ServiceName[]) {
    for (const pid of platform.pids(service)) for (const thread of readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(thread), priority);
  }
  return `${names} at nice ${priority}`;
}

/**
 * What the services' metrics say so far, from one scrape of each (first replica): the gateway's
 * refusals by reason (http_server_shed_requests_total), every service's GC pauses and its caches' lookups.
 */
async function metricsSoFar(platform: RunningPlatform): Promise<{ shed: Record<string, number>; gc: Record<string, GcPauses>; caches: Array<Record<string, CacheLookups>> }> {
  const texts = await Promise.all(services.map(async (s) => (await fetch(platform.metricsUrl(s, 0))).text()));
  const shed: Record<string, number> = {};
  for (const [, reason, n] of texts[services.indexOf('gateway')]!.matchAll(/^http_server_shed_requests_total\{reason="([^"]+)"\} (\d+)/gm)) shed[reason!] = Number(n);
  return { shed, gc: Object.fromEntries(services.map((s, i) => [s, gcPausesIn(texts[i]!)])), caches: texts.map(cacheLookupsIn) };
}

/** What BENCH_NICE did, for the report ('' when nothing). */
let niced = '';

/** The services' runtime (bench/load/service-runtime.ts), chosen once for the whole run. */
let runtime: ServiceRuntime | undefined;

async function startStack(replicas: number) {
  const scaled = { gateway: replicas, search: replicas, appointment: replicas };
  runtime ??= await serviceRuntime();
  // Rate limits are per client address and every virtual user here is 127.0.0.1; the public
  // micro-cache at its production setting (test platforms turn it off).
  // BENCH_PUBLIC_CACHE_SECONDS: the micro-cache's lifetime tried (0: off), the gateway's default otherwise.
  const gateway = { RATE_LIMIT_PER_MINUTE: '100000000', PUBLIC_CACHE_SECONDS: process.env.BENCH_PUBLIC_CACHE_SECONDS ?? '5', ...(process.env.BENCH_MAX_IN_FLIGHT ? { MAX_IN_FLIGHT: process.env.BENCH_MAX_IN_FLIGHT } : {}) };
  const platform = await startPlatform({ bundles: runtime.bundles, redisDatabase: await coldRedisDatabase(), nodeArgs: nodeArgsOf(), logLevel: 'error', replicas: scaled, extraEnv: platformEnv(runtime, { gateway }) });
  niced = deprioritise(platform);
  await seedDemoDirectory(platform.gatewayUrl, admin);
  if (settings.directory > 0) {
    const seeded = await seedDirectory({ databaseUrl: infraUrls().databaseUrl, professionals: settings.directory, schemas: { search: platform.schemas.search, appointment: platform.schemas.appointment } });
    process.stderr.write(`bench: seeded ${seeded.professionals} professionals and ${seeded.bookings} bookings in ${Math.round(seeded.seconds)} s\n`);
  }
  return platform;
}

/** The scale-out's searches: one specialty in one country, the sample's in turn. */
const specialtyInCountry = (directory: DirectorySample) => (i: number) =>
  `specialty=${encodeURIComponent(directory.specialties[i % directory.specialties.length]!)}&country=${directory.countries[i % directory.countries.length]}`;

async function baselines(platform: RunningPlatform, seconds: number) {
  const query = '/v1/professionals?specialty=general-practice&country=CH';
  const answer = await new ApiClient(platform.gatewayUrl).expect(200, 'GET', query);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'answer.json');
  writeFileSync(file, JSON.stringify(answer));
  const bare = await startHelper('bare-servers.ts', file);
  const [httpPort, grpcPort] = bare.ports;
  const concurrency = 64;
  try {
    const phase = new PhaseStats();
    const bareHttp = new GatewayClient([`http://127.0.0.1:${httpPort}`], concurrency, () => phase);
    const gateway = new GatewayClient(platform.gatewayUrls, concurrency, () => phase);
    const grpcClient = createGrpcClient(search, 'SearchService', `127.0.0.1:${grpcPort}`, { deadlineMs: 5_000 });
    const fastify = await saturate(seconds, concurrency, async () => (await bareHttp.call('bare fastify', 'GET', '/search')).status === 200);
    const grpc = await saturate(seconds, concurrency, () =>
      grpcClient.searchProfessionals({}).then(
        () => true,
        () => false,
      ),
    );
    const cachedSearch = await saturate(seconds, concurrency, async () => (await gateway.call('gateway cached search', 'GET', query)).status === 200);
    grpcClient.close();
    await Promise.all([bareHttp.close(), gateway.close()]);
    return { concurrency, fastify, grpc, cachedSearch, ratioToGrpc: Math.round((cachedSearch.perSecond / grpc.perSecond) * 100) / 100 };
  } finally {
    bare.stop();
  }
}

async function loadPhases(platform: RunningPlatform, directory: DirectorySample, accounts: AccountPool) {
  let phase = new PhaseStats();
  const gateway = new GatewayClient(platform.gatewayUrls, settings.connections, () => phase);
  const streams = new Pool(platform.gatewayUrl, { connections: 1024 });
  const share = (n: number) => `${Math.round(n * 1000) / 10} % of visits book`;
  const plans: Array<PhasePlan & { bookingShare: number }> = [
    { name: `load: ${settings.users} patients (2x capacity), ${share(settings.bookingShare)}`, users: settings.users, rampSeconds: settings.rampSeconds, holdSeconds: settings.loadSeconds, bookingShare: settings.bookingShare },
    { name: `peak: ${settings.peakUsers} patients (5x capacity), ${share(settings.bookingShare)}`, users: settings.peakUsers, rampSeconds: settings.rampSeconds, holdSeconds: settings.peakSeconds, bookingShare: settings.bookingShare },
    { name: `endurance: ${settings.enduranceUsers} patients (80 % of capacity), ${share(settings.bookingShare)}`, users: settings.enduranceUsers, rampSeconds: settings.rampSeconds, holdSeconds: settings.enduranceSeconds, bookingShare: settings.bookingShare },
    { name: `bookings: ${settings.users} patients (2x capacity), ${share(settings.stressBookingShare)} (booking stress)`, users: settings.users, rampSeconds: settings.rampSeconds, holdSeconds: settings.stressSeconds, bookingShare: settings.stressBookingShare },
  ];
  // Warm-up, not measured: a few whole visits that book and pay, so the first bookings' cold paths
  // (JIT, first statements, the generator's own first fetch) do not land in the first hold. Visits
  // reach their booking 15-20 s in, at the ramp's end: a 20 s ramp without this put a 300 ms stall
  // in the hold's first second and its refusals (bench/results/load-2026-12-03-*.md).
  await Promise.all(
    Array.from({ length: 8 }, () =>
      patientVisit({ gateway, streams, accounts, directory, phase: () => phase, bookingShare: 1, thinkMs: 100, running: () => true }),
    ),
  );
  phase = new PhaseStats();
  const results = [];
  // PostgreSQL's index counters, read at the hold's start and end (one connection of the bench's own).
  const statsDb = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 1 });
  const indexReads = () => indexReadsIn(statsDb, platform.schemas);
  const chosen = plans.filter((p) => parts.has(p.name.split(':')[0]!)).map((p, i) => ({ ...p, firstPauseMs: settings.thinkMs, warmSeconds: i === 0 ? settings.warmSeconds : 0 }));
  for (const plan of chosen) {
    process.stderr.write(`bench: ${plan.name}, ${plan.rampSeconds} s ramp + ${plan.warmSeconds} s warm-up + ${plan.holdSeconds} s\n`);
    // Read before the ramp, not at the hold's start, where the generator's own work showed as a
    // burst (with pgrep there, all of a run's refusals fell in the hold's first second). So the
    // reasons cover the ramp, the warm-up and the hold; the hold's own refusals are the 503s the patients got.
    const before = await metricsSoFar(platform);
    // From the ramp's start to the hold's end (the cold start shows too).
    // The processes looked up once, before the ramp (pgrep blocks the generator's event loop).
    const groups = pidsOf(platform);
    const timeline = new Timeline(groups, plan.rampSeconds + plan.warmSeconds);
    // GC, caches and traces over the hold alone: scraped as it starts (six small HTTP reads, no pgrep).
    let atHold: Promise<[Awaited<ReturnType<typeof metricsSoFar>>, Awaited<ReturnType<ServiceRuntime['tracesSoFar']>>, Awaited<ReturnType<typeof indexReads>>]> | undefined;
    const { stats, measured: cpuFigures } = await runPhase(
      plan,
      (next) => {
        next.timeline = timeline;
        phase = next;
      },
      (running) => {
        const ctx: JourneyContext = { gateway, streams, accounts, directory, phase: () => phase, bookingShare: plan.bookingShare, thinkMs: settings.thinkMs, running };
        return patientVisit(ctx);
      },
      () => {
        const cpu = measureCpu(groups);
        atHold = Promise.all([metricsSoFar(platform), runtime!.tracesSoFar(), indexReads()]);
        // Both end with the hold (the visits then finish their last call).
        return () => {
          timeline.stop();
          return cpu();
        };
      },
    );
    const after = await metricsSoFar(platform);
    const [holdStart, tracesBefore, indexesBefore] = (await atHold)!;
    const indexes = indexReadsBetween(indexesBefore, await indexReads());
    const gc = gcPausesBetween(holdStart.gc, after.gc);
    const caches = cacheLookupsBetween(holdStart.caches, after.caches);
    const tracesAfter = await runtime!.tracesSoFar();
    const traces = tracesBefore && tracesAfter ? { exports: tracesAfter.exports - tracesBefore.exports, megabytes: Math.round((tracesAfter.bytes - tracesBefore.bytes) / 1e5) / 10 } : undefined;
    const shed = Object.fromEntries(Object.entries(after.shed).map(([reason, n]) => [reason, n - (before.shed[reason] ?? 0)]));
    // Offered: what the users would ask if every answer were instant (one action per pause).
    const offered = Math.round(plan.users / (settings.thinkMs / 1000));
    const achieved = Math.round([...stats.routes.values()].reduce((n, r) => n + r.count + r.failures, 0) / stats.seconds);
    const booked = stats.routes.get(routes.book)?.statuses.get(201) ?? 0;
    results.push({ ...plan, offeredPerSecond: offered, achievedPerSecond: achieved, bookingsPerSecond: Math.round((booked / stats.seconds) * 100) / 100, routes: Object.fromEntries([...stats.routes].map(([label, r]) => [label, { ...r.summary(), errors: r.errors(label === routes.book ? [409] : []) }])), cpu: cpuFigures, shed, gc, caches, indexes, traces, seconds: timeline.hold, rampTimeline: timeline.ramp, worstSeconds: timeline.worst(8) });
  }
  await gateway.close();
  await streams.close();
  await statsDb.end();
  return results;
}

async function scaleOut(replicas: number) {
  const platform = await startStack(replicas);
  try {
    const directory = await sampleDirectory(platform.gatewayUrl);
    let phase = new PhaseStats();
    const gateway = new GatewayClient(platform.gatewayUrls, settings.connections, () => phase);
    const mix = readMix(gateway, directory, specialtyInCountry(directory));
    await saturate(3, 64, mix); // warm caches and connections
    const measured = new PhaseStats();
    phase = measured;
    const result = await saturate(settings.saturateSeconds, 128, mix);
    await gateway.close();
    const statuses: Record<string, number> = {};
    for (const r of measured.routes.values()) {
      for (const [status, n] of r.statuses) statuses[status] = (statuses[status] ?? 0) + n;
      if (r.failures) statuses['no answer'] = (statuses['no answer'] ?? 0) + r.failures;
    }
    return { replicas, ...result, statuses };
  } finally {
    await platform.stop();
  }
}

function report(results: Awaited<ReturnType<typeof loadPhases>>, base: Awaited<ReturnType<typeof baselines>> | undefined, scale: Array<Awaited<ReturnType<typeof scaleOut>>>) {
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `# Load benchmark ${new Date().toISOString().slice(0, 10)} (commit ${commit})`,
    '',
    `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; all six services, PostgreSQL, Redis, Kafka and the load generator on this one machine.`,
    `Command: \`make bench-load\` with ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ')}.`,
    `Services' runtime: ${runtime!.summary}.`,
    `Caches: cold at each platform's start (Redis database ${BENCH_REDIS_DATABASE}, emptied before it; bench/load/cold-cache.ts).`,
    ...(process.env.BENCH_NODE_OPTIONS ? [`Services' Node options: ${process.env.BENCH_NODE_OPTIONS} (BENCH_NODE_OPTIONS).`] : []),
    ...(process.env.BENCH_PUBLIC_CACHE_SECONDS ? [`Gateway micro-cache: ${process.env.BENCH_PUBLIC_CACHE_SECONDS} s (BENCH_PUBLIC_CACHE_SECONDS; the default 5).`] : []),
    ...(nodeArgsOf().length > 0 ? [`Services' command-line flags: ${nodeArgsOf().join(' ')} (BENCH_NODE_ARGS).`] : []),
    ...(niced ? [`Priorities: ${niced} (BENCH_NICE), every other process at 0.`] : []),
    `Closed loop: each virtual patient pauses ${settings.thinkMs / 2000}–${(settings.thinkMs * 1.5) / 1000} s between actions, the first after a random pause up to ${settings.thinkMs / 1000} s (as if arriving mid-visit); ${settings.accounts} patient accounts shared; ${settings.connections} keep-alive connections per gateway replica (as a load balancer pools them).`,
    '',
  ];
  if (base)
    lines.push(
      '## Baselines (saturated, 64 in flight)',
      '',
      '| what | answers/s | failed |',
      '|---|---|---|',
      `| bare fastify, same JSON answer | ${base.fastify.perSecond} | ${base.fastify.failed} |`,
      `| bare grpc-js unary, same answer | ${base.grpc.perSecond} | ${base.grpc.failed} |`,
      `| search through the gateway (cached) | ${base.cachedSearch.perSecond} | ${base.cachedSearch.failed} |`,
      `| gateway cached search / bare grpc-js | **${base.ratioToGrpc}x** | |`,
      '',
    );
  for (const r of results) {
    lines.push(`## ${r.name}`, '', `Hold ${r.holdSeconds} s after a ${r.rampSeconds} s ramp${r.warmSeconds ? ` and ${r.warmSeconds} s of the same load to warm the caches (not measured)` : ''}. Offered ${r.offeredPerSecond} req/s (if answers were instant), achieved ${r.achievedPerSecond} req/s; ${r.bookingsPerSecond} bookings made a second.`, '');
    lines.push('| route | count | p50 | p95 | p99 | max | errors | statuses |', '|---|---|---|---|---|---|---|---|');
    for (const [label, s] of Object.entries(r.routes)) lines.push(`| ${label} | ${s.count} | ${s.p50} ms | ${s.p95} ms | ${s.p99} ms | ${s.max} ms | ${s.errors} | ${Object.entries(s.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')}${s.failures ? `, no answer: ${s.failures}` : ''} |`);
    lines.push('', `CPU (cores) during the hold: ${Object.entries(r.cpu).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
    lines.push(`Refused by the gateway (503 OVERLOADED) during the hold: ${r.seconds.reduce((n, s) => n + s.refused, 0)}; by signal, from the ramp to the hold's end: ${Object.entries(r.shed).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.`, '');
    lines.push(`Garbage collection during the hold (pauses; seconds in them; pauses over 10 ms): ${Object.entries(r.gc).map(([s, g]) => `${s} ${g.count}; ${g.seconds} s (${Object.entries(g.secondsByKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')}); ${g.over10ms}`).join(', ')}.`, '');
    lines.push(`Cache hits during the hold (a miss is a backend call or a PostgreSQL statement): ${describeCacheLookups(r.caches)}.`, '');
    lines.push(`PostgreSQL's busiest indexes during the hold (pg_stat_user_indexes): ${describeIndexReads(r.indexes)}.`, '');
    if (r.traces) lines.push(`Traces exported during the hold: ${r.traces.exports} OTLP exports, ${r.traces.megabytes} MB.`, '');
    lines.push(...timelineLines(r.seconds, r.worstSeconds, r.rampTimeline, r.warmSeconds > 0));
  }
  if (scale.length > 0) lines.push('## Scale-out (read mix saturated, 128 in flight)', '', '| processes of gateway, search, appointment | answers/s | failed | statuses |', '|---|---|---|---|');
  for (const s of scale) lines.push(`| ${s.replicas} | ${s.perSecond} | ${s.failed} | ${Object.entries(s.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} |`);
  lines.push('');
  return lines.join('\n');
}

/** The hold second by second, in brief: how the slow answers spread, and the worst seconds (all of them in the .json). */
function timelineLines(seconds: Second[], worst: Second[], ramp: Second[], warmed: boolean): string[] {
  const slow = seconds.reduce((n, s) => n + s.slow, 0);
  const inWorst = worst.reduce((n, s) => n + s.slow, 0);
  const lags = seconds.map((s) => s.generatorLagMs).sort((a, b) => a - b);
  const busiest = (cpu: Record<string, number>) =>
    Object.entries(cpu).filter(([k]) => k !== 'machine (all)' && k !== 'stolen by the hypervisor').sort(([, a], [, b]) => b - a).slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `Second by second: ${seconds.filter((s) => s.slow > 0).length} of ${seconds.length} seconds had an answer over 50 ms; the ${worst.length} worst held ${inWorst} of the ${slow} (${Math.round((inWorst / Math.max(1, slow)) * 100)} %). The load generator's event loop was late by at most ${lags[Math.floor(lags.length / 2)] ?? 0} ms in the median second, ${lags[lags.length - 1] ?? 0} ms in the worst.`,
    `During the ramp${warmed ? ' and the warm-up' : ''} (not in the figures above): ${ramp.reduce((n, s) => n + s.refused, 0)} refused, ${ramp.reduce((n, s) => n + s.slow, 0)} answers over 50 ms of ${ramp.reduce((n, s) => n + s.answers, 0)}; its last five seconds: ${ramp.slice(-5).map((s) => `${s.answers} answers, ${s.slow} slow, ${s.refused} refused`).join('; ')}.`,
    '',
    '| second | answers | over 50 ms | refused | slowest | generator late | machine (cores) | stolen by the hypervisor | busiest (cores) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...worst.map((s) => `| ${s.at} | ${s.answers} | ${s.slow} | ${s.refused} | ${s.maxMs} ms | ${s.generatorLagMs} ms | ${s.cpu['machine (all)']} | ${s.cpu['stolen by the hypervisor']} | ${busiest(s.cpu)} |`),
    '',
  ];
}

async function main() {
  const run = Date.now().toString(36);
  const platform = await startStack(settings.replicas);
  let results;
  let base;
  try {
    const directory = await sampleDirectory(platform.gatewayUrl);
    const accounts = await AccountPool.create(platform.gatewayUrl, settings.accounts, run);
    base = parts.has('baselines') ? await baselines(platform, settings.saturateSeconds) : undefined;
    results = await loadPhases(platform, directory, accounts);
  } catch (err) {
    // The services' own words on what failed (their output is otherwise kept only in memory).
    for (const s of services) process.stderr.write(`----- ${s} -----\n${platform.output(s).slice(-4000)}\n`);
    throw err;
  } finally {
    await platform.stop();
  }
  const scale = parts.has('scale-out') ? [await scaleOut(1), await scaleOut(2)] : [];
  runtime?.stop();
  const text = report(results, base, scale);
  // BENCH_NAME names the run (e.g. production, quiet); a run never overwrites an earlier one's report.
  const name = process.env.BENCH_NAME ? `-${process.env.BENCH_NAME}` : process.env.BENCH_PARTS ? `-${[...parts].join('-')}` : '';
  const first = path.join(__dirname, 'results', `load-${new Date().toISOString().slice(0, 10)}${name}`);
  let stem = first;
  for (let n = 2; existsSync(`${stem}.md`); n++) stem = `${first}-${n}`;
  writeFileSync(`${stem}.md`, text);
  writeFileSync(`${stem}.json`, JSON.stringify({ settings, baselines: base, phases: results, scaleOut: scale }, null, 2));
  process.stdout.write(`${text}\nwritten to ${path.relative(process.cwd(), stem)}.md and .json\n`);
}

main().catch((err) => {
  runtime?.stop();
  console.error(err);
  process.exit(1);
});
