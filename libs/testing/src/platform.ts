import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { applyMigrations } from '@cryptocare/platform';
import { createSwissBitcoinPaySimulator, createZoomSimulator } from '@cryptocare/simulators';
import { createKafkaTopics, eventually, infraUrls, uniqueName } from './infra';
import { repoRoot } from './services';

export const backendServices = ['identity', 'search', 'appointment', 'payment', 'video'] as const;
export type ServiceName = (typeof backendServices)[number] | 'gateway';

export const simulatorSecrets = {
  sbpApiKey: 'sbp-test-key',
  sbpApiSecret: 'sbp-test-secret',
  zoomAccountId: 'acc-test',
  zoomClientId: 'zoom-client',
  zoomClientSecret: 'zoom-secret',
};

/**
 * A free TCP port for a server a test starts. Taken below Linux's ephemeral range (32768-60999),
 * where outgoing connections take their local ports: a port the kernel hands out for `listen(0)`
 * may be given to some client socket before our server binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(candidate)) return candidate;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A PORT_OFFSET for scripts/dev.ts in tests that keeps every port it derives (8080…9105 and
 * 50051…50055 plus the offset) outside the ephemeral range: 11 000 to 14 900.
 */
export function embeddedPortOffset(): number {
  return 11_000 + Math.floor(Math.random() * 40) * 100;
}

/** The topics of scripts/infra/kafka/topics.txt (one source for local Kafka, tests and charts). */
export function kafkaTopics(): Array<{ topic: string; numPartitions: number }> {
  return readFileSync(path.join(repoRoot, 'scripts/infra/kafka/topics.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [topic, partitions] = l.split(/\s+/);
      return { topic: topic!, numPartitions: Number(partitions) };
    });
}

interface RunningProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/**
 * The whole platform as separate processes against the real PostgreSQL, Redis and Kafka, with the
 * provider simulators in this process. Each run gets its own schemas, Kafka topics (a namespace
 * prefix) and consumer groups, so runs never see each other's data.
 */
export async function startPlatform(options: { logLevel?: string; extraEnv?: Partial<Record<ServiceName, Record<string, string>>> } = {}) {
  const { databaseUrl, redisUrl, kafkaBrokers } = infraUrls();
  const run = uniqueName('e2e');
  const namespace = `${run}.`;

  await createKafkaTopics(kafkaBrokers, kafkaTopics().map((t) => ({ ...t, topic: namespace + t.topic })));

  const schemas = Object.fromEntries(backendServices.map((s) => [s, `${run}_${s}`])) as Record<(typeof backendServices)[number], string>;
  await Promise.all(backendServices.map((s) => applyMigrations({ serviceDir: path.join(repoRoot, 'services', s), databaseUrl, schema: schemas[s] })));

  const grpcPorts = Object.fromEntries(await Promise.all(backendServices.map(async (s) => [s, await freePort()]))) as Record<(typeof backendServices)[number], number>;
  const httpPorts = Object.fromEntries(await Promise.all([...backendServices, 'gateway'].map(async (s) => [s, await freePort()]))) as Record<ServiceName, number>;
  // The gateway's /readyz and /metrics live on an ops port of their own, apart from the API.
  const gatewayOpsPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${httpPorts.gateway}`;

  const sbp = createSwissBitcoinPaySimulator({ apiKey: simulatorSecrets.sbpApiKey, apiSecret: simulatorSecrets.sbpApiSecret });
  const zoom = createZoomSimulator({ accountId: simulatorSecrets.zoomAccountId, clientId: simulatorSecrets.zoomClientId, clientSecret: simulatorSecrets.zoomClientSecret });
  const sbpUrl = await sbp.listen();
  const zoomUrl = await zoom.listen();

  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: options.logLevel ?? 'warn',
    KAFKA_BROKERS: kafkaBrokers.join(','),
    KAFKA_NAMESPACE: namespace,
    REDIS_URL: redisUrl,
    IDENTITY_ADDR: `127.0.0.1:${grpcPorts.identity}`,
    SEARCH_ADDR: `127.0.0.1:${grpcPorts.search}`,
    APPOINTMENT_ADDR: `127.0.0.1:${grpcPorts.appointment}`,
    PAYMENT_ADDR: `127.0.0.1:${grpcPorts.payment}`,
    VIDEO_ADDR: `127.0.0.1:${grpcPorts.video}`,
  };
  // Every platform of the suite runs at once against one Redis and all their clients are
  // 127.0.0.1: the per-address limits (shared counters in Redis) are lifted so that one test's
  // traffic cannot starve another's. The limits themselves are tested in hardening.test.ts,
  // http-surface.test.ts and embedded-flow.test.ts; a test may set them back with extraEnv.
  const envOf = (service: ServiceName): Record<string, string> => {
    const own: Record<string, string> =
      service === 'gateway'
        ? { HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPorts.gateway), OPS_HOST: '127.0.0.1', OPS_PORT: String(gatewayOpsPort), AUTH_RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_MINUTE: '100000' }
        : { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schemas[service], GRPC_HOST: '127.0.0.1', GRPC_PORT: String(grpcPorts[service]), HTTP_PORT: String(httpPorts[service]) };
    const providers: Record<string, string> =
      service === 'payment'
        ? { SBP_API_URL: sbpUrl, SBP_API_KEY: simulatorSecrets.sbpApiKey, SBP_API_SECRET: simulatorSecrets.sbpApiSecret, PUBLIC_BASE_URL: gatewayUrl, RECONCILE_EVERY_MS: '2000' }
        : service === 'video'
          ? { ZOOM_API_URL: zoomUrl, ZOOM_OAUTH_URL: zoomUrl, ZOOM_ACCOUNT_ID: simulatorSecrets.zoomAccountId, ZOOM_CLIENT_ID: simulatorSecrets.zoomClientId, ZOOM_CLIENT_SECRET: simulatorSecrets.zoomClientSecret }
          : service === 'identity'
            ? { BOOTSTRAP_ADMIN_EMAIL: 'admin@cryptocare.test', BOOTSTRAP_ADMIN_PASSWORD: 'admin-password-1' }
            : {};
    return { ...common, ...own, ...providers, ...(options.extraEnv?.[service] ?? {}) };
  };

  const processes = new Map<ServiceName, RunningProcess>();
  const start = (service: ServiceName) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'services', service, 'src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, ...envOf(service) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    processes.set(service, { child, output, exited });
  };
  const ready = async (service: ServiceName) => {
    const url = service === 'gateway' ? `http://127.0.0.1:${gatewayOpsPort}/readyz` : `http://127.0.0.1:${httpPorts[service]}/readyz`;
    await eventually(async () => {
      const p = processes.get(service);
      if (p && p.child.exitCode !== null) throw new Error(`${service} exited:\n${p.output.join('').slice(-3000)}`);
      return (await fetch(url)).ok;
    }, 60_000, 200);
  };

  for (const s of backendServices) start(s);
  start('gateway');
  try {
    await Promise.all([...backendServices, 'gateway' as const].map(ready));
  } catch (err) {
    for (const p of processes.values()) p.child.kill('SIGKILL');
    throw err;
  }

  return {
    gatewayUrl,
    sbp,
    zoom,
    schemas,
    namespace,
    metricsUrl: (service: ServiceName) => `http://127.0.0.1:${service === 'gateway' ? gatewayOpsPort : httpPorts[service]}/metrics`,
    output: (service: ServiceName) => processes.get(service)?.output.join('') ?? '',
    /** Kills a service at once (no graceful shutdown), as a crash would. */
    async kill(service: ServiceName) {
      const p = processes.get(service)!;
      p.child.kill('SIGKILL');
      await p.exited;
    },
    async restart(service: ServiceName) {
      start(service);
      await ready(service);
    },
    async stop() {
      await Promise.all(
        [...processes.values()].map(async (p) => {
          if (p.child.exitCode === null) {
            p.child.kill('SIGTERM');
            const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
            await p.exited;
            clearTimeout(timer);
          }
        }),
      );
      await sbp.close();
      await zoom.close();
    },
  };
}

export type RunningPlatform = Awaited<ReturnType<typeof startPlatform>>;
