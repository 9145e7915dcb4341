// Secrets through the External Secrets Operator (docs/secrets.md): every Secret a service reads is an
// ExternalSecret of the chart, carrying every secret variable the service's code reads, from the
// store k8s/platform renders for the region; the platform's own Secrets (database roles, Valkey,
// backups, Alertmanager's keys) likewise; and nothing is created from a shell any more.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SECRET_KEYS, SERVICES, TARGETS } from './lib/contract';
import { pinnedVersions } from './lib/crds';
import { APP_CHART, PLATFORM_CHART, ROOT, byKind, find, helmPath, helmTemplate, must, render, run, valuesFiles, type K8sObject } from './lib/tools';
import { validateAll } from './lib/validate';

const renderPlatform = (files: string[]) => render(PLATFORM_CHART, files, { namespace: 'cryptocare-platform', release: 'cryptocare-platform' });
/** Provider variables: present only for the providers that are configured (a whole document, extracted). */
const PROVIDER_KEY = /^(SBP_|BTCPAY_|ZOOM_|JITSI_|PUBLIC_BASE_URL$)/;

/** The secret variables the code of services/<name>/src reads. */
function secretKeysReadBy(name: string): string[] {
  const dir = join(ROOT, 'services', name, 'src');
  const text = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('generated'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
  return SECRET_KEYS.filter((k) => new RegExp(`\\b${k}\\b`).test(text));
}

function externalSecretsOf(objs: K8sObject[]): Map<string, K8sObject> {
  return new Map(byKind(objs, 'ExternalSecret').map((e) => [e.spec.target.name, e]));
}

beforeAll(() => {
  helmPath();
}, 15 * 60_000);

describe.each(TARGETS)('External Secrets for $name', ({ env, region, name }) => {
  let app: K8sObject[];
  let platform: K8sObject[];
  const prefix = `cryptocare/${name}/`;
  beforeAll(() => {
    app = render(APP_CHART, valuesFiles(APP_CHART, env, region));
    platform = renderPlatform(valuesFiles(PLATFORM_CHART, env, region));
  });

  test('every Secret a service reads is an ExternalSecret of the chart, from the platform\'s store, under this environment\'s prefix', () => {
    expect(byKind(app, 'Secret')).toEqual([]);
    const store = must(byKind(platform, 'ClusterSecretStore')[0], 'the ClusterSecretStore');
    const external = externalSecretsOf(app);
    const refs = new Set(Object.keys(SERVICES).flatMap((s) => find(app, 'Rollout', s)!.spec.template.spec.containers[0].envFrom.slice(1).map((e: any) => e.secretRef.name)));
    expect([...external.keys()].sort()).toEqual([...refs].sort());
    for (const es of external.values()) {
      expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: store.metadata.name });
      const remote = [...(es.spec.data ?? []).map((d: any) => d.remoteRef.key), ...(es.spec.dataFrom ?? []).map((d: any) => d.extract.key)];
      expect(remote.length).toBeGreaterThan(0);
      for (const key of remote) expect({ secret: es.metadata.name, key, prefixed: key.startsWith(prefix) }).toEqual({ secret: es.metadata.name, key, prefixed: true });
      for (const d of es.spec.data ?? []) expect(d.remoteRef.property).toBe(d.secretKey);
    }
    expect(validateAll([...external.values(), store])).toEqual([]);
  });

  test('each service gets every secret variable its code reads, and no secret of another service\'s', () => {
    const external = externalSecretsOf(app);
    for (const service of Object.keys(SERVICES)) {
      const refs: string[] = find(app, 'Rollout', service)!.spec.template.spec.containers[0].envFrom.slice(1).map((e: any) => e.secretRef.name);
      const mine = refs.map((r) => must(external.get(r), `the ExternalSecret ${r}`));
      const given = new Set(mine.flatMap((es) => (es.spec.data ?? []).map((d: any) => d.secretKey)));
      const extracts = mine.some((es) => es.spec.dataFrom?.length);
      const read = secretKeysReadBy(service);
      for (const key of read) {
        const covered = given.has(key) || (extracts && PROVIDER_KEY.test(key));
        expect({ service, key, covered }).toEqual({ service, key, covered: true });
      }
      // nothing the service does not read (Redis only where the contract says it is used)
      for (const key of given) {
        const used = read.includes(key) || key === 'DATABASE_DIRECT_URL';
        expect({ service, key, used }).toEqual({ service, key, used: true });
      }
      expect({ service, redis: given.has('REDIS_URL') }).toEqual({ service, redis: SERVICES[service]!.redis });
    }
  });

  test('the ExternalSecrets exist before the migration Jobs, and a release never deletes a Secret a pod uses', () => {
    const jobs = byKind(app, 'Job');
    expect(jobs.length).toBeGreaterThan(0);
    const external = externalSecretsOf(app);
    for (const es of external.values()) {
      expect(es.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(es.metadata.annotations!['helm.sh/hook-delete-policy']).toBe('before-hook-creation');
      for (const job of jobs) expect(Number(es.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations!['helm.sh/hook-weight']));
      expect(es.spec.target).toMatchObject({ creationPolicy: 'Orphan', deletionPolicy: 'Retain' });
    }
    for (const job of jobs) {
      const ref = job.spec.template.spec.containers[0].env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef;
      const es = must(external.get(ref.name), `the ExternalSecret of ${job.metadata.name}'s Secret`);
      expect(es.spec.data.map((d: any) => d.secretKey)).toContain(ref.key);
    }
  });

  test('the store is Secrets Manager in the region\'s own jurisdiction, reachable from the cluster\'s namespaces only', () => {
    const store = must(byKind(platform, 'ClusterSecretStore')[0], 'the ClusterSecretStore');
    expect(store.spec.conditions).toEqual([{ namespaces: ['cryptocare', 'cryptocare-data', 'monitoring'] }]);
    const aws = store.spec.provider.aws;
    expect(aws.service).toBe('SecretsManager');
    if (region === 'ch') {
      expect(aws.region).toBe('eu-central-2');
      expect(aws.auth).toBeUndefined(); // EKS Pod Identity of the operator's service account
      const main = readFileSync(join(ROOT, 'terraform/environments', name, 'main.tf'), 'utf8');
      expect(main).toMatch(new RegExp(`module "secrets" \\{[^}]*source\\s*=\\s*"../../modules/aws/secrets-reader"[^}]*prefix\\s*=\\s*"cryptocare/${name}"`));
      const eso = parse(readFileSync(join(ROOT, 'k8s/operators/values/external-secrets.yaml'), 'utf8'));
      const vars = readFileSync(join(ROOT, 'terraform/modules/aws/secrets-reader/variables.tf'), 'utf8');
      expect(vars).toMatch(new RegExp(`variable "service_account" \\{[^}]*default\\s*=\\s*"${eso.serviceAccount.name}"`));
    } else {
      expect(aws.region).toBe('eu-central-1');
      expect(aws.auth.secretRef.accessKeyIDSecretRef).toEqual({ namespace: 'external-secrets', name: 'aws-secrets-manager-reader', key: 'access-key-id' });
      expect(aws.auth.secretRef.secretAccessKeySecretRef).toEqual({ namespace: 'external-secrets', name: 'aws-secrets-manager-reader', key: 'secret-access-key' });
    }
  });

  test('the platform\'s Secrets come from the store too: database roles, Valkey, the backup key, Alertmanager\'s receivers', () => {
    const external = externalSecretsOf(platform);
    const cluster = byKind(platform, 'Cluster')[0];
    if (cluster) {
      for (const role of cluster.spec.managed.roles) {
        const es = must(external.get(role.passwordSecret.name), `the ExternalSecret ${role.passwordSecret.name}`);
        expect(es.metadata.namespace).toBe(cluster.metadata.namespace);
        expect(es.spec.target.template).toMatchObject({ type: 'kubernetes.io/basic-auth', data: { username: role.name } });
        // the role's password is in the document its service's DATABASE_URL is in: one change rotates both
        expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: `${prefix}${role.name}`, property: 'DATABASE_PASSWORD' } }]);
      }
      const store = find(platform, 'ObjectStore', cluster.spec.plugins?.[0]?.parameters?.barmanObjectName ?? '');
      const creds = store?.spec.configuration.s3Credentials;
      if (creds && !creds.inheritFromIAMRole) expect(external.get(creds.accessKeyId.name)?.spec.data.map((d: any) => d.secretKey)).toEqual(expect.arrayContaining([creds.accessKeyId.key, creds.secretAccessKey.key]));
      expect({ region, backupKey: external.has('pg-backup-s3') }).toEqual({ region, backupKey: region === 'eu' });
    }
    const redis = find(platform, 'Deployment', 'redis');
    if (redis) {
      const ref = redis.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef;
      expect(external.get(ref.name)?.spec.data).toEqual([{ secretKey: ref.key, remoteRef: { key: `${prefix}shared`, property: 'REDIS_PASSWORD' } }]);
    }
    // Alertmanager: the Secrets it mounts, with the keys its receivers read as files
    const kps = parse(readFileSync(join(ROOT, 'k8s/operators/values/kube-prometheus-stack.yaml'), 'utf8'));
    const files = JSON.stringify(kps.alertmanager.config).match(/\/etc\/alertmanager\/secrets\/[^"]+/g)!;
    for (const secret of kps.alertmanager.alertmanagerSpec.secrets) {
      const es = must(external.get(secret), `the ExternalSecret ${secret}`);
      expect(es.metadata.namespace).toBe('monitoring');
      const keys = [...new Set(files.filter((f) => f.split('/')[4] === secret).map((f) => f.split('/')[5]))];
      expect(es.spec.data.map((d: any) => d.secretKey).sort()).toEqual(keys.sort());
    }
    expect(validateAll([...external.values()])).toEqual([]);
  });
});

describe('External Secrets: options, the operator, the local cluster', () => {
  test('a Secret a service reads without an entry in externalSecrets.secrets fails the render', () => {
    const r = helmTemplate(APP_CHART, valuesFiles(APP_CHART, 'staging', 'ch'), { set: ['services.search.secretRefs={cryptocare-search,cryptocare-search-extra}'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Secret cryptocare-search-extra (secretRefs of search) has no entry in externalSecrets.secrets');
  });

  test('the fake store is for a local cluster only', () => {
    const r = helmTemplate(PLATFORM_CHART, valuesFiles(PLATFORM_CHART, 'staging', 'ch'), { namespace: 'cryptocare-platform', set: ['secrets.provider=fake'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('only for a local dev cluster');
  });

  test('dev: the fake store holds every property the dev ExternalSecrets ask for', () => {
    const app = render(APP_CHART, [join(APP_CHART, 'values-dev.yaml')]);
    const platform = renderPlatform([join(PLATFORM_CHART, 'values-dev.yaml')]);
    const store = must(byKind(platform, 'ClusterSecretStore')[0], 'the dev store');
    const documents = Object.fromEntries(store.spec.provider.fake.data.map((d: any) => [d.key, JSON.parse(d.value)]));
    const wanted = [...byKind(app, 'ExternalSecret'), ...byKind(platform, 'ExternalSecret')].flatMap((es) => [
      ...(es.spec.data ?? []).map((d: any) => [d.remoteRef.key, d.remoteRef.property]),
      ...(es.spec.dataFrom ?? []).map((d: any) => [d.extract.key, null]),
    ]);
    expect(wanted.length).toBeGreaterThan(20);
    for (const [key, property] of wanted) {
      expect({ key, property, found: key in documents && (property === null || property in documents[key]) }).toEqual({ key, property, found: true });
    }
    expect(validateAll([...byKind(app, 'ExternalSecret'), ...byKind(platform, 'ExternalSecret'), store])).toEqual([]);
  });

  test('the operator is pinned and installed before the charts that use it; create-secrets.sh is gone', () => {
    expect(pinnedVersions().EXTERNAL_SECRETS_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    const script = readFileSync(join(ROOT, 'k8s/operators/install.sh'), 'utf8');
    expect(script).toMatch(/^want external-secrets && install external-secrets external-secrets external-secrets\/external-secrets "\$EXTERNAL_SECRETS_VERSION" external-secrets\.yaml$/m);
    const values = parse(readFileSync(join(ROOT, 'k8s/operators/values/external-secrets.yaml'), 'utf8'));
    expect(values.installCRDs).toBe(true);
    expect(existsSync(join(ROOT, 'deploy/scripts/create-secrets.sh'))).toBe(false);
    const tracked = run('git', ['grep', '-l', 'create-secrets', '--', ':!docs/secrets.md', ':!deploy/test/secrets.test.ts'], ROOT).stdout.trim();
    expect(tracked).toBe('');
  });
});
