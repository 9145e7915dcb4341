// The load benchmark runs the services with the chart's runtime settings, read from the chart's
// own values (not a copy that could drift from it).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { chartRuntime, productionValues } from './chart-runtime';

const [valuesFile, productionFile] = productionValues as [string, string];

describe('chartRuntime', () => {
  it("gives every service the chart's production NODE_ENV, log level and tracing (the overlay over the defaults), exported to the sink", () => {
    const values = parse(readFileSync(valuesFile, 'utf8'));
    const production = parse(readFileSync(productionFile, 'utf8'));
    const runtime = chartRuntime('http://127.0.0.1:4318');
    const env = runtime.envOf('search');
    expect(env.NODE_ENV).toBe(values.global.nodeEnv);
    expect(env.LOG_LEVEL).toBe(production.global.logLevel);
    // The sampler from the defaults, its ratio from the production overlay (10 %, not staging's 100 %).
    expect(env.OTEL_TRACES_SAMPLER).toBe(values.global.otel.sampler);
    expect(env.OTEL_TRACES_SAMPLER_ARG).toBe(String(production.global.otel.samplerRatio));
    expect(env.OTEL_TRACES_SAMPLER_ARG).not.toBe(String(values.global.otel.samplerRatio));
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
    expect(env.OTEL_SERVICE_NAME).toBe('search');
    // Production identity refuses to start without its key-encryption key: 32 random bytes.
    expect(env.SIGNING_KEY_ENCRYPTION_KEY).toBeUndefined();
    expect(Buffer.from(runtime.envOf('identity').SIGNING_KEY_ENCRYPTION_KEY!, 'base64')).toHaveLength(32);
  });

  it('follows the values: tracing off there is tracing off here', () => {
    const values = parse(readFileSync(valuesFile, 'utf8'));
    values.global.otel.enabled = false;
    values.global.logLevel = 'debug';
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'chart-runtime-')), 'values.yaml');
    writeFileSync(file, stringify(values));
    const env = chartRuntime('http://127.0.0.1:4318', [file]).envOf('gateway');
    expect(env).toMatchObject({ LOG_LEVEL: 'debug', OTEL_SDK_DISABLED: 'true' });
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });
});
