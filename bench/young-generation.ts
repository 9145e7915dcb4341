// What the read path's services keep of what they allocate: each process runs with V8's
// `--trace-gc --trace-gc-nvp`, the public read mix (varied searches, profiles, slot listings) is
// saturated at 8 in flight on the 50 000 directory, and each scavenge's pause, survivors and
// promotions over the measured 30 s are summed per service (bench/load/scavenges.ts). Why: in the
// 2 000-user load the gateway's scavenges were its longest pauses (about 150 in a 2-minute hold, most
// over 10 ms, before libs/platform/src/grpc-js-fixes.ts), and their length follows what survives them,
// not what is allocated.
// Same stack as `make bench-load` (chart runtime, bundles); BENCH_NODE_ARGS adds V8 flags to try.
// Run: `make bench-young-generation`.
import os from 'node:os';
import { infraUrls, seedDemoDirectory, startPlatform, type ServiceName } from '@cryptocare/testing';
import { seedDirectory } from '../scripts/seed';
import { GatewayClient } from './load/gateway-client';
import { readMix, searchQuery } from './load/patient-journey';
import { measureCpu, pidsOf } from './load/process-cpu';
import { PhaseStats } from './load/route-stats';
import { saturate } from './load/virtual-users';
import { sampleDirectory } from './load/directory-sample';
import { nodeArgsOf, platformEnv, serviceRuntime } from './load/service-runtime';
import { coldRedisDatabase } from './load/cold-cache';
import { collectionsIn, describeCollections } from './load/scavenges';

const measuredSeconds = 30;
const inFlight = 8;
const services: ServiceName[] = ['gateway', 'search', 'appointment'];

async function main() {
  const runtime = await serviceRuntime();
  const nodeArgs = ['--trace-gc', '--trace-gc-nvp', ...nodeArgsOf()];
  const platform = await startPlatform({
    bundles: runtime.bundles,
    redisDatabase: await coldRedisDatabase(),
    logLevel: 'error',
    nodeArgs,
    extraEnv: platformEnv(runtime, { gateway: { RATE_LIMIT_PER_MINUTE: '100000000', PUBLIC_CACHE_SECONDS: '5' } }),
  });
  try {
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    await seedDirectory({ databaseUrl: infraUrls().databaseUrl, professionals: 50_000, schemas: { search: platform.schemas.search, appointment: platform.schemas.appointment } });
    const directory = await sampleDirectory(platform.gatewayUrl);
    const phase = new PhaseStats();
    const gateway = new GatewayClient(platform.gatewayUrls, inFlight * 2, () => phase);
    const read = readMix(gateway, directory, () => searchQuery(directory));
    await saturate(20, inFlight, read); // caches and JIT warm, the young generation at its working size
    const before = Object.fromEntries(services.map((s) => [s, platform.output(s).length]));
    const cpu = measureCpu(pidsOf(platform));
    const result = await saturate(measuredSeconds, inFlight, read);
    const cores = cpu();
    const lines = [
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; services' runtime: ${runtime.summary}; V8 flags: ${nodeArgs.join(' ')}.`,
      `Read mix (search with varied filters, profile, slots) at ${inFlight} in flight for ${measuredSeconds} s: ${result.perSecond} answers/s, ${result.failed} failed; CPU (cores): ${services.map((s) => `${s} ${cores[s]}`).join(', ')}.`,
      ...services.map((s) => `${s}: ${describeCollections(collectionsIn(platform.output(s).slice(before[s])))}.`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await gateway.close();
  } finally {
    await platform.stop();
    runtime.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
