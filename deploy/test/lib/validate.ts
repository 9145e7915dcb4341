// Validates rendered objects against the Kubernetes OpenAPI schemas and the CRD schemas of the
// operators, as packaged by kubernetes-models and its companions, or as the operators' own CRD files
// define them (./crds: Gateway API, Envoy Gateway, External Secrets). Every object must be of a known
// kind: the few CRDs without either (Strimzi, the Barman Cloud plugin's ObjectStore) are checked by
// hand-written structural rules below.
import { coversGroup, crdErrors } from './crds';
import type { K8sObject } from './tools';

/* eslint-disable @typescript-eslint/no-var-requires */
const MODULES: Record<string, () => Record<string, any>> = {
  v1: () => require('kubernetes-models/v1'),
  'apps/v1': () => require('kubernetes-models/apps/v1'),
  'batch/v1': () => require('kubernetes-models/batch/v1'),
  'policy/v1': () => require('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => require('kubernetes-models/networking.k8s.io/v1'),
  'storage.k8s.io/v1': () => require('kubernetes-models/storage.k8s.io/v1'),
  'autoscaling/v2': () => require('kubernetes-models/autoscaling/v2'),
  'keda.sh/v1alpha1': () => require('@kubernetes-models/keda/keda.sh/v1alpha1'),
  'argoproj.io/v1alpha1': () => require('@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1'),
  'monitoring.coreos.com/v1': () => require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
  'postgresql.cnpg.io/v1': () => require('@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1'),
  'cert-manager.io/v1': () => require('@kubernetes-models/cert-manager/cert-manager.io/v1'),
};

type Rule = (o: K8sObject) => string[];
const need = (cond: unknown, msg: string) => (cond ? [] : [msg]);
const isInt = (v: unknown) => Number.isInteger(v);

// Structural rules for CRDs that no models package covers (from the Strimzi v1beta2 and Barman
// Cloud plugin v1 CRDs: required fields, types and enums of what these manifests use).
const HAND_RULES: Record<string, Rule> = {
  'kafka.strimzi.io/v1beta2/Kafka': (o) => [
    ...need(o.spec?.kafka, 'spec.kafka is required'),
    ...need(Array.isArray(o.spec?.kafka?.listeners) && o.spec.kafka.listeners.length > 0, 'spec.kafka.listeners is a non-empty list'),
    ...(o.spec?.kafka?.listeners ?? []).flatMap((l: any, i: number) => [
      ...need(typeof l.name === 'string' && /^[a-z0-9]{1,11}$/.test(l.name), `listeners[${i}].name must match ^[a-z0-9]{1,11}$`),
      ...need(isInt(l.port) && l.port >= 9092, `listeners[${i}].port must be an integer >= 9092`),
      ...need(['internal', 'route', 'loadbalancer', 'nodeport', 'ingress', 'cluster-ip'].includes(l.type), `listeners[${i}].type invalid`),
      ...need(typeof l.tls === 'boolean', `listeners[${i}].tls must be a boolean`),
    ]),
    ...need(!o.spec?.zookeeper, 'KRaft: no spec.zookeeper'),
    ...need(!('replicas' in (o.spec?.kafka ?? {})), 'with node pools, replicas live in the KafkaNodePool'),
    ...need(o.spec?.entityOperator?.topicOperator !== undefined, 'the Topic Operator manages the KafkaTopics'),
  ],
  'kafka.strimzi.io/v1beta2/KafkaNodePool': (o) => [
    ...need(o.metadata.labels?.['strimzi.io/cluster'], 'label strimzi.io/cluster is required'),
    ...need(isInt(o.spec?.replicas) && o.spec.replicas >= 1, 'spec.replicas must be a positive integer'),
    ...need(Array.isArray(o.spec?.roles) && o.spec.roles.every((r: string) => ['controller', 'broker'].includes(r)), 'spec.roles: controller | broker'),
    ...need(['jbod', 'persistent-claim', 'ephemeral'].includes(o.spec?.storage?.type), 'spec.storage.type invalid'),
    ...(o.spec?.storage?.volumes ?? []).flatMap((v: any, i: number) => [
      ...need(isInt(v.id), `storage.volumes[${i}].id must be an integer`),
      ...need(['persistent-claim', 'ephemeral'].includes(v.type), `storage.volumes[${i}].type invalid`),
      ...need(v.type !== 'persistent-claim' || /^[0-9]+(Ki|Mi|Gi|Ti)$/.test(v.size), `storage.volumes[${i}].size must be a quantity`),
    ]),
  ],
  'kafka.strimzi.io/v1beta2/KafkaTopic': (o) => [
    ...need(o.metadata.labels?.['strimzi.io/cluster'], 'label strimzi.io/cluster is required'),
    ...need(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.metadata.name), 'metadata.name must be a DNS label (topicName carries the dots)'),
    ...need(typeof o.spec?.topicName === 'string', 'spec.topicName is a string'),
    ...need(isInt(o.spec?.partitions) && o.spec.partitions >= 1, 'spec.partitions must be a positive integer'),
    ...need(isInt(o.spec?.replicas) && o.spec.replicas >= 1 && o.spec.replicas <= 32767, 'spec.replicas must be 1..32767'),
    ...Object.entries(o.spec?.config ?? {}).flatMap(([k, v]) => need(['string', 'number', 'boolean'].includes(typeof v), `config.${k} must be a scalar`)),
  ],
  'barmancloud.cnpg.io/v1/ObjectStore': (o) => {
    const c = o.spec?.configuration ?? {};
    const creds = c.s3Credentials ?? c.azureCredentials ?? c.googleCredentials;
    return [
      ...need(typeof c.destinationPath === 'string' && /^(s3|gs|https):\/\//.test(c.destinationPath), 'configuration.destinationPath is an object-store URL'),
      ...need(creds, 'configuration needs s3Credentials (or azure/google)'),
      ...need(!creds || creds.inheritFromIAMRole === true || (creds.accessKeyId?.name && creds.accessKeyId?.key && creds.secretAccessKey?.name && creds.secretAccessKey?.key), 'credentials are Secret references or inheritFromIAMRole'),
      ...need(!o.spec?.retentionPolicy || /^[1-9][0-9]*[dwm]$/.test(o.spec.retentionPolicy), 'retentionPolicy like 30d'),
      ...need(['gzip', 'bzip2', 'snappy', 'lz4', 'xz', 'zstd', undefined].includes(c.wal?.compression), 'wal.compression invalid'),
    ];
  },
};

export function validationErrors(o: K8sObject): string[] {
  if (!o || typeof o !== 'object' || !o.apiVersion || !o.kind) return ['not a Kubernetes object (apiVersion/kind missing)'];
  if (!o.metadata?.name) return ['metadata.name is missing'];
  const id = `${o.kind}/${o.metadata.name}`;
  const hand = HAND_RULES[`${o.apiVersion}/${o.kind}`];
  if (hand) return hand(o).map((e) => `${id}: ${e}`);
  if (coversGroup(o.apiVersion)) return crdErrors(o).map((e) => `${id}: ${e}`);
  const load = MODULES[o.apiVersion];
  if (!load) return [`${id}: no schema for apiVersion ${o.apiVersion}`];
  const Model = load()[o.kind];
  if (!Model) return [`${id}: no schema for kind ${o.kind} in ${o.apiVersion}`];
  try {
    new Model(o).validate();
    return [];
  } catch (e: any) {
    return [`${id}: ${String(e?.message ?? e).slice(0, 2000)}`];
  }
}

export function validateAll(objs: K8sObject[]): string[] {
  return objs.flatMap(validationErrors);
}
