import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * The runtime settings the chart gives every process in production (charts/cryptocare/values.yaml
 * under values-production.yaml, `global`, into
 * each service's ConfigMap by `cryptocare.configData`), for a benchmark that runs the services the
 * way they run in the cluster: NODE_ENV, the log level (every request logged at `info`), and
 * tracing with the chart's sampler, exported over OTLP/HTTP to `otlpEndpoint` (bench/load/otlp-sink.ts
 * stands in for the Collector). Test platforms run quieter (warn, no tracing): a benchmark that kept
 * that measured a lighter process than the one deployed.
 */
export interface ChartRuntime {
  /** Per service: the variables to add to the test platform's. */
  envOf(service: string): Record<string, string>;
  /** For the report. */
  summary: string;
}

/** The chart's defaults under the production overlay, as `helm -f values-production.yaml` layers them. */
const chartDir = path.join(__dirname, '../../charts/cryptocare');
export const productionValues = [path.join(chartDir, 'values.yaml'), path.join(chartDir, 'values-production.yaml')];

/** Helm's merge of values files: maps merged key by key, anything else replaced by the later file. */
function mergeValues(base: object, over: object): object {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(out[k]) ? mergeValues(out[k] as object, v) : v;
  return out;
}

interface Values {
  global: { nodeEnv: string; logLevel: string; otel: { enabled: boolean; sampler: string; samplerRatio: string } };
}

/**
 * `overrides` change one setting for an experiment (BENCH_LOG_LEVEL, BENCH_TRACES_SAMPLER_ARG in
 * bench/load.ts); the report's summary then says so.
 */
export function chartRuntime(otlpEndpoint: string, valuesFiles: string[] = productionValues, overrides: { logLevel?: string; samplerRatio?: string } = {}): ChartRuntime {
  const { global: chart } = valuesFiles.map((f) => parse(readFileSync(f, 'utf8')) as object).reduce(mergeValues, {}) as Values;
  const g = { ...chart, logLevel: overrides.logLevel ?? chart.logLevel, otel: { ...chart.otel, samplerRatio: overrides.samplerRatio ?? chart.otel.samplerRatio } };
  const files = valuesFiles.map((f) => path.basename(f)).join(' + ');
  const changed = Object.entries(overrides).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  // In production identity's signing keys are encrypted at rest and the key is required
  // (docs/secrets.md); a fresh one per run.
  const signingKeyEncryptionKey = randomBytes(32).toString('base64');
  const tracing = (service: string): Record<string, string> =>
    g.otel.enabled
      ? {
          OTEL_SERVICE_NAME: service,
          OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
          OTEL_TRACES_SAMPLER: g.otel.sampler,
          OTEL_TRACES_SAMPLER_ARG: String(g.otel.samplerRatio),
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=bench,service.namespace=cryptocare',
        }
      : { OTEL_SDK_DISABLED: 'true' };
  return {
    envOf: (service) => ({
      NODE_ENV: g.nodeEnv,
      LOG_LEVEL: g.logLevel,
      ...tracing(service),
      ...(service === 'identity' ? { SIGNING_KEY_ENCRYPTION_KEY: signingKeyEncryptionKey } : {}),
    }),
    summary: `${changed.length > 0 ? `the chart's (${files}) but ${changed.join(', ')}` : `as the chart runs them in production (${files})`}: NODE_ENV=${g.nodeEnv}, LOG_LEVEL=${g.logLevel}, ${g.otel.enabled ? `traces ${g.otel.sampler} ${g.otel.samplerRatio} over OTLP/HTTP to a local sink` : 'no tracing'}`,
  };
}
