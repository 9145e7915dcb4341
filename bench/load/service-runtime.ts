import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { backendServices, type ServiceName } from '@cryptocare/testing';
import { chartRuntime, productionValues } from './chart-runtime';

/**
 * The services' runtime in every benchmark of the real stack (bench/run.ts, load.ts, profile.ts,
 * overload.ts, gc-per-read.ts): the chart's production settings by default (its log level, NODE_ENV
 * and tracing, exported to a local OTLP sink); BENCH_RUNTIME=quiet runs them as the test platform does (errors only, no tracing), as
 * every run before 3 December did. BENCH_LOG_LEVEL and BENCH_TRACES_SAMPLER_ARG change one of the
 * chart's settings, BENCH_OTEL_DISABLED_INSTRUMENTATIONS leaves instrumentations out
 * (OTEL_NODE_DISABLED_INSTRUMENTATIONS, libs/platform/src/telemetry.ts), to see what each costs.
 */
export interface ServiceRuntime {
  /** The variables to add to the test platform's for one service. */
  envOf(service: string): Record<string, string>;
  /** For the report. */
  summary: string;
  /** Each service runs from its bundle, `node dist/main.js`, as its image runs it (startPlatform's `bundles`). */
  bundles: boolean;
  /** What the OTLP sink received so far (undefined when quiet). */
  tracesSoFar(): Promise<{ exports: number; bytes: number } | undefined>;
  stop(): void;
}

type PlatformEnv = Partial<Record<ServiceName, Record<string, string>>>;

/**
 * `startPlatform`'s extraEnv: every service's runtime variables, with `more` on top for some (the
 * gateway's rate limit and micro-cache, a profiler's options).
 */
export function platformEnv(runtime: ServiceRuntime, more: PlatformEnv = {}): PlatformEnv {
  return Object.fromEntries((['gateway', ...backendServices] as const).map((s) => [s, { ...runtime.envOf(s), ...more[s] }]));
}

/** A helper process of bench/load/ (its own process, like the services), once it printed "ready <port>...". */
export async function startHelper(script: string, ...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve) => child.stdout.on('data', (chunk: Buffer) => /^ready \d+/.test(chunk.toString()) && resolve(chunk.toString().trim().split(' ').slice(1).map(Number))));
  return { ports, stop: () => child.kill('SIGTERM') };
}

/**
 * BENCH_CPU_PROFILE=dir: the gateway and every service write V8 CPU profiles there when they stop.
 * BENCH_NODE_OPTIONS: more Node options for them (a V8 setting tried before the chart gets it).
 */
export function nodeOptionsOf(service: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const options = [env.BENCH_NODE_OPTIONS ?? '', env.BENCH_CPU_PROFILE ? `--cpu-prof --cpu-prof-dir=${path.join(env.BENCH_CPU_PROFILE, service)}` : ''].filter(Boolean);
  return options.length > 0 ? { NODE_OPTIONS: options.join(' ') } : {};
}

/** BENCH_NODE_ARGS: flags on the services' command line, for V8's that NODE_OPTIONS refuses (e.g. --single-threaded-gc). */
export function nodeArgsOf(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The services' entry point: by default their bundles, built now from the checkout
 * (scripts/build-service.mjs, about a second for all six), run as each image runs it; BENCH_ENTRY=source
 * runs their TypeScript through tsx, as the tests do (every run before the night of 3 to 4 December).
 */
function entryOf(env: NodeJS.ProcessEnv): { bundles: boolean; summary: string } {
  if (env.BENCH_ENTRY === 'source') return { bundles: false, summary: 'each service from its TypeScript through tsx (BENCH_ENTRY=source; not as the image runs it)' };
  const root = path.resolve(__dirname, '../..');
  for (const service of ['gateway', ...backendServices]) execFileSync(process.execPath, [path.join(root, 'scripts/build-service.mjs'), service], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { bundles: true, summary: 'each service as its image runs it, `node dist/main.js` (bundles built for this run)' };
}

export async function serviceRuntime(env: NodeJS.ProcessEnv = process.env): Promise<ServiceRuntime> {
  const entry = entryOf(env);
  if (env.BENCH_RUNTIME === 'quiet') {
    return {
      envOf: (service) => nodeOptionsOf(service, env),
      summary: `quiet: LOG_LEVEL=error, no tracing (BENCH_RUNTIME=quiet; not the chart's settings); ${entry.summary}`,
      bundles: entry.bundles,
      tracesSoFar: async () => undefined,
      stop: () => undefined,
    };
  }
  // BENCH_TRACES_FILE: every export kept there (as JSON, which the sink can read without the OTLP
  // protos) for bench/traces-breakdown.ts; JSON costs the services more than protobuf.
  const tracesFile = env.BENCH_TRACES_FILE?.trim();
  const sink = await startHelper('otlp-sink.ts', ...(tracesFile ? [path.resolve(tracesFile)] : []));
  const url = `http://127.0.0.1:${sink.ports[0]}`;
  const disabled = env.BENCH_OTEL_DISABLED_INSTRUMENTATIONS?.trim();
  const chart = chartRuntime(url, productionValues, { logLevel: env.BENCH_LOG_LEVEL, samplerRatio: env.BENCH_TRACES_SAMPLER_ARG });
  return {
    envOf: (service) => ({ ...chart.envOf(service), ...(disabled ? { OTEL_NODE_DISABLED_INSTRUMENTATIONS: disabled } : {}), ...nodeOptionsOf(service, env), ...(tracesFile ? { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } : {}) }),
    summary: `${chart.summary}${disabled ? `, instrumentations left out: ${disabled}` : ''}${tracesFile ? ', exported as http/json and kept (BENCH_TRACES_FILE)' : ''}; ${entry.summary}`,
    bundles: entry.bundles,
    tracesSoFar: async () => (await (await fetch(`${url}/stats`)).json()) as { exports: number; bytes: number },
    stop: sink.stop,
  };
}
