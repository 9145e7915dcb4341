// k8s/: the platform chart (Strimzi Kafka, CloudNativePG + PgBouncer, Valkey, namespaces) for every
// environment and region, the operator installation, and its agreement with charts/cryptocare.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EDGE_NAMESPACE, TARGETS, TOPICS } from './lib/contract';
import { APP_CHART, K8sObject, PLATFORM_CHART, ROOT, byKind, find, helmLint, helmPath, must, parseManifests, render, valuesFiles } from './lib/tools';
import { validateAll } from './lib/validate';

const renderPlatform = (files: string[]) => render(PLATFORM_CHART, files, { namespace: 'cryptocare-platform', release: 'cryptocare-platform' });


// The first run on a machine builds the tool from its Go module: allow it the time.
beforeAll(() => {
  helmPath();
}, 15 * 60_000);

describe.each(TARGETS)('k8s/platform for $name', ({ env, region }) => {
  const files = valuesFiles(PLATFORM_CHART, env, region);
  let objs: K8sObject[];
  beforeAll(() => {
    objs = renderPlatform(files);
  });

  test('helm lint --strict passes', () => {
    const r = helmLint(PLATFORM_CHART, files);
    expect(r.status).toBe(0);
  });

  test('every rendered object validates (Kubernetes, CloudNativePG, prometheus-operator schemas; Strimzi and ObjectStore rules)', () => {
    expect(validateAll(objs)).toEqual([]);
  });

  test('Kafka in KRaft mode with 3 brokers, replicated topics, lag exporter', () => {
    const kafkas = byKind(objs, 'Kafka');
    expect(kafkas).toHaveLength(1);
    const kafka = must(kafkas[0], 'the Kafka cluster');
    expect(kafka.metadata.annotations).toMatchObject({ 'strimzi.io/kraft': 'enabled', 'strimzi.io/node-pools': 'enabled' });
    const pools = byKind(objs, 'KafkaNodePool');
    const brokers = pools.filter((p) => p.spec.roles.includes('broker')).reduce((n, p) => n + p.spec.replicas, 0);
    const controllers = pools.filter((p) => p.spec.roles.includes('controller')).reduce((n, p) => n + p.spec.replicas, 0);
    expect(brokers).toBe(3);
    expect(controllers % 2).toBe(1);
    const config = kafka.spec.kafka.config;
    expect(config['auto.create.topics.enable']).toBe(false);
    expect(config['min.insync.replicas']).toBe(2);
    expect(config['default.replication.factor']).toBe(3);
    expect(kafka.spec.kafkaExporter).toBeDefined();
    // only the application namespace and KEDA reach the brokers
    for (const l of kafka.spec.kafka.listeners) {
      const peers = l.networkPolicyPeers.map((p: any) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']).sort();
      expect(peers).toEqual(['cryptocare', 'keda']);
    }
  });

  test('a KafkaTopic for every contract topic and its DLQ, partitions equal to the chart\'s consumer ceiling', () => {
    const topics = Object.fromEntries(byKind(objs, 'KafkaTopic').map((t) => [t.spec.topicName, t]));
    const expected = TOPICS.flatMap((t) => [t, `${t}.dlq`]).sort();
    expect(Object.keys(topics).sort()).toEqual(expected);
    const appValues = [parse(readFileSync(join(APP_CHART, 'values.yaml'), 'utf8')), ...valuesFiles(APP_CHART, env, region).map((f) => parse(readFileSync(f, 'utf8')))];
    const chartPartitions = Object.assign({}, ...appValues.map((v) => v?.global?.kafka?.topics ?? {}));
    for (const t of TOPICS) {
      expect({ t, partitions: topics[t].spec.partitions }).toEqual({ t, partitions: chartPartitions[t] });
      expect(topics[t].spec.replicas).toBe(3);
      expect(topics[t].spec.config['min.insync.replicas']).toBe('2');
    }
  });

  test('namespaces enforce the restricted Pod Security Standard and survive an uninstall', () => {
    const ns = byKind(objs, 'Namespace');
    expect(ns.map((n) => n.metadata.name).sort()).toEqual(['cryptocare', 'cryptocare-data']);
    for (const n of ns) {
      expect(n.metadata.labels!['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect(n.metadata.annotations!['helm.sh/resource-policy']).toBe('keep');
    }
  });

  if (env === 'staging') {
    test('CloudNativePG: primary + replica, a role and schema per service, backups, PgBouncer in transaction mode', () => {
      const cluster = must(byKind(objs, 'Cluster')[0], 'a CloudNativePG Cluster');
      expect(cluster.spec.instances).toBe(2);
      expect(cluster.spec.enableSuperuserAccess).toBe(false);
      const roles = cluster.spec.managed.roles.map((r: any) => r.name).sort();
      expect(roles).toEqual(['appointment', 'identity', 'payment', 'search', 'video']);
      for (const r of cluster.spec.managed.roles) expect(r.passwordSecret.name).toBe(`pg-role-${r.name}`);
      const sql = cluster.spec.bootstrap.initdb.postInitApplicationSQL.join('\n');
      for (const r of roles) expect(sql).toContain(`CREATE SCHEMA ${r} AUTHORIZATION ${r}`);
      expect(cluster.spec.plugins[0]).toMatchObject({ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true });
      const store = find(objs, 'ObjectStore', cluster.spec.plugins[0].parameters.barmanObjectName)!;
      expect(store.spec.configuration.destinationPath).toMatch(new RegExp(`^s3://cryptocare-staging-${region}-`));
      const backup = must(byKind(objs, 'ScheduledBackup')[0], 'a ScheduledBackup');
      expect(backup.spec).toMatchObject({ method: 'plugin', cluster: { name: cluster.metadata.name } });
      const pooler = must(byKind(objs, 'Pooler')[0], 'a PgBouncer Pooler');
      expect(pooler.spec).toMatchObject({ type: 'rw', cluster: { name: cluster.metadata.name }, pgbouncer: { poolMode: 'transaction' } });
      expect(pooler.spec.instances).toBeGreaterThanOrEqual(2);
    });

    test('Valkey runs restricted, without persistence, behind a password from a Secret', () => {
      const redis = find(objs, 'Deployment', 'redis')!;
      const pod = redis.spec.template.spec;
      const c = pod.containers[0];
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.env[0].valueFrom.secretKeyRef).toEqual({ name: 'redis-auth', key: 'password' });
      expect(c.resources.limits).toBeDefined();
      const np = find(objs, 'NetworkPolicy', 'redis')!;
      expect(np.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cryptocare' } } }]);
    });
  } else {
    test('production uses the managed PostgreSQL and Redis of terraform/: none of them in the cluster', () => {
      expect(byKind(objs, 'Cluster')).toEqual([]);
      expect(byKind(objs, 'Pooler')).toEqual([]);
      expect(find(objs, 'Deployment', 'redis')).toBeUndefined();
    });
  }

  test('no secret value in the platform manifests', () => {
    expect(byKind(objs, 'Secret')).toEqual([]);
    expect(JSON.stringify(objs)).not.toMatch(/[a-z][a-z0-9+.-]*:\/\/[^\s/:@"]+:[^\s/@"]+@/i);
  });
});

describe('k8s/platform options', () => {
  test('the one-node dev platform renders and validates', () => {
    const objs = renderPlatform([join(PLATFORM_CHART, 'values-dev.yaml')]);
    expect(validateAll(objs)).toEqual([]);
    for (const t of byKind(objs, 'KafkaTopic')) expect(t.spec.replicas).toBe(1);
    expect(byKind(objs, 'ScheduledBackup')).toEqual([]);
    expect(byKind(objs, 'GatewayClass')).toEqual([]); // no Envoy Gateway in a local cluster
  });
});

describe('k8s/operators', () => {
  const dir = join(ROOT, 'k8s/operators');

  test('every operator the charts need is installed with a pinned version and a values file', () => {
    const versions = Object.fromEntries(
      readFileSync(join(dir, 'versions.env'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')),
    );
    for (const key of ['KEDA_VERSION', 'ARGO_ROLLOUTS_VERSION', 'STRIMZI_VERSION', 'CNPG_VERSION', 'CNPG_BARMAN_PLUGIN_VERSION', 'KUBE_PROMETHEUS_STACK_VERSION', 'CERT_MANAGER_VERSION', 'ENVOY_GATEWAY_VERSION', 'ROLLOUTS_GATEWAYAPI_PLUGIN_VERSION', 'METRICS_SERVER_VERSION', 'EXTERNAL_SECRETS_VERSION', 'OTEL_COLLECTOR_CHART_VERSION', 'TEMPO_CHART_VERSION']) {
      expect({ key, pinned: /^v?\d+\.\d+\.\d+$/.test(versions[key] ?? '') }).toEqual({ key, pinned: true });
    }
    const script = readFileSync(join(dir, 'install.sh'), 'utf8');
    for (const f of readdirSync(join(dir, 'values'))) {
      expect(script).toContain(f);
      expect(() => parse(readFileSync(join(dir, 'values', f), 'utf8'))).not.toThrow();
    }
  });

  test('the cert-manager ClusterIssuers validate and answer HTTP-01 on the chart\'s Gateway (plain-HTTP listener)', () => {
    const objs = parseManifests(readFileSync(join(dir, 'cluster-issuers.yaml'), 'utf8'));
    expect(objs.map((o) => o.metadata.name).sort()).toEqual(['letsencrypt', 'letsencrypt-staging']);
    expect(validateAll(objs)).toEqual([]);
    const app = render(APP_CHART, valuesFiles(APP_CHART, 'production', 'ch'));
    const gw = must(byKind(app, 'Gateway')[0], 'the chart\'s Gateway');
    const http = gw.spec.listeners.find((l: any) => l.protocol === 'HTTP');
    for (const issuer of objs) {
      const solvers = issuer.spec.acme.solvers;
      expect(solvers.map((s: any) => Object.keys(s.http01))).toEqual([['gatewayHTTPRoute']]);
      expect(solvers[0].http01.gatewayHTTPRoute.parentRefs).toEqual([
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw.metadata.name, namespace: 'cryptocare', sectionName: http.name },
      ]);
    }
    expect(objs.map((o) => o.metadata.name)).toContain(gw.metadata.annotations!['cert-manager.io/cluster-issuer']);
    // cert-manager only reads Gateways with its Gateway API support switched on
    const certManager = parse(readFileSync(join(dir, 'values/cert-manager.yaml'), 'utf8'));
    expect(certManager.config).toMatchObject({ apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', gatewayAPI: { enabled: true } });
  });

  test('Envoy Gateway is the edge: installed before cert-manager, in the namespace the chart lets in', () => {
    const script = readFileSync(join(dir, 'install.sh'), 'utf8');
    const line = must(script.split('\n').find((l) => /^want envoy-gateway /.test(l)), 'the envoy-gateway install line');
    expect(line).toContain(`install envoy-gateway ${EDGE_NAMESPACE} oci://docker.io/envoyproxy/gateway-helm "$ENVOY_GATEWAY_VERSION" envoy-gateway.yaml`);
    expect(script.indexOf('want envoy-gateway ')).toBeLessThan(script.indexOf('want cert-manager '));
    const values = parse(readFileSync(join(dir, 'values/envoy-gateway.yaml'), 'utf8'));
    const platform = renderPlatform(valuesFiles(PLATFORM_CHART, 'production', 'ch'));
    expect(byKind(platform, 'GatewayClass').map((c) => c.spec.controllerName)).toEqual([values.config.envoyGateway.gateway.controllerName]);
    expect(values.deployment.replicas).toBeGreaterThanOrEqual(2);
  });

  test('Argo Rollouts loads the pinned Gateway API plugin from its image and may only touch routes', () => {
    const values = parse(readFileSync(join(dir, 'values/argo-rollouts.yaml'), 'utf8'));
    const pinned = readFileSync(join(dir, 'versions.env'), 'utf8').match(/^ROLLOUTS_GATEWAYAPI_PLUGIN_VERSION=(.+)$/m)?.[1];
    const [plugin] = values.controller.trafficRouterPlugins;
    expect(plugin.name).toBe('argoproj-labs/gatewayAPI');
    const copy = values.controller.initContainers.find((c: any) => c.image.startsWith('ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi:'));
    expect(copy.image).toBe(`ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi:${pinned}`);
    // the controller reads the binary the init container copied into the shared volume
    const path = plugin.location.replace(/^file:\/\//, '');
    const mount = copy.volumeMounts[0];
    expect(path.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(copy.command.join(' ')).toContain(mount.mountPath);
    expect(values.controller.volumeMounts).toContainEqual({ name: mount.name, mountPath: mount.mountPath });
    expect(values.controller.volumes).toContainEqual({ name: mount.name, emptyDir: {} });
    const providers = Object.entries(values.providerRBAC.providers).filter(([, on]) => on).map(([p]) => p);
    expect(providers).toEqual(['gatewayAPI']);
  });

  test('Prometheus picks up the charts\' monitors and rules whatever their labels; Grafana loads labelled dashboards', () => {
    const v = parse(readFileSync(join(dir, 'values/kube-prometheus-stack.yaml'), 'utf8'));
    expect(v.prometheus.prometheusSpec).toMatchObject({ serviceMonitorSelectorNilUsesHelmValues: false, podMonitorSelectorNilUsesHelmValues: false, ruleSelectorNilUsesHelmValues: false });
    expect(v.grafana.sidecar.dashboards).toMatchObject({ label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' });
  });
});
