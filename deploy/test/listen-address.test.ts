// The processes listen where the chart expects them: on every interface of the pod, so that the
// kubelet's probes, the Services and Prometheus reach them on the pod IP. Each service is started as a
// real process with the environment its rendered pod would have (its ConfigMap, its pod fields and
// test values for its Secrets) and reached at 127.0.0.2, an address of this machine that is not the
// one a loopback-bound process listens on: a listener on 127.0.0.1 is refused there (checked below),
// one on 0.0.0.0 answers, as it would on a pod IP.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { ROOT, find, render, valuesFiles, APP_CHART, type K8sObject } from './lib/tools';

const POD_ADDRESS = '127.0.0.2';

/** Test values for the Secrets a pod loads (External Secrets writes the real ones: docs/secrets.md). */
const TEST_SECRETS: Record<string, Record<string, string>> = {
  // REDIS_URL and KAFKA_BROKERS left out: the gateway starts without them (one replica's rate limits,
  // an in-process bus), and its backends need not exist for /healthz to answer.
  'cryptocare-gateway': {},
  // A database on a closed port: search starts and answers /healthz and gRPC health without one
  // (NOT_SERVING until its database answers).
  'cryptocare-search': { DATABASE_URL: 'postgresql://search:test-password@127.0.0.1:9/cryptocare', DATABASE_DIRECT_URL: 'postgresql://search:test-password@127.0.0.1:9/cryptocare' },
};

/** What the container of a rendered workload gets in its environment. */
function podEnvironment(objs: K8sObject[], workload: string): Record<string, string> {
  const container = find(objs, 'Rollout', workload)!.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const source of container.envFrom) {
    if (source.configMapRef) Object.assign(env, find(objs, 'ConfigMap', source.configMapRef.name)!.data);
    if (source.secretRef) {
      const secret = TEST_SECRETS[source.secretRef.name];
      if (!secret) throw new Error(`no test values for Secret ${source.secretRef.name}`);
      Object.assign(env, secret);
    }
  }
  const fields: Record<string, string> = { 'metadata.name': `${workload}-7d9f8-abcde`, 'metadata.namespace': 'cryptocare' };
  for (const e of container.env ?? []) env[e.name] = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath] ?? '';
  return env;
}

/** A port free on every interface, below the ephemeral range (see freePort in libs/testing). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

interface Started {
  child: ChildProcess;
  output: string[];
}

/** `npx tsx services/<name>/src/main.ts` with exactly `env`, plus what npx needs to run at all. */
function start(name: string, env: Record<string, string>): Started {
  const child = spawn('npx', ['tsx', `services/${name}/src/main.ts`], {
    cwd: ROOT,
    // PATH and HOME are not the pod's: npx needs them to find node and its cache.
    env: { ...env, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npx, tsx and node stop together
  });
  const output: string[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  return { child, output };
}

async function stop(p: Started | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.pid === undefined) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  process.kill(-p.child.pid, 'SIGTERM');
  const timer = setTimeout(() => p.child.pid && process.kill(-p.child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** GET http://<address>:<port><path>, retried until it answers (the process takes a while to start). */
async function getWhenUp(p: Started, url: string, timeoutMs = 120_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`the process exited (${p.child.exitCode}):\n${p.output.join('').slice(-4000)}`);
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2_000) });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} never answered (${(err as Error).message}):\n${p.output.join('').slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function grpcHealth(address: string): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const client = new Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + 10_000, (err) => {
      if (err) {
        client.close();
        return reject(err);
      }
      (client as any).check({ service: '' }, { deadline: Date.now() + 5_000 }, (e: Error | null, res: { status: string }) => {
        client.close();
        return e ? reject(e) : resolve(res.status);
      });
    });
  });
}

let objs: K8sObject[];
beforeAll(() => {
  objs = render(APP_CHART, valuesFiles(APP_CHART, 'production', 'ch'));
}, 15 * 60_000);

test(`a listener on 127.0.0.1 is not reachable at ${POD_ADDRESS} (what makes the checks below mean something)`, async () => {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, POD_ADDRESS);
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the gateway, started with its rendered pod environment', () => {
  let gateway: Started | undefined;
  let env: Record<string, string>;
  beforeAll(() => {
    env = podEnvironment(objs, 'gateway');
  });
  afterAll(() => stop(gateway));

  test('the ConfigMap binds every listener to all interfaces', () => {
    expect(env.HTTP_HOST).toBe('0.0.0.0');
    expect(env.OPS_HOST).toBe('0.0.0.0');
  });

  test(`answers on its public port and on its ops port at ${POD_ADDRESS}; /metrics and /readyz only on the ops port`, async () => {
    // Only the ports change: the rendered 8080 and 9090 may be taken on a shared machine (a dev
    // gateway, a Prometheus); the listen addresses are the ConfigMap's.
    const rendered = { http: Number(env.HTTP_PORT), ops: Number(env.OPS_PORT) };
    expect(rendered).toEqual({ http: 8080, ops: 9090 });
    const ports = { http: await freePort(), ops: await freePort() };
    gateway = start('gateway', { ...env, HTTP_PORT: String(ports.http), OPS_PORT: String(ports.ops) });

    const healthz = await getWhenUp(gateway, `http://${POD_ADDRESS}:${ports.ops}/healthz`);
    expect(healthz.status).toBe(200);
    const metrics = await fetch(`http://${POD_ADDRESS}:${ports.ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE');

    // The public port answers at the pod address too, and is the API only.
    for (const path of ['/metrics', '/readyz']) {
      const res = await getWhenUp(gateway, `http://${POD_ADDRESS}:${ports.http}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  }, 180_000);
});

describe('a backend (search), started with its rendered pod environment', () => {
  let search: Started | undefined;
  afterAll(() => stop(search));

  test(`answers gRPC health and /healthz at ${POD_ADDRESS}`, async () => {
    const env = podEnvironment(objs, 'search');
    expect(env.GRPC_HOST).toBe('0.0.0.0');
    // Ports only, as for the gateway: the rendered 50052 and 9102 may be taken by a dev run.
    const ports = { grpc: await freePort(), ops: await freePort() };
    search = start('search', { ...env, GRPC_PORT: String(ports.grpc), HTTP_PORT: String(ports.ops) });

    const healthz = await getWhenUp(search, `http://${POD_ADDRESS}:${ports.ops}/healthz`);
    expect(healthz.status).toBe(200);
    // The gRPC server answers on the pod address (NOT_SERVING: its test database does not exist).
    expect(['SERVING', 'NOT_SERVING']).toContain(await grpcHealth(`${POD_ADDRESS}:${ports.grpc}`));
  }, 180_000);
});
