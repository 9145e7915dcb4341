// Starts the provider simulators for local runs and the one-command demo ("embedded mode"):
//   npx tsx libs/simulators/src/cli.ts --sbp-port 8091 --zoom-port 8092 --btcpay-port 8093 --jitsi-port 8094 [--host 127.0.0.1]
// A simulator whose port flag is absent is not started. Secrets come from the environment (dev defaults otherwise):
//   SBP_API_KEY, SBP_API_SECRET, ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET, ZOOM_WEBHOOK_SECRET_TOKEN
//   (its webhooks go to an endpoint subscribed with POST /_sim/webhooks {"url"}),
//   BTCPAY_API_KEY, BTCPAY_WEBHOOK_SECRET, BTCPAY_WEBHOOK_URL, BTCPAY_STORE_ID (optional), JITSI_APP_ID, JITSI_APP_SECRET,
//   SIM_PUBLIC_HOST (optional: host name put in checkout/join URLs instead of the listening host).
// Never mounted in production.
import { createBtcpaySimulator } from './btcpay';
import { createJitsiSimulator } from './jitsi';
import { createSwissBitcoinPaySimulator } from './swiss-bitcoin-pay';
import { createZoomSimulator } from './zoom';

interface Started {
  name: string;
  url: string;
  close(): Promise<void>;
}

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) args.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
      args.set(arg.slice(2), value);
      i++;
    }
  }
  return args;
}

function port(args: Map<string, string>, name: string): number | undefined {
  const raw = args.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: bad port "${raw}"`);
  return n;
}

const defaulted: string[] = [];
function env(name: string, fallback: string): string {
  const value = process.env[name];
  if (value) return value;
  defaulted.push(name);
  return fallback;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const known = new Set(['sbp-port', 'zoom-port', 'btcpay-port', 'jitsi-port', 'host']);
  for (const key of args.keys()) if (!known.has(key)) throw new Error(`unknown option --${key}`);
  const host = args.get('host') ?? '127.0.0.1';
  const publicHost = process.env.SIM_PUBLIC_HOST;
  const publicUrl = (p: number) => (publicHost ? `http://${publicHost}:${p}` : undefined);
  const started: Started[] = [];

  const sbpPort = port(args, 'sbp-port');
  const zoomPort = port(args, 'zoom-port');
  const btcpayPort = port(args, 'btcpay-port');
  const jitsiPort = port(args, 'jitsi-port');
  if (sbpPort === undefined && zoomPort === undefined && btcpayPort === undefined && jitsiPort === undefined) {
    throw new Error('nothing to start: give at least one of --sbp-port, --zoom-port, --btcpay-port, --jitsi-port');
  }

  if (sbpPort !== undefined) {
    const sim = createSwissBitcoinPaySimulator({
      apiKey: env('SBP_API_KEY', 'sbp-dev-api-key'),
      apiSecret: env('SBP_API_SECRET', 'sbp-dev-api-secret'),
      publicBaseUrl: publicUrl(sbpPort),
    });
    started.push({ name: 'swiss-bitcoin-pay', url: await sim.listen(sbpPort, host), close: sim.close });
  }
  if (zoomPort !== undefined) {
    const sim = createZoomSimulator({
      accountId: env('ZOOM_ACCOUNT_ID', 'zoom-dev-account'),
      clientId: env('ZOOM_CLIENT_ID', 'zoom-dev-client'),
      clientSecret: env('ZOOM_CLIENT_SECRET', 'zoom-dev-secret'),
      webhookSecretToken: env('ZOOM_WEBHOOK_SECRET_TOKEN', 'zoom-dev-webhook-secret'),
      publicBaseUrl: publicUrl(zoomPort),
    });
    started.push({ name: 'zoom', url: await sim.listen(zoomPort, host), close: sim.close });
  }
  if (btcpayPort !== undefined) {
    const sim = createBtcpaySimulator({
      apiKey: env('BTCPAY_API_KEY', 'btcpay-dev-api-key'),
      webhookSecret: env('BTCPAY_WEBHOOK_SECRET', 'btcpay-dev-webhook-secret'),
      webhookUrl: process.env.BTCPAY_WEBHOOK_URL || undefined,
      storeId: process.env.BTCPAY_STORE_ID || undefined,
      publicBaseUrl: publicUrl(btcpayPort),
    });
    const url = await sim.listen(btcpayPort, host);
    started.push({ name: `btcpay (store ${sim.storeId})`, url, close: sim.close });
    if (!process.env.BTCPAY_WEBHOOK_URL) console.warn('BTCPAY_WEBHOOK_URL is not set: the BTCPay simulator will send no webhooks');
  }

  if (jitsiPort !== undefined) {
    const sim = createJitsiSimulator({
      appId: env('JITSI_APP_ID', 'cryptocare-dev'),
      appSecret: env('JITSI_APP_SECRET', 'dev-jitsi-app-secret-of-32-characters'),
      publicBaseUrl: publicUrl(jitsiPort),
    });
    started.push({ name: 'jitsi', url: await sim.listen(jitsiPort, host), close: sim.close });
  }

  if (defaulted.length > 0) console.warn(`using development defaults for: ${defaulted.join(', ')}`);
  for (const s of started) console.log(`${s.name}: ${s.url}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(started.map((s) => s.close()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
