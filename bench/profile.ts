// Where the read path spends its CPU: the stack started as `make bench-load` starts it, with V8's
// sampling profiler in the gateway, search and appointment; each read route is saturated alone for a
// few seconds, then the processes stop (writing their profiles) and the heaviest functions by self
// time are printed per process. The services run with the chart's production settings (logs, tracing)
// unless BENCH_RUNTIME=quiet (bench/load/service-runtime.ts). BENCH_PROFILE=off saturates without
// the profiler, for answers per second and CPU per answer that the sampling does not weigh on.
// Run: `make bench-profile` (BENCH_DIRECTORY, BENCH_SATURATE_SECONDS).
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { infraUrls, seedDemoDirectory, startPlatform } from '@cryptocare/testing';
import { seedDirectory } from '../scripts/seed';
import { GatewayClient } from './load/gateway-client';
import { searchQuery } from './load/patient-journey';
import { measureCpu, pidsOf } from './load/process-cpu';
import { PhaseStats } from './load/route-stats';
import { saturate } from './load/virtual-users';
import { heaviestFunctions } from './profile/cpu-profile';
import { sampleDirectory } from './load/directory-sample';
import { platformEnv, serviceRuntime } from './load/service-runtime';
import { coldRedisDatabase } from './load/cold-cache';

const seconds = Number(process.env.BENCH_SATURATE_SECONDS ?? 10);
const professionals = Number(process.env.BENCH_DIRECTORY ?? 50_000);
const profiled = process.env.BENCH_PROFILE === 'off' ? [] : (['gateway', 'search', 'appointment'] as const);

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-profile-'));
  const runtime = await serviceRuntime();
  process.stdout.write(`Services' runtime: ${runtime.summary}.\n`);
  // The profiled processes' Node options: the runtime's (BENCH_NODE_OPTIONS) and the profiler's.
  const profiler = Object.fromEntries(
    profiled.map((s) => [s, { NODE_OPTIONS: `${runtime.envOf(s).NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${path.join(dir, s)}`.trim() }]),
  );
  const platform = await startPlatform({
    bundles: runtime.bundles,
    redisDatabase: await coldRedisDatabase(),
    logLevel: 'error',
    extraEnv: platformEnv(runtime, { ...profiler, gateway: { ...profiler.gateway, RATE_LIMIT_PER_MINUTE: '100000000', PUBLIC_CACHE_SECONDS: '5' } }),
  });
  try {
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    if (professionals > 0) await seedDirectory({ databaseUrl: infraUrls().databaseUrl, professionals, schemas: { search: platform.schemas.search, appointment: platform.schemas.appointment } });
    const directory = await sampleDirectory(platform.gatewayUrl);
    const phase = new PhaseStats();
    const gateway = new GatewayClient(platform.gatewayUrls, 32, () => phase);
    let i = 0;
    const id = () => directory.professionalIds[i++ % directory.professionalIds.length]!;
    const mixes: Record<string, () => Promise<boolean>> = {
      'search (varied filters)': async () => (await gateway.call('search', 'GET', `/v1/professionals?${searchQuery(directory)}`)).status === 200,
      profile: async () => (await gateway.call('profile', 'GET', `/v1/professionals/${id()}`)).status === 200,
      slots: async () => (await gateway.call('slots', 'GET', `/v1/professionals/${id()}/slots`)).status === 200,
    };
    for (const [name, call] of Object.entries(mixes)) {
      const cpu = measureCpu(pidsOf(platform));
      const result = await saturate(seconds, 32, call);
      process.stdout.write(`${name}: ${result.perSecond} answers/s, ${result.failed} failed (32 in flight, ${seconds} s); CPU (cores): ${JSON.stringify(cpu())}\n`);
    }
    for (const [label, r] of phase.routes) process.stdout.write(`  ${label}: ${JSON.stringify(r.summary())}\n`);
    await gateway.close();
  } finally {
    await platform.stop();
    runtime.stop();
  }
  for (const service of profiled) {
    const files = readdirSync(path.join(dir, service)).map((f) => path.join(dir, service, f));
    process.stdout.write(`\n${service}: heaviest functions by self time (${files.join(', ')})\n`);
    for (const f of heaviestFunctions(files, 25)) process.stdout.write(`  ${f.selfMs.toFixed(0).padStart(7)} ms ${f.share.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}\n`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
