// OpenAPI schemas of the custom resources that no kubernetes-models package covers at the version the
// cluster runs: taken from the operators' own CRD files, in their Go modules (`go mod download`, the
// module proxy that already serves helm to scripts/tools/helm.sh), at the version k8s/operators pins.
//   gateway.networking.k8s.io  Gateway API, standard channel, as bundled by the pinned Envoy Gateway
//                              (the cluster gets the experimental channel, a superset: holding the
//                              chart to the standard one keeps it portable across implementations)
//   gateway.envoyproxy.io      Envoy Gateway's policies and EnvoyProxy, same module and version
//   external-secrets.io        External Secrets Operator's v1 API. ESO's 2.x tags are not valid Go
//                              module versions (the module path has no /v2), so the schemas come from
//                              its newest Go-module release, v1.3.2, whose v1 API the 2.x line only
//                              extends (new optional fields; checked field by field when pinned).
// CEL rules (x-kubernetes-validations) are not evaluated: ajv checks structure, types, enums,
// patterns and required fields, and refuses unknown fields as `kubectl apply --validate=strict` does
// (the API server would silently prune them: a misspelt field would just do nothing).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { ROOT, type K8sObject } from './tools';

/** The pinned versions of k8s/operators/versions.env. */
export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'k8s/operators/versions.env'), 'utf8');
  return Object.fromEntries(text.split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => l.split('=', 2) as [string, string]));
}

/** ESO's v1 API from its last Go-module release (see above). */
export const ESO_SCHEMA_MODULE_VERSION = 'v1.3.2';

interface Source {
  module: string;
  version: () => string;
  files: string[];
}
const envoyGateway = () => {
  const v = pinnedVersions().ENVOY_GATEWAY_VERSION;
  if (!v) throw new Error('ENVOY_GATEWAY_VERSION is not pinned in k8s/operators/versions.env');
  return v;
};
const SOURCES: Record<string, Source> = {
  'gateway.networking.k8s.io': {
    module: 'github.com/envoyproxy/gateway',
    version: envoyGateway,
    files: ['charts/gateway-crds-helm/templates/standard-gatewayapi-crds.yaml'],
  },
  'gateway.envoyproxy.io': {
    module: 'github.com/envoyproxy/gateway',
    version: envoyGateway,
    files: ['clienttrafficpolicies', 'backendtrafficpolicies', 'envoyproxies'].map((p) => `charts/gateway-crds-helm/templates/generated/gateway.envoyproxy.io_${p}.yaml`),
  },
  'external-secrets.io': {
    module: 'github.com/external-secrets/external-secrets',
    version: () => ESO_SCHEMA_MODULE_VERSION,
    files: ['externalsecrets', 'clustersecretstores', 'secretstores'].map((p) => `config/crds/bases/external-secrets.io_${p}.yaml`),
  },
};

const moduleDirs = new Map<string, string>();
/** The module's source directory in the Go module cache (downloaded on first use). */
export function moduleDir(module: string, version: string): string {
  const key = `${module}@${version}`;
  let dir = moduleDirs.get(key);
  if (!dir) {
    const out = execFileSync('go', ['mod', 'download', '-json', key], {
      cwd: tmpdir(), // outside any module
      encoding: 'utf8',
      timeout: 10 * 60_000,
      env: { ...process.env, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = JSON.parse(out) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download ${key}: ${info.Error ?? 'no directory'}`);
    dir = info.Dir;
    moduleDirs.set(key, dir);
  }
  return dir;
}

/** The CustomResourceDefinitions of a CRD file (the Helm chart's whole-file `{{ if }}` lines dropped). */
export function readCrds(path: string): any[] {
  const text = readFileSync(path, 'utf8').split('\n').filter((l) => !/^\{\{.*\}\}\s*$/.test(l)).join('\n');
  return parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d?.kind === 'CustomResourceDefinition');
}

/** The schema with every object that lists its properties closed to others (unless it preserves unknown fields). */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, strict(ps)])) : strict(v)]));
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<string, ValidateFunction | null>();
const loadedGroups = new Set<string>();

function loadGroup(group: string): void {
  if (loadedGroups.has(group)) return;
  const source = SOURCES[group]!;
  const dir = moduleDir(source.module, source.version());
  for (const file of source.files) {
    for (const crd of readCrds(join(dir, file))) {
      for (const v of crd.spec.versions) {
        if (!v.served) continue;
        const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
        validators.set(key, ajv.compile(strict(v.schema.openAPIV3Schema)));
      }
    }
  }
  loadedGroups.add(group);
}

/** Is this apiVersion's group one whose CRDs come from an operator's module? */
export function coversGroup(apiVersion: string): boolean {
  return apiVersion.includes('/') && apiVersion.split('/')[0]! in SOURCES;
}

/** Schema errors of an object of a covered group (served versions only). */
export function crdErrors(o: K8sObject): string[] {
  const [group, version] = o.apiVersion.split('/') as [string, string];
  loadGroup(group);
  const validate = validators.get(`${group}/${version}/${o.kind}`);
  if (!validate) return [`no served CRD version for ${o.apiVersion} ${o.kind} (${SOURCES[group]!.module}@${SOURCES[group]!.version()})`];
  if (validate(o)) return [];
  return (validate.errors ?? []).map((e) => {
    const p = e.params as Record<string, any>;
    const detail = p.allowedValues ? ` (${p.allowedValues.join(', ')})` : p.additionalProperty ? `: ${p.additionalProperty}` : '';
    return `${e.instancePath || '/'} ${e.message}${detail}`;
  });
}
