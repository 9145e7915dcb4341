// charts/cryptocare: lint, render for every environment and region, validate every object against the
// Kubernetes and CRD schemas, and hold the rendered manifests to the properties that matter.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { consumerGroups } from '@cryptocare/contracts';
import { EDGE_NAMESPACE, SECRET_KEYS, SERVICES, SLO, TARGETS, contractOf } from './lib/contract';
import {
  APP_CHART, PLATFORM_CHART, ROOT, K8sObject, byKind, find, helmLint, helmPath, helmTemplate, matches, must, render, valuesFiles,
} from './lib/tools';
import { validateAll } from './lib/validate';

const WORKLOAD_KINDS = ['Rollout', 'Deployment'];
const names = Object.keys(SERVICES);
const grpcServices = names.filter((n) => contractOf(n).grpcPort);

function podSpec(o: K8sObject) {
  return o.spec.template.spec;
}

function topicPartitions(platform: K8sObject[]): Record<string, number> {
  return Object.fromEntries(byKind(platform, 'KafkaTopic').map((t) => [t.spec.topicName, t.spec.partitions]));
}

/** The container port a Service port leads to (targetPort by name or number). */
function containerPortOf(workload: K8sObject, targetPort: string | number): number | undefined {
  const ports = podSpec(workload).containers[0].ports as Array<{ name: string; containerPort: number }>;
  return typeof targetPort === 'number' ? targetPort : ports.find((p) => p.name === targetPort)?.containerPort;
}

/**
 * Argo Rollouts' verdict on one measurement: successCondition, failureCondition, or neither
 * (Inconclusive). The chart writes its conditions in the part of expr that is also JavaScript
 * (len, isNaN, &&, comparisons), so they are evaluated here as written.
 */
function verdict(metric: any, result: number[]): 'Successful' | 'Failed' | 'Inconclusive' {
  const evaluate = (condition: string) => {
    expect(condition).toMatch(/^[\w\s.()[\]!&|<>=]+$/); // nothing beyond that subset
    // eslint-disable-next-line no-new-func
    return new Function('result', 'len', 'isNaN', `return (${condition});`)(result, (a: unknown[]) => a.length, Number.isNaN) as boolean;
  };
  if (evaluate(metric.failureCondition)) return 'Failed';
  if (evaluate(metric.successCondition)) return 'Successful';
  return 'Inconclusive';
}

/** Is `cidr` an address or CIDR inside the private ranges (10/8, 172.16/12, 192.168/16)? */
function isPrivateRange(cidr: string): boolean {
  const [address, bits = '32'] = cidr.split('/');
  if (isIP(address!) !== 4 || !/^\d+$/.test(bits) || Number(bits) > 32) return false;
  const [a, b] = address!.split('.').map(Number);
  if (a === 10) return Number(bits) >= 8;
  if (a === 172 && b! >= 16 && b! <= 31) return Number(bits) >= 12;
  if (a === 192 && b === 168) return Number(bits) >= 16;
  return false;
}


// The first run on a machine builds the tool from its Go module: allow it the time.
beforeAll(() => {
  helmPath();
}, 15 * 60_000);

describe.each(TARGETS)('charts/cryptocare for $name', ({ env, region }) => {
  const files = valuesFiles(APP_CHART, env, region);
  let objs: K8sObject[];
  let platform: K8sObject[];
  // global.dependencies.redis as the values files layer it (the region's file wins)
  const redisDependency = [join(APP_CHART, 'values.yaml'), ...files]
    .map((f) => parse(readFileSync(f, 'utf8'))?.global?.dependencies?.redis)
    .filter(Boolean)
    .pop();

  beforeAll(() => {
    objs = render(APP_CHART, files);
    platform = render(PLATFORM_CHART, valuesFiles(PLATFORM_CHART, env, region), { namespace: 'cryptocare-platform', release: 'cryptocare-platform' });
  });

  test('helm lint --strict passes', () => {
    const r = helmLint(APP_CHART, files);
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  test('every rendered object validates against its Kubernetes or CRD schema', () => {
    expect(objs.length).toBeGreaterThan(40);
    expect(validateAll(objs)).toEqual([]);
  });

  test('one Argo Rollout per service, canary with setWeight/pause steps and background analysis', () => {
    const rollouts = byKind(objs, 'Rollout');
    expect(rollouts.map((r) => r.metadata.name).sort()).toEqual([...names].sort());
    expect(byKind(objs, 'Deployment')).toEqual([]);
    const templates = byKind(objs, 'AnalysisTemplate');
    for (const r of rollouts) {
      const canary = r.spec.strategy.canary;
      expect(canary.steps.some((s: any) => typeof s.setWeight === 'number')).toBe(true);
      expect(canary.steps.some((s: any) => s.pause)).toBe(true);
      expect(canary.maxUnavailable).toBe(0);
      const refs = canary.analysis.templates.map((t: any) => t.templateName);
      for (const ref of refs) expect(templates.map((t) => t.metadata.name)).toContain(ref);
      const hashArg = canary.analysis.args.find((a: any) => a.name === 'canary-hash');
      expect(hashArg.valueFrom.podTemplateHashValue).toBe('Latest');
      // KEDA owns the replica count
      expect(r.spec.replicas).toBeUndefined();
    }
  });

  test('the AnalysisTemplates judge the canary on Prometheus success rate and p95 latency', () => {
    const templates = byKind(objs, 'AnalysisTemplate');
    expect(templates.length).toBeGreaterThanOrEqual(2);
    for (const t of templates) {
      const metrics = Object.fromEntries(t.spec.metrics.map((m: any) => [m.name, m]));
      expect(Object.keys(metrics).sort()).toEqual(['latency-p95', 'success-rate']);
      for (const m of t.spec.metrics) {
        expect(m.provider.prometheus.address).toMatch(/^https?:\/\//);
        expect(m.provider.prometheus.query).toContain('rollouts_pod_template_hash="{{args.canary-hash}}"');
        expect(m.successCondition).toBeTruthy();
      }
      expect(metrics['success-rate'].successCondition).toMatch(/>= 0\.99/);
      expect(metrics['latency-p95'].provider.prometheus.query).toContain('histogram_quantile(0.95');
      expect(metrics['latency-p95'].successCondition).toContain(`<= ${SLO.p95AlertSeconds}`);
    }
  });

  test('no traffic is no verdict: an empty or NaN result is Inconclusive, never a pass', () => {
    for (const t of byKind(objs, 'AnalysisTemplate')) {
      const metrics = Object.fromEntries(t.spec.metrics.map((m: any) => [m.name, m]));
      const rate = metrics['success-rate'];
      const p95 = metrics['latency-p95'];
      for (const m of [rate, p95]) {
        // Prometheus returns nothing when the canary has no series, NaN for 0/0 (no requests in the window)
        expect({ metric: m.name, empty: verdict(m, []), nan: verdict(m, [NaN]) }).toEqual({ metric: m.name, empty: 'Inconclusive', nan: 'Inconclusive' });
        // ... and the query returns nothing below a minimum of requests (too few to judge)
        expect(m.provider.prometheus.query).toMatch(/and on\(\) \(sum\(increase\([a-z_]+_count\{[^\n]*rollouts_pod_template_hash="\{\{args\.canary-hash\}\}"\}\[\w+\]\)\) >= [1-9]\d*\)/);
        // an Inconclusive measurement pauses the rollout for a person once past the limit
        expect(m.inconclusiveLimit).toBeGreaterThanOrEqual(0);
      }
      expect(verdict(rate, [0.999])).toBe('Successful');
      expect(verdict(rate, [0.99])).toBe('Failed');
      expect(verdict(rate, [0])).toBe('Failed');
      expect(verdict(p95, [0.2])).toBe('Successful');
      expect(verdict(p95, [SLO.p95AlertSeconds + 0.1])).toBe('Failed');
    }
  });

  test('every workload has requests and limits, probes, and a restricted, non-root security context', () => {
    for (const w of objs.filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
      const spec = podSpec(w);
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.hostNetwork ?? false).toBe(false);
      for (const c of spec.containers) {
        const where = `${w.metadata.name}/${c.name}`;
        for (const kind of ['requests', 'limits']) {
          expect({ where, kind, cpu: c.resources?.[kind]?.cpu }).toEqual({ where, kind, cpu: expect.anything() });
          expect({ where, kind, memory: c.resources?.[kind]?.memory }).toEqual({ where, kind, memory: expect.anything() });
        }
        expect(c.startupProbe).toBeDefined();
        expect(c.readinessProbe).toBeDefined();
        expect(c.livenessProbe).toBeDefined();
        const sc = c.securityContext;
        expect(sc.allowPrivilegeEscalation).toBe(false);
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(sc.runAsNonRoot).toBe(true);
        expect(sc.capabilities.drop).toEqual(['ALL']);
        expect(sc.privileged ?? false).toBe(false);
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        expect(spec.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
      }
    }
  });

  test('gRPC servers are probed with gRPC health, the gateway over HTTP on its ops port; liveness on the ops port', () => {
    for (const name of names) {
      const rollout = find(objs, 'Rollout', name)!;
      const c = podSpec(rollout).containers[0];
      const svc = contractOf(name);
      if (svc.grpcPort) {
        expect(c.readinessProbe.grpc.port).toBe(svc.grpcPort);
        expect(c.startupProbe.grpc.port).toBe(svc.grpcPort);
      } else {
        for (const probe of [c.readinessProbe, c.startupProbe]) expect(probe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
      }
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
      expect({ name, ops: containerPortOf(rollout, 'ops') }).toEqual({ name, ops: svc.opsPort });
    }
  });

  test('pods spread across zones and nodes', () => {
    for (const name of names) {
      const spread = podSpec(find(objs, 'Rollout', name)!).topologySpreadConstraints;
      expect(spread.map((t: any) => t.topologyKey)).toEqual(expect.arrayContaining(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']));
    }
  });

  test('every workload has a PodDisruptionBudget that selects its pods', () => {
    for (const w of objs.filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
      const labels = w.spec.template.metadata.labels;
      const pdbs = byKind(objs, 'PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, labels));
      expect({ workload: w.metadata.name, pdbs: pdbs.length }).toEqual({ workload: w.metadata.name, pdbs: 1 });
      const pdb = must(pdbs[0], `a PodDisruptionBudget for ${w.metadata.name}`);
      expect(pdb.spec.maxUnavailable ?? pdb.spec.minAvailable).toBeDefined();
      // At the fewest replicas KEDA may leave, a drain can evict a pod (not blocked forever) and
      // never the last one (not an outage).
      const floor = byKind(objs, 'ScaledObject').find((s) => s.spec.scaleTargetRef.name === w.metadata.name)!.spec.minReplicaCount;
      const evictable = pdb.spec.maxUnavailable !== undefined ? Math.min(pdb.spec.maxUnavailable, floor) : floor - pdb.spec.minAvailable;
      expect({ workload: w.metadata.name, floor, evictable: evictable >= 1, keeps: floor - evictable >= 1 })
        .toEqual({ workload: w.metadata.name, floor, evictable: true, keeps: true });
    }
  });

  test('one KEDA ScaledObject per workload: cpu at 70 %, Kafka lag for each consumer group, never an HPA', () => {
    expect(byKind(objs, 'HorizontalPodAutoscaler')).toEqual([]);
    const partitions = topicPartitions(platform);
    for (const name of names) {
      const rollout = find(objs, 'Rollout', name)!;
      const so = byKind(objs, 'ScaledObject').filter((s) => s.spec.scaleTargetRef.name === name);
      expect(so).toHaveLength(1);
      const spec = must(so[0], `a ScaledObject for ${name}`).spec;
      expect(spec.scaleTargetRef).toEqual({ apiVersion: rollout.apiVersion, kind: 'Rollout', name });
      const cpu = spec.triggers.filter((t: any) => t.type === 'cpu');
      expect(cpu).toHaveLength(1);
      expect(cpu[0].metricType).toBe('Utilization');
      expect(cpu[0].metadata.value).toBe(String(SLO.cpuScaleAt));
      expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(spec.maxReplicaCount).toBeGreaterThanOrEqual(spec.minReplicaCount);

      const kafka = spec.triggers.filter((t: any) => t.type === 'kafka');
      // The groups and topics of files/consumers.json, the list the code subscribes from
      // (consumers.test.ts holds the code to it); none for the gateway's per-replica SSE groups.
      const groups = consumerGroups()[name] ?? {};
      const expected = Object.entries(groups).flatMap(([g, topics]) => topics.map((t) => `${g}/${t}`)).sort();
      expect({ name, triggers: kafka.map((t: any) => `${t.metadata.consumerGroup}/${t.metadata.topic}`).sort() }).toEqual({ name, triggers: expected });
      for (const t of kafka) {
        expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
        expect(Number(t.metadata.activationLagThreshold)).toBeGreaterThanOrEqual(0);
        expect(t.metadata.bootstrapServers).toMatch(/:\d+$/);
        // never more consumers than the topic has partitions (as created by k8s/platform; a topic it
        // does not create has none)
        expect({ name, topic: t.metadata.topic, max: spec.maxReplicaCount <= (partitions[t.metadata.topic] ?? 0) })
          .toEqual({ name, topic: t.metadata.topic, max: true });
      }
    }
  });

  test('Services: ClusterIP per service, a headless one per gRPC server, ports of the runtime contract', () => {
    for (const name of names) {
      const svc = find(objs, 'Service', name)!;
      const contract = contractOf(name);
      const rollout = find(objs, 'Rollout', name)!;
      if (contract.opsPort === contract.httpPort) {
        expect(svc.spec.ports.find((p: any) => p.name === 'ops').port).toBe(contract.opsPort);
        expect(find(objs, 'Service', `${name}-ops`)).toBeUndefined();
      } else {
        // the gateway: the API alone on <name>; /metrics and /readyz on <name>-ops
        expect(svc.spec.ports.map((p: any) => [p.name, p.port, containerPortOf(rollout, p.targetPort)])).toEqual([['http', contract.httpPort, contract.httpPort]]);
        const ops = find(objs, 'Service', `${name}-ops`)!;
        expect(ops.spec.ports.map((p: any) => [p.name, p.port, containerPortOf(rollout, p.targetPort)])).toEqual([['ops', contract.opsPort, contract.opsPort]]);
        expect(ops.spec.selector).toEqual(svc.spec.selector);
      }
      if (contract.grpcPort) {
        const headless = find(objs, 'Service', `${name}-headless`)!;
        expect(headless.spec.clusterIP).toBe('None');
        expect(headless.spec.ports).toEqual([expect.objectContaining({ name: 'grpc', port: contract.grpcPort })]);
        expect(headless.spec.selector).toEqual(svc.spec.selector);
      } else {
        expect(find(objs, 'Service', `${name}-headless`)).toBeUndefined();
      }
    }
  });

  test('data region: every service serves this cluster\'s region; the gateway sends other regions\' users to their own API', () => {
    for (const name of names) {
      expect({ name, DATA_REGION: find(objs, 'ConfigMap', `${name}-config`)!.data!.DATA_REGION }).toEqual({ name, DATA_REGION: region.toUpperCase() });
    }
    // Each region's gateway.host, as its values files layer it (the region's file wins).
    const hostOf = (r: string) =>
      [join(APP_CHART, 'values.yaml'), ...valuesFiles(APP_CHART, env, r)]
        .map((f) => parse(readFileSync(f, 'utf8'))?.global?.gateway?.host as string | undefined)
        .filter(Boolean)
        .pop();
    const rendered = find(objs, 'ConfigMap', 'gateway-config')!.data!.REGION_BASE_URLS!;
    const urls = Object.fromEntries(rendered.split(',').map((e) => e.split('=') as [string, string]));
    expect(urls).toEqual({ CH: `https://${hostOf('ch')}`, EU: `https://${hostOf('eu')}` });
  });

  test('ConfigMaps carry the runtime contract: ports, listen address, dns:///<svc>-headless targets', () => {
    for (const name of names) {
      const cm = find(objs, 'ConfigMap', `${name}-config`)!;
      const contract = contractOf(name);
      expect(cm.data!.HTTP_PORT).toBe(String(contract.httpPort));
      expect(cm.data!.NODE_ENV).toBe('production');
      // every listener on all interfaces of the pod, set explicitly (not left to a default)
      for (const v of contract.listenHosts) expect({ name, [v]: cm.data![v] }).toEqual({ name, [v]: '0.0.0.0' });
      if (contract.grpcPort) {
        expect(cm.data!.GRPC_PORT).toBe(String(contract.grpcPort));
      }
      if (contract.opsPort !== contract.httpPort) expect(cm.data!.OPS_PORT).toBe(String(contract.opsPort));
      for (const other of grpcServices) {
        expect(cm.data![`${other.toUpperCase()}_ADDR`]).toBe(`dns:///${other}-headless:${contractOf(other).grpcPort}`);
      }
      const rollout = find(objs, 'Rollout', name)!;
      const envFrom = podSpec(rollout).containers[0].envFrom;
      expect(envFrom[0].configMapRef.name).toBe(`${name}-config`);
      expect(envFrom.slice(1).every((e: any) => e.secretRef?.name)).toBe(true);
    }
  });

  test('no secret value in any rendered manifest', () => {
    expect(byKind(objs, 'Secret')).toEqual([]);
    const text = JSON.stringify(objs);
    expect(text).not.toMatch(/[a-z][a-z0-9+.-]*:\/\/[^\s/:@"]+:[^\s/@"]+@/i); // credentials in a URL
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    for (const cm of byKind(objs, 'ConfigMap')) {
      for (const key of Object.keys(cm.data ?? {})) expect({ cm: cm.metadata.name, key, secret: SECRET_KEYS.includes(key) }).toEqual({ cm: cm.metadata.name, key, secret: false });
    }
    const containers = objs.flatMap((o) => o.spec?.template?.spec?.containers ?? []);
    for (const c of containers) {
      for (const e of c.env ?? []) {
        if (SECRET_KEYS.includes(e.name) || /SECRET|PASSWORD|TOKEN|API_KEY/.test(e.name)) {
          expect({ name: e.name, value: e.value }).toEqual({ name: e.name, value: undefined });
          expect(e.valueFrom?.secretKeyRef).toBeDefined();
        }
      }
    }
  });

  test('network policies deny by default; each service accepts only its callers', () => {
    const policies = byKind(objs, 'NetworkPolicy');
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 || Object.keys(p.spec.podSelector.matchLabels ?? {}).length === 0)!;
    expect(deny).toBeDefined();
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.spec.ingress ?? []).toEqual([]);
    expect(deny.spec.egress ?? []).toEqual([]);

    for (const name of names) {
      const labels = find(objs, 'Rollout', name)!.spec.template.metadata.labels;
      const mine = policies.filter((p) => p !== deny && matches(p.spec.podSelector.matchLabels ?? {}, labels));
      expect(mine).toHaveLength(1);
      const np = must(mine[0], `a NetworkPolicy for ${name}`);
      expect(np.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
      const contract = contractOf(name);
      const podPeers = np.spec.ingress.flatMap((r: any) => r.from).filter((f: any) => f.podSelector && !f.namespaceSelector);
      const callers = podPeers.map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/name']).sort();
      expect(callers).toEqual([...contract.callers].sort());
      // the ports a caller may reach are the gRPC port only
      for (const rule of np.spec.ingress.filter((r: any) => r.from.some((f: any) => f.podSelector && !f.namespaceSelector))) {
        expect(rule.ports.map((p: any) => p.port)).toEqual([contract.grpcPort]);
      }
      // from other namespaces: monitoring on the HTTP port; the gateway also from the Envoy proxies
      const nsRules = np.spec.ingress.filter((r: any) => r.from.some((f: any) => f.namespaceSelector));
      const nsNames = nsRules.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])).sort();
      expect(nsNames).toEqual(name === 'gateway' ? [EDGE_NAMESPACE, 'monitoring'].sort() : ['monitoring']);
      const portsFrom = (ns: string) => nsRules.filter((r: any) => r.from.some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === ns)).flatMap((r: any) => r.ports.map((p: any) => p.port));
      // Prometheus on the ops port only; the proxies on the public port only
      expect({ name, monitoring: portsFrom('monitoring') }).toEqual({ name, monitoring: [contract.opsPort] });
      if (name === 'gateway') {
        expect(portsFrom(EDGE_NAMESPACE)).toEqual([contract.httpPort]);
        // ... and only the proxies of this chart's Gateway, not every pod of Envoy Gateway's namespace
        const gw = must(byKind(objs, 'Gateway')[0], 'a Gateway');
        const peer = nsRules.flatMap((r: any) => r.from).find((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === EDGE_NAMESPACE);
        expect(peer.podSelector.matchLabels).toEqual({
          'app.kubernetes.io/component': 'proxy',
          'app.kubernetes.io/managed-by': 'envoy-gateway',
          'gateway.envoyproxy.io/owning-gateway-name': gw.metadata.name,
          'gateway.envoyproxy.io/owning-gateway-namespace': 'cryptocare',
        });
      }
      expect(np.spec.ingress.flatMap((r: any) => r.from).some((f: any) => f.ipBlock)).toBe(false);
      // egress: the internet (HTTPS) only for the services that call providers
      const internet = np.spec.egress.some((r: any) => r.to.some((t: any) => t.ipBlock?.cidr === '0.0.0.0/0'));
      expect({ name, internet }).toEqual({ name, internet: contract.internet });
      // egress to Redis only for the services that use it (its port, whatever the region's peers are)
      const redis = np.spec.egress.some((r: any) => JSON.stringify([r.to, r.ports]) === JSON.stringify([redisDependency.to, redisDependency.ports]));
      expect({ name, redis }).toEqual({ name, redis: contract.redis });
      // egress to every service it calls, on its gRPC port
      for (const callee of grpcServices.filter((s) => contractOf(s).callers.includes(name))) {
        const rule = np.spec.egress.find((r: any) => r.to.some((t: any) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] === callee));
        expect(rule?.ports.map((p: any) => p.port)).toEqual([contractOf(callee).grpcPort]);
      }
    }
  });

  test('the edge is the Gateway API: one Gateway with an HTTPS listener cert-manager certifies, no Ingress', () => {
    expect(byKind(objs, 'Ingress')).toEqual([]);
    const gateways = byKind(objs, 'Gateway');
    expect(gateways).toHaveLength(1);
    const gw = must(gateways[0], 'a Gateway');
    // the GatewayClass k8s/platform renders for Envoy Gateway
    const classes = byKind(platform, 'GatewayClass');
    expect(classes.map((c) => c.metadata.name)).toEqual([gw.spec.gatewayClassName]);
    expect(classes[0]!.spec.controllerName).toBe('gateway.envoyproxy.io/gatewayclass-controller');
    const listeners = Object.fromEntries(gw.spec.listeners.map((l: any) => [l.name, l]));
    expect(Object.keys(listeners).sort()).toEqual(['http', 'https']);
    expect(listeners.https).toMatchObject({ protocol: 'HTTPS', port: 443, tls: { mode: 'Terminate' } });
    expect(listeners.http).toMatchObject({ protocol: 'HTTP', port: 80 });
    const host = `api.${env === 'staging' ? 'staging.' : ''}cryptocare.${region}`;
    for (const l of gw.spec.listeners) expect({ listener: l.name, hostname: l.hostname }).toEqual({ listener: l.name, hostname: host });
    expect(listeners.https.tls.certificateRefs).toEqual([{ group: '', kind: 'Secret', name: 'cryptocare-gateway-tls' }]);
    expect(gw.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
    for (const svc of byKind(objs, 'Service')) expect(['ClusterIP', undefined]).toContain(svc.spec.type);
  });

  test('one HTTPRoute to the public API port only: /metrics and /readyz (the ops port) are not routed', () => {
    const gw = must(byKind(objs, 'Gateway')[0], 'a Gateway');
    const gateway = find(objs, 'Rollout', 'gateway')!;
    const contract = contractOf('gateway');
    const routes = byKind(objs, 'HTTPRoute');
    const withBackends = routes.filter((r) => r.spec.rules.some((rule: any) => rule.backendRefs?.length));
    expect(withBackends.map((r) => r.metadata.name)).toEqual(['gateway']);
    const route = withBackends[0]!;
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, sectionName: 'https' }]);
    expect(route.spec.hostnames).toEqual([gw.spec.listeners[0].hostname]);
    const backends = route.spec.rules.flatMap((rule: any) => rule.backendRefs);
    expect(new Set(backends.map((b: any) => b.name))).toEqual(new Set(['gateway', 'gateway-canary']));
    for (const backend of backends) {
      expect(backend.kind).toBe('Service');
      const svc = must(find(objs, 'Service', backend.name), `the Service ${backend.name} of the HTTPRoute`);
      // every port of that Service leads to the public port: no port name or number reaches ops
      expect(svc.spec.ports.map((p: any) => containerPortOf(gateway, p.targetPort))).toEqual([contract.httpPort]);
      const port = must(svc.spec.ports.find((p: any) => p.port === backend.port), `port ${backend.port} of ${backend.name}`);
      expect(containerPortOf(gateway, port.targetPort)).toBe(contract.httpPort);
      expect(svc.metadata.labels?.['cryptocare.io/metrics']).toBeUndefined();
      expect(svc.spec.selector).toEqual(find(objs, 'Service', 'gateway')!.spec.selector);
    }
    // the redirect route on :80 has no backend at all
    const redirect = must(routes.find((r) => r !== route), 'the redirect route');
    expect(redirect.spec.parentRefs[0].sectionName).toBe('http');
    expect(redirect.spec.rules).toEqual([expect.objectContaining({ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] })]);
    expect(redirect.spec.rules[0].backendRefs).toBeUndefined();
    expect(contract.opsPort).not.toBe(contract.httpPort);
    expect(find(objs, 'ConfigMap', 'gateway-config')!.data!.OPS_PORT).toBe(String(contract.opsPort));
  });

  test('event streams are never cut by a route timeout; the rest of the API has a bounded one', () => {
    const route = find(objs, 'HTTPRoute', 'gateway')!;
    const rules = Object.fromEntries(route.spec.rules.map((r: any) => [r.name, r]));
    const streams = rules['event-streams'];
    const streamPattern = new RegExp(streams.matches[0].path.value);
    expect(streams.matches.map((m: any) => m.path.type)).toEqual(['RegularExpression']);
    expect(streamPattern.test('/v1/appointments/4f7c2b9e-0000-4000-8000-000000000001/events')).toBe(true);
    expect(streamPattern.test('/v1/appointments/4f7c2b9e/stream-ticket')).toBe(false);
    // "0s": no bound (Envoy's own default is 15 s, which would end every stream)
    expect(streams.timeouts).toEqual({ request: '0s' });
    // Envoy Gateway orders RegularExpression before PathPrefix matches, so streams take their rule
    expect(rules.api.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    const seconds = (d: string) => Number(d.replace(/s$/, ''));
    // above the gateway's own REQUEST_TIMEOUT_MS (30 s): the gateway's 504 with its error body comes first
    expect(seconds(rules.api.timeouts.request)).toBeGreaterThan(30);
    // an idle stream ends after minutes (the gateway's keep-alive every 15 s keeps a live one open)
    const ctp = must(byKind(objs, 'ClientTrafficPolicy')[0], 'a ClientTrafficPolicy');
    expect(ctp.spec.timeout.http.streamIdleTimeout).toMatch(/^[1-9][0-9]*m$/);
  });

  test('the gateway\'s canary is weighted on the HTTPRoute by Argo Rollouts\' Gateway API plugin', () => {
    const rollout = find(objs, 'Rollout', 'gateway')!;
    const canary = rollout.spec.strategy.canary;
    expect(canary.stableService).toBe('gateway');
    expect(canary.canaryService).toBe('gateway-canary');
    expect(canary.trafficRouting.plugins).toEqual({ 'argoproj-labs/gatewayAPI': { httpRoute: 'gateway', namespace: 'cryptocare' } });
    // the route the plugin weighs exists and every rule splits between exactly these two Services,
    // all traffic on the stable one until a canary starts
    const route = find(objs, 'HTTPRoute', canary.trafficRouting.plugins['argoproj-labs/gatewayAPI'].httpRoute)!;
    for (const rule of route.spec.rules) {
      expect(rule.backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['gateway', 100], ['gateway-canary', 0]]);
    }
    // both Services select the Rollout's pods (Argo Rollouts narrows them by pod-template hash)
    for (const name of ['gateway', 'gateway-canary']) expect(find(objs, 'Service', name)!.spec.selector).toEqual(rollout.spec.selector.matchLabels);
    // the gRPC backends keep replica-weighted canaries (client-side balancing: nothing to weigh)
    for (const name of grpcServices) expect(find(objs, 'Rollout', name)!.spec.strategy.canary.trafficRouting).toBeUndefined();
  });

  test('cert-manager\'s HTTP-01 solver pods are reachable from the Gateway\'s proxies only, on the solver port (default deny otherwise)', () => {
    const gatewayPolicy = find(objs, 'NetworkPolicy', 'gateway')!;
    const proxies = gatewayPolicy.spec.ingress.find((r: any) => r.from.some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === EDGE_NAMESPACE)).from;
    const solver = must(find(objs, 'NetworkPolicy', 'acme-http01-solver'), 'the solver policy');
    expect(solver.spec.podSelector).toEqual({ matchLabels: { 'acme.cert-manager.io/http01-solver': 'true' } });
    expect(solver.spec.ingress).toEqual([{ from: proxies, ports: [{ port: 8089, protocol: 'TCP' }] }]);
    expect(solver.spec.egress).toBeUndefined();
    expect(solver.spec.policyTypes).toEqual(['Ingress']);
  });

  test('the proxies take the client address from the connection, never from a client\'s X-Forwarded-For', () => {
    const ctp = must(byKind(objs, 'ClientTrafficPolicy')[0], 'a ClientTrafficPolicy');
    const gw = must(byKind(objs, 'Gateway')[0], 'a Gateway');
    expect(ctp.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name }]);
    expect(ctp.spec.clientIPDetection).toEqual({ xForwardedFor: { numTrustedHops: 0 } });
    expect(ctp.spec.headers.requestID).toBe('Generate');
    // the load balancer in front either keeps the address (AWS NLB) or sends it in a PROXY protocol
    // header that the listener then requires (DigitalOcean): the two settings go together
    const proxy = must(byKind(objs, 'EnvoyProxy')[0], 'an EnvoyProxy');
    expect(gw.spec.infrastructure.parametersRef).toEqual({ group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: proxy.metadata.name });
    const service = proxy.spec.provider.kubernetes.envoyService;
    expect(service).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    if (region === 'eu') {
      expect(service.annotations['service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol']).toBe('true');
      expect(ctp.spec.proxyProtocol).toEqual({ optional: false });
    } else {
      expect(service.annotations['service.beta.kubernetes.io/aws-load-balancer-type']).toBe('nlb');
      expect(ctp.spec.proxyProtocol).toBeUndefined();
    }
    expect(proxy.spec.provider.kubernetes.envoyDeployment.replicas).toBeGreaterThanOrEqual(2);
    expect(proxy.spec.provider.kubernetes.envoyPDB).toEqual({ minAvailable: 1 });
  });

  test('the gateway sheds load: a bound on requests in flight and on event-loop delay, per replica', () => {
    const data = find(objs, 'ConfigMap', 'gateway-config')!.data!;
    expect(Number(data.MAX_IN_FLIGHT)).toBeGreaterThan(0);
    expect(Number.isInteger(Number(data.MAX_IN_FLIGHT))).toBe(true);
    expect(Number(data.MAX_EVENT_LOOP_DELAY_MS)).toBeGreaterThan(0);
  });

  test('the gateway believes X-Forwarded-For only from the Envoy proxies\' pod network: private CIDRs, never everyone', () => {
    const proxies = find(objs, 'ConfigMap', 'gateway-config')!.data!.TRUSTED_PROXIES!.split(',').filter(Boolean);
    expect(proxies.length).toBeGreaterThan(0);
    for (const p of proxies) expect({ p, private: isPrivateRange(p) }).toEqual({ p, private: true });
  });

  test('migrations run as pre-install/pre-upgrade Jobs with a direct database URL from a Secret', () => {
    const jobs = byKind(objs, 'Job');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(names.filter((n) => contractOf(n).migrations).map((n) => `${n}-migrate`).sort());
    for (const job of jobs) {
      expect(job.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      const spec = job.spec.template.spec;
      const c = spec.containers[0];
      expect(c.command).toBeUndefined(); // keep the image's tini entrypoint
      expect(c.args).toEqual(['node', 'dist/migrate.js']);
      expect(c.env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.key).toBeTruthy();
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.restartPolicy).toBe('Never');
      expect(c.resources.limits).toBeDefined();
    }
    for (const name of names) {
      expect(podSpec(find(objs, 'Rollout', name)!).containers[0].args).toEqual(['node', 'dist/main.js']);
    }
  });

  test('ServiceMonitor scrapes every service; PrometheusRule holds the SLO alerts', () => {
    const sm = byKind(objs, 'ServiceMonitor');
    expect(sm).toHaveLength(1);
    const monitor = must(sm[0], 'a ServiceMonitor');
    // each service is scraped once, on a Service port that leads to its ops port
    for (const name of names) {
      const scraped = byKind(objs, 'Service').filter((s) => matches(monitor.spec.selector.matchLabels, s.metadata.labels) && s.metadata.labels?.['app.kubernetes.io/name'] === name);
      expect({ name, scraped: scraped.length }).toEqual({ name, scraped: 1 });
      const endpointPorts = monitor.spec.endpoints.map((e: any) => e.port);
      const port = scraped[0]!.spec.ports.find((p: any) => endpointPorts.includes(p.name));
      expect({ name, scrapes: containerPortOf(find(objs, 'Rollout', name)!, must(port, `a scraped port on ${name}`).targetPort) }).toEqual({ name, scrapes: contractOf(name).opsPort });
    }
    // series carry service="<name>" whichever Service they were scraped through (gateway-ops)
    for (const e of monitor.spec.endpoints) {
      expect(e.relabelings).toContainEqual(expect.objectContaining({ sourceLabels: ['__meta_kubernetes_service_label_app_kubernetes_io_name'], targetLabel: 'service' }));
    }
    expect(monitor.spec.podTargetLabels).toContain('rollouts-pod-template-hash');

    const rules = byKind(objs, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules));
    const alert = (name: string) => rules.find((r: any) => r.alert === name);
    expect(alert('CryptoCareApiLatencyP95High').expr).toMatch(/histogram_quantile\(0\.95[\s\S]*> 0\.4\b/);
    expect(alert('CryptoCareRpcLatencyP95High').expr).toMatch(/> 0\.4\b/);
    expect(alert('CryptoCareApiErrorRateHigh').expr).toContain(`> ${SLO.errorRatioAlert}`);
    expect(alert('CryptoCareRpcErrorRateHigh').expr).toContain(`> ${SLO.errorRatioAlert}`);
    expect(alert('CryptoCareConsumerLagHigh').expr).toContain('kafka_consumergroup_lag');
    expect(alert('CryptoCareOutboxBacklogHigh')).toBeDefined();
    // Alerts carry a severity; recording rules (files/alerts) do not.
    for (const r of rules.filter((x: any) => x.alert)) expect(r.labels.severity).toMatch(/^(warning|critical)$/);
  });
});

describe('charts/cryptocare guards and options', () => {
  const files = valuesFiles(APP_CHART, 'staging', 'ch');

  test('a contract secret given as a plain value fails the render', () => {
    const r = helmTemplate(APP_CHART, files, { set: ['services.payment.env.SBP_API_SECRET=not-here'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('SBP_API_SECRET is a secret of the runtime contract');
  });

  test('a consumer allowed to scale above its topics\' partitions fails the render', () => {
    const r = helmTemplate(APP_CHART, files, { set: ['services.video.autoscaling.maxReplicas=7'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/above the 6 partitions/);
  });

  test('outside dev, a service at one replica fails the render (its PodDisruptionBudget could not both allow a drain and keep a pod)', () => {
    for (const pdb of ['maxUnavailable=1', 'minAvailable=1']) {
      const r = helmTemplate(APP_CHART, files, { set: ['services.search.autoscaling.minReplicas=1', `services.search.pdb.${pdb}`] });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/services\.search: at 1 replica\(s\) its PodDisruptionBudget .* either lets a drain take the last pod or blocks drains forever/);
    }
    const blocking = helmTemplate(APP_CHART, files, { set: ['services.search.pdb.maxUnavailable=0'] });
    expect(blocking.status).not.toBe(0);
  });

  test('the consumed topics are not values: services.<svc>.kafka.topics and consumerGroup are refused', () => {
    for (const key of ['topics={identity.events.v1}', 'consumerGroup=video']) {
      const r = helmTemplate(APP_CHART, files, { set: [`services.video.kafka.${key}`] });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/additional properties '(topics|consumerGroup)' not allowed/);
    }
  });

  test('trustedProxies takes addresses and CIDRs, never a whole address space', () => {
    const ok = render(APP_CHART, files, { set: ['services.gateway.trustedProxies={10.244.0.0/16,192.168.1.7,fd00::/8}'] });
    expect(find(ok, 'ConfigMap', 'gateway-config')!.data!.TRUSTED_PROXIES).toBe('10.244.0.0/16,192.168.1.7,fd00::/8');
    for (const bad of ['0.0.0.0/0', '::/0', 'ingress-nginx', '10.0.0.0/33']) {
      const r = helmTemplate(APP_CHART, files, { set: [`services.gateway.trustedProxies={${bad}}`] });
      expect({ bad, status: r.status === 0 ? 'rendered' : 'refused' }).toEqual({ bad, status: 'refused' });
    }
    const none = render(APP_CHART, files, { set: ['services.gateway.trustedProxies=null'] });
    expect(find(none, 'ConfigMap', 'gateway-config')!.data!.TRUSTED_PROXIES).toBe('');
  });

  test('a public service without a separate ops port fails the render (its /metrics would be behind the Gateway)', () => {
    const r = helmTemplate(APP_CHART, files, { set: ['services.gateway.ports.ops=null'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("at '/services/gateway/ports': missing property 'ops'");
  });

  test('a service whose code reads REDIS_URL is one the contract lets reach Redis', () => {
    for (const name of names) {
      const dir = join(ROOT, 'services', name, 'src');
      const files = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('generated'));
      const readsRedis = files.some((e) => readFileSync(join(e.parentPath, e.name), 'utf8').includes('REDIS_URL'));
      if (readsRedis) expect({ name, redis: contractOf(name).redis }).toEqual({ name, redis: true });
    }
  });

  test('no Ingress and no ingress-nginx anywhere: the retired controller is neither installed nor targeted', () => {
    for (const files of [[join(APP_CHART, 'values-dev.yaml')], valuesFiles(APP_CHART, 'staging', 'ch'), valuesFiles(APP_CHART, 'production', 'eu')]) {
      const objs = render(APP_CHART, files);
      expect(objs.filter((o) => o.kind === 'Ingress' || o.kind === 'IngressClass')).toEqual([]);
      expect(JSON.stringify(objs)).not.toMatch(/ingress-nginx|nginx\.ingress/);
    }
    const operators = join(ROOT, 'k8s/operators');
    const installed = [readFileSync(join(operators, 'install.sh'), 'utf8'), readFileSync(join(operators, 'versions.env'), 'utf8'), ...readdirSync(join(operators, 'values'))].join('\n');
    expect(installed).not.toMatch(/ingress-nginx\/|INGRESS_NGINX|ingress-nginx\.yaml/);
    // the old values key is refused, so a stale override fails loudly instead of doing nothing
    const stale = helmTemplate(APP_CHART, files, { set: ['global.ingress.enabled=true'] });
    expect(stale.status).not.toBe(0);
  });

  test('only one public service: a second one would claim the same host', () => {
    const r = helmTemplate(APP_CHART, files, { set: ['services.search.public=true', 'services.search.ports.ops=9190'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('one public service (the gateway) serves global.gateway.host');
  });

  test('without the Gateway or without Argo Rollouts, no canary Service and no traffic routing (replica-weighted canary or none)', () => {
    for (const set of ['global.gateway.enabled=false', 'global.rollouts.enabled=false']) {
      const objs = render(APP_CHART, files, { set: [set] });
      expect({ set, canary: find(objs, 'Service', 'gateway-canary') }).toEqual({ set, canary: undefined });
      const rollout = find(objs, 'Rollout', 'gateway');
      expect(rollout?.spec.strategy.canary.trafficRouting).toBeUndefined();
      for (const route of byKind(objs, 'HTTPRoute')) for (const rule of route.spec.rules) {
        for (const b of rule.backendRefs ?? []) expect(b.name).toBe('gateway');
      }
      expect(validateAll(objs)).toEqual([]);
    }
  });

  test('an unknown gRPC caller fails the render', () => {
    const r = helmTemplate(APP_CHART, files, { set: ['services.identity.grpc.callers={gateway,billing}'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown service billing');
  });

  test('values.schema.json rejects a misspelt service key and an unknown region', () => {
    const typo = helmTemplate(APP_CHART, files, { set: ['services.search.autoscalng.maxReplicas=3'] });
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toContain("additional properties 'autoscalng' not allowed");
    const region = helmTemplate(APP_CHART, files, { set: ['global.region=us'] });
    expect(region.status).not.toBe(0);
  });

  test('without Argo Rollouts the chart renders Deployments, still scaled by KEDA', () => {
    const objs = render(APP_CHART, files, { set: ['global.rollouts.enabled=false'] });
    expect(byKind(objs, 'Rollout')).toEqual([]);
    expect(byKind(objs, 'AnalysisTemplate')).toEqual([]);
    expect(byKind(objs, 'Deployment')).toHaveLength(names.length);
    for (const so of byKind(objs, 'ScaledObject')) expect(so.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
    expect(validateAll(objs)).toEqual([]);
  });

  test('the dev values render and validate (Deployments, fixed replicas, no operator objects)', () => {
    const lint = helmLint(APP_CHART, [join(APP_CHART, 'values-dev.yaml')]);
    expect(lint.status).toBe(0);
    const objs = render(APP_CHART, [join(APP_CHART, 'values-dev.yaml')]);
    expect(validateAll(objs)).toEqual([]);
    expect(byKind(objs, 'ScaledObject')).toEqual([]);
    expect(byKind(objs, 'HorizontalPodAutoscaler')).toEqual([]);
    for (const d of byKind(objs, 'Deployment')) expect(d.spec.replicas).toBe(1);
    expect(objs.some((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toBe(false);
  });

  test('an image digest pins the reference without breaking the version label', () => {
    const objs = render(APP_CHART, files, { set: ['services.gateway.image.tag=1.4.0+build.7', 'services.gateway.image.digest=sha256:0123abcd'] });
    const r = find(objs, 'Rollout', 'gateway')!;
    expect(podSpec(r).containers[0].image).toBe('ghcr.io/cryptocare/gateway:1.4.0+build.7@sha256:0123abcd');
    expect(r.metadata.labels!['app.kubernetes.io/version']).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(validateAll(objs)).toEqual([]);
  });

  test('every file in files/dashboards and files/alerts is included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cryptocare-chart-'));
    try {
      const chart = join(dir, 'cryptocare');
      cpSync(APP_CHART, chart, { recursive: true });
      writeFileSync(join(chart, 'files/dashboards/extra-test.json'), JSON.stringify({ title: 'Extra test', panels: [] }));
      writeFileSync(join(chart, 'files/alerts/payments.yaml'),
        'groups:\n  - name: payments\n    rules:\n      - alert: InvoiceConfirmationSlow\n        expr: histogram_quantile(0.95, sum by (le) (rate(invoice_confirmation_seconds_bucket[5m]))) > 5\n        for: 10m\n        labels: { severity: warning }\n        annotations: { summary: "{{ $labels.service }} confirms slowly" }\n');
      const objs = render(chart, valuesFiles(chart, 'staging', 'ch'));
      const dash = byKind(objs, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
      const shipped = readdirSync(join(APP_CHART, 'files/dashboards')).filter((f) => f.endsWith('.json'));
      expect(dash).toHaveLength(shipped.length + 1);
      const dashboard = must(find(objs, 'ConfigMap', 'cryptocare-dashboard-extra-test'), 'the extra dashboard ConfigMap');
      expect(JSON.parse(must(dashboard.data?.['extra-test.json'], 'extra-test.json in its ConfigMap')).title).toBe('Extra test');
      const extra = find(objs, 'PrometheusRule', 'cryptocare-payments')!;
      expect(extra.spec.groups[0].rules[0].annotations.summary).toBe('{{ $labels.service }} confirms slowly');
      expect(validateAll(objs)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
