// Traces have somewhere to go: every process exports OTLP to the OpenTelemetry Collector that
// k8s/operators installs, its NetworkPolicy lets it reach exactly that collector, the collector
// forwards to Tempo, and Grafana reads Tempo. The names are checked across the three sets of values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SERVICES, TARGETS } from './lib/contract';
import { pinnedVersions } from './lib/crds';
import { APP_CHART, ROOT, byKind, find, helmPath, matches, must, render, valuesFiles } from './lib/tools';

const OPERATORS = join(ROOT, 'k8s/operators');
const values = (f: string) => parse(readFileSync(join(OPERATORS, 'values', f), 'utf8'));
const collector = values('opentelemetry-collector.yaml');
const tempo = values('tempo.yaml');
const script = readFileSync(join(OPERATORS, 'install.sh'), 'utf8');

/** The release and namespace install.sh gives a chart: `install <release> <namespace> <chart> ...`. */
function installed(chart: string): { release: string; namespace: string; version: string } {
  const m = new RegExp(`^\\s*install (\\S+) (\\S+) ${chart.replace('/', '\\/')} "\\$(\\w+)" `, 'm').exec(script);
  if (!m) throw new Error(`install.sh does not install ${chart}`);
  return { release: m[1]!, namespace: m[2]!, version: must(pinnedVersions()[m[3]!], m[3]!) };
}

beforeAll(() => {
  helmPath();
}, 15 * 60_000);

describe('the trace pipeline (k8s/operators)', () => {
  test('the collector and Tempo are installed, pinned, in the observability namespace', () => {
    const c = installed('open-telemetry/opentelemetry-collector');
    const t = installed('grafana-community/tempo');
    expect(c).toMatchObject({ namespace: 'observability', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(t).toMatchObject({ namespace: 'observability', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(script).toMatch(/^if want observability; then$/m);
  });

  test('the collector receives OTLP and sends every trace to Tempo, which keeps them on a volume', () => {
    expect(collector.mode).toBe('deployment');
    expect(collector.replicaCount).toBeGreaterThanOrEqual(2);
    expect(collector.ports['otlp-http'].enabled).toBe(true);
    const traces = collector.config.service.pipelines.traces;
    expect(traces.receivers).toEqual(['otlp']);
    expect(traces.processors[0]).toBe('memory_limiter');
    expect(traces.processors).toContain('batch');
    expect(traces.exporters).toHaveLength(1);
    const exporter = collector.config.exporters[traces.exporters[0]];
    expect(traces.exporters[0]).toMatch(/^otlp(\/|$)/);
    const t = installed('grafana-community/tempo');
    expect(exporter.endpoint).toBe(`${tempo.fullnameOverride}.${t.namespace}.svc:${tempo.tempo.receivers.otlp.protocols.grpc.endpoint.split(':')[1]}`);
    expect(exporter.sending_queue.enabled).toBe(true);
    expect(tempo.persistence.enabled).toBe(true);
    expect(Number(/^(\d+)h$/.exec(tempo.tempo.retention)![1])).toBeGreaterThanOrEqual(7 * 24);
    // Grafana reads Tempo on its query port
    const grafana = values('kube-prometheus-stack.yaml').grafana.additionalDataSources.find((d: any) => d.type === 'tempo');
    expect(grafana.url).toBe(`http://${tempo.fullnameOverride}.${t.namespace}.svc:3200`);
  });
});

describe.each([...TARGETS, { env: 'dev', region: undefined, name: 'dev' }] as const)('traces of charts/cryptocare for $name', ({ env, region }) => {
  const objs = () => render(APP_CHART, valuesFiles(APP_CHART, env, region));

  test('every service exports to the collector\'s Service, and its NetworkPolicy reaches exactly the collector\'s pods', () => {
    const rendered = objs();
    const c = installed('open-telemetry/opentelemetry-collector');
    for (const name of Object.keys(SERVICES)) {
      const data = find(rendered, 'ConfigMap', `${name}-config`)!.data!;
      if (env === 'dev') {
        expect(data.OTEL_SDK_DISABLED).toBe('true');
        continue;
      }
      expect(data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://${collector.fullnameOverride}.${c.namespace}.svc:${collector.ports['otlp-http'].servicePort ?? 4318}`);
      expect(data.OTEL_SERVICE_NAME).toBe(name);
      expect(data.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
      expect(Number(data.OTEL_TRACES_SAMPLER_ARG)).toBe(env === 'production' ? 0.1 : 1);
      const np = byKind(rendered, 'NetworkPolicy').find((p) => p.metadata.name === name)!;
      // the collector chart labels its pods with the chart name and the release
      const podLabels = { 'app.kubernetes.io/name': 'opentelemetry-collector', 'app.kubernetes.io/instance': c.release, component: 'standalone-collector' };
      const rule = must(np.spec.egress.find((r: any) => r.to.some((t: any) => t.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === c.namespace)), `${name}: egress to ${c.namespace}`);
      expect(rule.ports).toEqual([{ port: 4318, protocol: 'TCP' }]);
      for (const peer of rule.to) expect({ name, selects: matches(peer.podSelector.matchLabels, podLabels) }).toEqual({ name, selects: true });
    }
  });
});
