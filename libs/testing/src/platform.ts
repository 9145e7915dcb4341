import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations } from '@cryptocare/platform';
import { createBtcpaySimulator, createJitsiSimulator, createMailCatcher, createSwissBitcoinPaySimulator, createZoomSimulator, type BtcpaySimulator } from '@cryptocare/simulators';
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
  jitsiAppId: 'cryptocare-test',
  jitsiAppSecret: 'jitsi-test-app-secret-of-32-chars',
  btcpayApiKey: 'btcpay-test-key',
  btcpayStoreId: 'TestStore1234567890abcdefghijkmnopqrstuvwxyz',
  btcpayWebhookSecret: 'btcpay-webhook-secret',
  /** The Zoom app's webhook Secret Token (video checks x-zm-signature with it). */
  zoomWebhookSecretToken: 'zoom-webhook-secret-token',
};

/**
 * A free TCP port for a server a test starts. Taken below Linux's ephemeral range (32768-60999),
 * where outgoing connections take their local ports: a port the kernel hands out for `listen(0)`
 * may be given to some client socket before our server binds it.
 */
export async function freePort(): Promise<number> {
  // Each jest worker draws from its own slice of the range, and never hands out a port twice: a
  // port is only free when checked, so two workers (or two platforms of one) drawing the same one
  // before either binds it would collide (EADDRINUSE, seen in CI).
  // Above 24 100: the embedded platform's ports (scripts/dev.ts's plus embeddedPortOffset(), up to
  // 24 055) stay apart from these; two schemes drawing from one range collided in CI (EADDRINUSE).
  const worker = Math.max(1, Number(process.env.JEST_WORKER_ID ?? 1));
  const slice = 2_000;
  const base = FREE_PORTS_FROM + ((worker - 1) % 4) * slice;
  if (handedOut.size > slice / 2) handedOut.clear(); // a long run: the oldest platforms are gone
  for (;;) {
    const candidate = base + Math.floor(Math.random() * slice);
    if (handedOut.has(candidate)) continue;
    if (await canListen(candidate)) {
      handedOut.add(candidate);
      return candidate;
    }
  }
}

const handedOut = new Set<number>();

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

/** Where freePort's ranges start: past the highest embedded port (9105 + 11 000 + 3 900 + 50). */
const FREE_PORTS_FROM = 24_100;

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
  /** Where its stdout and stderr go (see startReplica). */
  logFile: string;
  exited: Promise<number | null>;
}

/**
 * The whole platform as separate processes against the real PostgreSQL, Redis and Kafka, with the
 * provider simulators in this process. Each run gets its own schemas, Kafka topics (a namespace
 * prefix) and consumer groups, so runs never see each other's data.
 */
export interface PlatformOptions {
  logLevel?: string;
  extraEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Processes per service (default 1), as replicas would run: clients balance round-robin over them. */
  replicas?: Partial<Record<ServiceName, number>>;
  /** The data region the deployment serves (DATA_REGION of every service; the services' default, CH, without it). */
  region?: 'CH' | 'EU';
  /** The (first) gateway's port, when a test must know its URL before the start (another region's REGION_BASE_URLS). */
  gatewayPort?: number;
  /**
   * A Redis database (0-15) of the platform's own, as a region's deployment has a Redis of its own:
   * every key in it is this platform's. Without it the platforms share database 0.
   */
  redisDatabase?: number;
  /** PostgreSQL, Redis and Kafka to run on (default: the shared set of infraUrls()). */
  infra?: { databaseUrl: string; redisUrl: string; kafkaBrokers: string[] };
  /** What the services are given instead, e.g. the addresses of fault-injecting proxies. */
  serviceUrls?: { databaseUrl?: string; redisUrl?: string };
  /** Webhook retry delays of the Swiss Bitcoin Pay simulator (its default otherwise). */
  sbpWebhookRetryDelaysMs?: number[];
  /**
   * Also run the BTCPay simulator, configured in payment as the second provider (it takes new
   * invoices while Swiss Bitcoin Pay fails; its store webhook posts to the gateway). Off by default:
   * tests that stop Swiss Bitcoin Pay expect no invoice then.
   */
  btcpay?: boolean;
  /** Node and V8 flags before each service's entry point (those NODE_OPTIONS refuses, e.g. --single-threaded-gc). */
  nodeArgs?: string[];
  /**
   * Run each service as its container does, `node dist/main.js` in services/<name> (the esbuild
   * bundles of scripts/build-service.mjs, which the caller builds first), not its TypeScript through
   * tsx. Benchmarks use it: under tsx the gateway's live heap after a full collection was about
   * 215 MB against 110 MB from its bundle (tsx's module hooks, source maps), which every major GC walks.
   */
  bundles?: boolean;
}

export async function startPlatform(options: PlatformOptions = {}) {
  const infra = options.infra ?? infraUrls();
  const { kafkaBrokers } = infra;
  const databaseUrl = options.serviceUrls?.databaseUrl ?? infra.databaseUrl;
  const servicesRedis = options.serviceUrls?.redisUrl ?? infra.redisUrl;
  const redisUrl = options.redisDatabase === undefined ? servicesRedis : withDatabase(servicesRedis, options.redisDatabase);
  const run = uniqueName('e2e');
  const namespace = `${run}.`;

  await createKafkaTopics(kafkaBrokers, kafkaTopics().map((t) => ({ ...t, topic: namespace + t.topic })));

  const schemas = Object.fromEntries(backendServices.map((s) => [s, `${run}_${s}`])) as Record<(typeof backendServices)[number], string>;
  await Promise.all(backendServices.map((s) => applyMigrations({ serviceDir: path.join(repoRoot, 'services', s), databaseUrl: infra.databaseUrl, schema: schemas[s] })));

  const replicasOf = (service: ServiceName) => Math.max(1, options.replicas?.[service] ?? 1);
  const portsFor = async (service: ServiceName) => [service, await Promise.all(Array.from({ length: replicasOf(service) }, freePort))] as const;
  const grpcPorts = Object.fromEntries(await Promise.all(backendServices.map(portsFor))) as Record<(typeof backendServices)[number], number[]>;
  const httpPorts = Object.fromEntries(await Promise.all([...backendServices, 'gateway' as const].map(portsFor))) as Record<ServiceName, number[]>;
  if (options.gatewayPort) httpPorts.gateway[0] = options.gatewayPort;
  // The gateway's /readyz and /metrics live on an ops port of their own, apart from the API.
  const gatewayOpsPorts = (await portsFor('gateway'))[1];
  const gatewayUrls = httpPorts.gateway.map((port) => `http://127.0.0.1:${port}`);
  const gatewayUrl = gatewayUrls[0]!;
  // One replica: host:port. Several: grpc-js' ipv4 resolver over every address, balanced
  // round-robin by the clients (createGrpcClient), as dns:/// over a headless Service is in a cluster.
  const grpcAddress = (service: (typeof backendServices)[number]) =>
    grpcPorts[service].length === 1 ? `127.0.0.1:${grpcPorts[service][0]}` : `ipv4:${grpcPorts[service].map((p) => `127.0.0.1:${p}`).join(',')}`;

  const sbp = createSwissBitcoinPaySimulator({ apiKey: simulatorSecrets.sbpApiKey, apiSecret: simulatorSecrets.sbpApiSecret, webhookRetryDelaysMs: options.sbpWebhookRetryDelaysMs });
  // Its webhooks go nowhere until a test subscribes the gateway: zoom.subscribeWebhooks(`${gatewayUrl}/webhooks/zoom`).
  const zoom = createZoomSimulator({ accountId: simulatorSecrets.zoomAccountId, clientId: simulatorSecrets.zoomClientId, clientSecret: simulatorSecrets.zoomClientSecret, webhookSecretToken: simulatorSecrets.zoomWebhookSecretToken });
  const sbpUrl = await sbp.listen();
  const zoomUrl = await zoom.listen();
  // The fallback's Jitsi, with token authentication as a self-hosted deployment has it.
  const jitsi = createJitsiSimulator({ appId: simulatorSecrets.jitsiAppId, appSecret: simulatorSecrets.jitsiAppSecret });
  const jitsiUrl = await jitsi.listen();
  let btcpay: BtcpaySimulator | undefined;
  if (options.btcpay) {
    btcpay = createBtcpaySimulator({
      apiKey: simulatorSecrets.btcpayApiKey,
      storeId: simulatorSecrets.btcpayStoreId,
      webhookUrl: `${gatewayUrl}/webhooks/btcpay`,
      webhookSecret: simulatorSecrets.btcpayWebhookSecret,
    });
    await btcpay.listen();
  }
  // identity's verification and reset mails land here (platform.mail.waitFor(address)).
  const mail = createMailCatcher();
  const { smtpUrl } = await mail.listen();

  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: options.logLevel ?? 'warn',
    KAFKA_BROKERS: kafkaBrokers.join(','),
    KAFKA_NAMESPACE: namespace,
    REDIS_URL: redisUrl,
    // Its own keys in the shared Redis (RedisCache): caches, rate-limit counters, revocations.
    REDIS_NAMESPACE: namespace,
    IDENTITY_ADDR: grpcAddress('identity'),
    SEARCH_ADDR: grpcAddress('search'),
    APPOINTMENT_ADDR: grpcAddress('appointment'),
    PAYMENT_ADDR: grpcAddress('payment'),
    VIDEO_ADDR: grpcAddress('video'),
    ...(options.region ? { DATA_REGION: options.region } : {}),
  };
  // Every platform of the suite runs at once against one Redis and all their clients are
  // 127.0.0.1: the per-address limits (counters in Redis, each platform's own since REDIS_NAMESPACE)
  // are lifted so that one test's traffic cannot starve another's. The limits themselves are tested
  // in hardening.test.ts, http-surface.test.ts and embedded-flow.test.ts; a test may set them back with extraEnv. The
  // per-account sign-in limit too: every platform's bootstrap admin has one email, and the platforms
  // share one Redis, so their admins' sign-ins counted against one key (429 in a clean-clone run).
  // It is tested in hardening.test.ts.
  const envOf = (service: ServiceName, replica: number): Record<string, string> => {
    const own: Record<string, string> =
      service === 'gateway'
        ? // The public micro-cache is off: tests read the directory right after changing it (its own test is public-read-cache.test.ts).
          { HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPorts.gateway[replica]), OPS_HOST: '127.0.0.1', OPS_PORT: String(gatewayOpsPorts[replica]), AUTH_RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_MINUTE: '100000', LOGIN_RATE_LIMIT_PER_ACCOUNT: '100000', PUBLIC_CACHE_SECONDS: '0' }
        : { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schemas[service], GRPC_HOST: '127.0.0.1', GRPC_PORT: String(grpcPorts[service][replica]), HTTP_PORT: String(httpPorts[service][replica]) };
    const providers: Record<string, string> =
      service === 'payment'
        ? {
            SBP_API_URL: sbpUrl,
            SBP_API_KEY: simulatorSecrets.sbpApiKey,
            SBP_API_SECRET: simulatorSecrets.sbpApiSecret,
            PUBLIC_BASE_URL: gatewayUrl,
            RECONCILE_EVERY_MS: '2000',
            ...(btcpay
              ? { BTCPAY_URL: btcpay.baseUrl!, BTCPAY_API_KEY: simulatorSecrets.btcpayApiKey, BTCPAY_STORE_ID: simulatorSecrets.btcpayStoreId, BTCPAY_WEBHOOK_SECRET: simulatorSecrets.btcpayWebhookSecret }
              : {}),
          }
        : service === 'video'
          ? { ZOOM_API_URL: `${zoomUrl}/v2`, ZOOM_OAUTH_URL: `${zoomUrl}/oauth/token`, ZOOM_HOST_EMAIL_DOMAIN: 'hosts.cryptocare.test', ZOOM_ACCOUNT_ID: simulatorSecrets.zoomAccountId, ZOOM_CLIENT_ID: simulatorSecrets.zoomClientId, ZOOM_CLIENT_SECRET: simulatorSecrets.zoomClientSecret, ZOOM_WEBHOOK_SECRET_TOKEN: simulatorSecrets.zoomWebhookSecretToken, JITSI_URL: jitsiUrl, JITSI_APP_ID: simulatorSecrets.jitsiAppId, JITSI_APP_SECRET: simulatorSecrets.jitsiAppSecret }
          : service === 'identity'
            ? { BOOTSTRAP_ADMIN_EMAIL: 'admin@cryptocare.test', BOOTSTRAP_ADMIN_PASSWORD: 'admin-password-1', SMTP_URL: smtpUrl, PUBLIC_BASE_URL: gatewayUrl }
            : {};
    return { ...common, ...own, ...providers, ...(options.extraEnv?.[service] ?? {}) };
  };

  // Keyed by service, one entry per replica.
  const processes = new Map<ServiceName, RunningProcess[]>();
  // Each process writes its stdout and stderr straight into a file, as a container's output lands
  // in the node's log files, not through a pipe into this process: at LOG_LEVEL=info (an access
  // line per request) a benchmark's generator would otherwise read and keep every line.
  const logDir = mkdtempSync(path.join(os.tmpdir(), `cryptocare-${run}-logs-`));
  const logFileOf = (service: ServiceName, replica: number) => path.join(logDir, `${service}-${replica}.log`);
  const readLog = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  const startReplica = (service: ServiceName, replica: number): RunningProcess => {
    const logFile = logFileOf(service, replica);
    // A restarted service's output follows its previous life's (what it logged before a kill stays).
    if (existsSync(logFile)) appendFileSync(logFile, `----- ${service} restarted -----\n`);
    const fd = openSync(logFile, 'a');
    const serviceDir = path.join(repoRoot, 'services', service);
    const entry = options.bundles ? [path.join(serviceDir, 'dist/main.js')] : ['--import', 'tsx', path.join(serviceDir, 'src/main.ts')];
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
      cwd: options.bundles ? serviceDir : repoRoot,
      env: { ...process.env, ...envOf(service, replica), STOP_WHEN_PARENT_EXITS: String(process.pid) },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd); // the child holds its own copy
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, logFile, exited };
  };
  const start = (service: ServiceName) => {
    processes.set(service, Array.from({ length: replicasOf(service) }, (_, replica) => startReplica(service, replica)));
  };
  const opsUrl = (service: ServiceName, replica = 0) => `http://127.0.0.1:${service === 'gateway' ? gatewayOpsPorts[replica] : httpPorts[service][replica]}`;
  const ready = async (service: ServiceName) => {
    await Promise.all(
      (processes.get(service) ?? []).map((p, replica) =>
        eventually(async () => {
          if (p.child.exitCode !== null) throw new Error(`${service} exited:\n${readLog(p.logFile).slice(-3000)}`);
          return (await fetch(`${opsUrl(service, replica)}/readyz`)).ok;
        }, 60_000, 200),
      ),
    );
  };
  const allProcesses = () => [...processes.values()].flat();

  for (const s of backendServices) start(s);
  start('gateway');
  try {
    await Promise.all([...backendServices, 'gateway' as const].map(ready));
  } catch (err) {
    for (const p of allProcesses()) p.child.kill('SIGKILL');
    rmSync(logDir, { recursive: true, force: true });
    throw err;
  }

  return {
    gatewayUrl,
    /** Every gateway replica's address (a load generator spreads its connections over them). */
    gatewayUrls,
    /** The Redis the platform's services use (its own database with `redisDatabase`). */
    redisUrl,
    sbp,
    /** Only with `btcpay: true`. */
    btcpay,
    zoom,
    jitsi,
    mail,
    schemas,
    namespace,
    metricsUrl: (service: ServiceName, replica = 0) => `${opsUrl(service, replica)}/metrics`,
    /** The address of a service's /readyz (the gateway's on its ops port). */
    readyzUrl: (service: ServiceName, replica = 0) => `${opsUrl(service, replica)}/readyz`,
    /** What a service's replicas wrote so far (stdout and stderr), until `stop`, which deletes it. */
    output: (service: ServiceName) => (processes.get(service) ?? []).map((p) => readLog(p.logFile)).join(''),
    /** The operating-system process ids of each service's replicas (for CPU accounting). */
    pids: (service: ServiceName) => (processes.get(service) ?? []).map((p) => p.child.pid!),
    /** Kills every replica of a service at once (no graceful shutdown), as a crash would. */
    async kill(service: ServiceName) {
      await Promise.all(
        (processes.get(service) ?? []).map((p) => {
          p.child.kill('SIGKILL');
          return p.exited;
        }),
      );
    },
    async restart(service: ServiceName) {
      start(service);
      await ready(service);
    },
    async stop() {
      await Promise.all(
        allProcesses().map(async (p) => {
          if (p.child.exitCode === null) {
            p.child.kill('SIGTERM');
            const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
            await p.exited;
            clearTimeout(timer);
          }
        }),
      );
      await sbp.close();
      await btcpay?.close();
      await zoom.close();
      await jitsi.close();
      await mail.close();
      rmSync(logDir, { recursive: true, force: true });
      // The run's schemas go with it: a benchmark's run left about 360 MB behind (50 000
      // professionals and their bookings), which the next runs' autovacuum and disk then carried.
      // Cleanup only: a database a test left unreachable fails nothing here (said on stderr).
      const db = new pg.Pool({ connectionString: infra.databaseUrl, max: 1, connectionTimeoutMillis: 5_000 });
      try {
        await db.query(`DROP SCHEMA IF EXISTS ${Object.values(schemas).map((schema) => `"${schema}"`).join(', ')} CASCADE`);
      } catch (err) {
        process.stderr.write(`platform: the run's schemas were not dropped: ${String(err)}\n`);
      } finally {
        await db.end();
      }
    },
  };
}

/** The same Redis with another of its databases (0-15) selected. */
export function withDatabase(redisUrl: string, database: number): string {
  const url = new URL(redisUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export type RunningPlatform = Awaited<ReturnType<typeof startPlatform>>;
