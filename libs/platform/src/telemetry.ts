import { diag } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

/**
 * OpenTelemetry tracing of one process (ARCHITECTURE section 9), configured by the standard
 * `OTEL_*` variables. It must start before the instrumented libraries are loaded, so every
 * service's main.ts imports `./telemetry-register` on its first line; this file therefore imports
 * nothing but OpenTelemetry itself (no pino, pg, grpc-js, ioredis or kafkajs).
 *
 * Off unless asked for, so that tests and development pay nothing:
 *   - `OTEL_SDK_DISABLED=true` → off;
 *   - `OTEL_TRACES_EXPORTER=none` → off;
 *   - otherwise on when `OTEL_TRACES_EXPORTER` (otlp, console, zipkin) or an OTLP endpoint
 *     (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
 * The SDK then reads the rest itself: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (http/protobuf by default; http/json, grpc), `OTEL_TRACES_SAMPLER`
 * (+ `_ARG`), `OTEL_BSP_*` (batching), `OTEL_PROPAGATORS` (W3C trace context + baggage).
 *
 * Instrumented: fetch (undici: the provider APIs), PostgreSQL (pg, under Prisma's driver adapter)
 * and Redis (ioredis). Some can be left out with `OTEL_NODE_DISABLED_INSTRUMENTATIONS` (or all but
 * some with `OTEL_NODE_ENABLED_INSTRUMENTATIONS`), comma-separated short names (undici, pg,
 * ioredis), as in OpenTelemetry's auto-instrumentations-node. Neither node:http nor grpc-js is
 * instrumented, at less cost: the gateway makes its requests' server spans from fastify's hooks
 * (services/gateway/src/server-span.ts), our gRPC client and handler wrapper make the calls' spans
 * (grpc-tracing.ts), no service calls out through node:http, and the services' own HTTP servers
 * serve only probes and /metrics. Kafka is traced by
 * @cryptocare/events itself (KafkaBus): the relay publishes a batch of outbox rows that each
 * belong to another trace, which the kafkajs instrumentation (parent = the active context) cannot
 * express. Metrics stay on Prometheus (prom-client), logs on pino: only traces are exported.
 */

export interface TelemetryOptions {
  env?: NodeJS.ProcessEnv;
  /** Replaces the exporters chosen by the environment (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  enabled: boolean;
  serviceName: string;
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const truthy = (value: string | undefined) => ['true', '1', 'yes'].includes((value ?? '').trim().toLowerCase());

/** Whether the environment asks for tracing (see above). */
export function telemetryWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (truthy(env.OTEL_SDK_DISABLED)) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  return exporters.length > 0 || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The names in a comma-separated list variable, or undefined when it is unset or empty. */
function nameList(value: string | undefined): Set<string> | undefined {
  const names = (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return names.length > 0 ? new Set(names) : undefined;
}

/** The instrumentations this process runs, by their short names (see above). */
export function instrumentations(env: NodeJS.ProcessEnv = process.env) {
  const enabled = nameList(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS);
  const disabled = nameList(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS);
  const wanted = (name: string) => (!enabled || enabled.has(name)) && !disabled?.has(name);
  const all: Record<string, () => Instrumentation> = {
    undici: () => new UndiciInstrumentation(),
    // Outside a trace (outbox relay polling, periodic tasks) queries make no spans of their own;
    // statement parameters (personal data) are never recorded.
    pg: () => new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true }),
    // Only the command name: keys and values may carry personal data (rate-limit keys are IPs).
    ioredis: () => new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command: string) => command }),
  };
  return Object.entries(all)
    .filter(([name]) => wanted(name))
    .map(([, make]) => make());
}

let running: Telemetry | undefined;

/**
 * Starts tracing for this process (once; later calls return the first result). Returns a handle
 * whose `enabled` says whether spans are recorded.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): Telemetry {
  if (running) return running;
  const env = options.env ?? process.env;
  const name = env.OTEL_SERVICE_NAME?.trim() || serviceName;
  if (!options.spanProcessors && !telemetryWanted(env)) {
    running = { enabled: false, serviceName: name, shutdown: async () => undefined };
    return running;
  }
  const sdk = new NodeSDK({
    serviceName: name,
    instrumentations: instrumentations(env),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors as never } : {}),
    // Metrics are scraped from /metrics (prom-client), logs go to stdout (pino).
    metricReaders: [],
    logRecordProcessors: [],
  });
  try {
    sdk.start();
  } catch (err) {
    // Tracing must never keep a service from starting.
    diag.error('OpenTelemetry could not start', err);
    running = { enabled: false, serviceName: name, shutdown: async () => undefined };
    return running;
  }
  let stopping: Promise<void> | undefined;
  running = {
    enabled: true,
    serviceName: name,
    shutdown: () => (stopping ??= sdk.shutdown().catch((err) => diag.error('OpenTelemetry shutdown failed', err))),
  };
  return running;
}

/** The process's telemetry, if started. */
export function currentTelemetry(): Telemetry | undefined {
  return running;
}

/**
 * The service a process runs, for the register hook: `OTEL_SERVICE_NAME`, else the folder of the
 * entry script (`services/<name>/src/main.ts`, `services/<name>/dist/main.js`).
 */
export function serviceNameFromProcess(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv): string {
  if (env.OTEL_SERVICE_NAME?.trim()) return env.OTEL_SERVICE_NAME.trim();
  const entry = (argv[1] ?? '').replace(/\\/g, '/');
  const match = /services\/([a-z0-9-]+)\/(?:src|dist)\/main\.[cm]?[jt]s$/.exec(entry);
  return match?.[1] ?? 'cryptocare';
}
