// Runs the deployment tools the tests need: helm (built from its Go module by scripts/tools/helm.sh),
// tfcheck (scripts/tools/tfcheck.sh) and terraform (on PATH). Renders charts into plain objects.
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../../..');
export const APP_CHART = join(ROOT, 'charts/cryptocare');
export const PLATFORM_CHART = join(ROOT, 'k8s/platform');
/** The Kubernetes version the clusters run (terraform: DOKS 1.33.x, EKS 1.33). */
export const KUBE_VERSION = '1.33.0';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: any;
}

const cache = new Map<string, string>();
function tool(script: string): string {
  let path = cache.get(script);
  if (!path) {
    // First use may build the tool from its Go module (minutes); later calls are instant.
    path = execFileSync('bash', [join(ROOT, 'scripts/tools', script)], { encoding: 'utf8', timeout: 15 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
    cache.set(script, path);
  }
  return path;
}
export const helmPath = () => tool('helm.sh');
export const tfcheckPath = () => tool('tfcheck.sh');

export interface RunResult { status: number; stdout: string; stderr: string }
export function run(cmd: string, args: string[], cwd = ROOT): RunResult {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function valuesFiles(chart: string, env: string, region?: string): string[] {
  return region ? [join(chart, `values-${env}.yaml`), join(chart, `values-${env}-${region}.yaml`)] : [join(chart, `values-${env}.yaml`)];
}

export function helmTemplate(chart: string, files: string[], opts: { namespace?: string; set?: string[]; release?: string } = {}): RunResult {
  const args = ['template', opts.release ?? 'cryptocare', chart, '--namespace', opts.namespace ?? 'cryptocare', '--kube-version', KUBE_VERSION];
  for (const f of files) args.push('-f', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  return run(helmPath(), args);
}

export function render(chart: string, files: string[], opts: { namespace?: string; set?: string[]; release?: string } = {}): K8sObject[] {
  const r = helmTemplate(chart, files, opts);
  if (r.status !== 0) throw new Error(`helm template ${chart} ${files.join(' ')} failed:\n${r.stderr}`);
  return parseManifests(r.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const [error] = doc.errors;
    if (error) throw new Error(`invalid YAML in rendered manifests: ${error.message}`);
    const obj = doc.toJS();
    if (obj) out.push(obj as K8sObject);
  }
  return out;
}

export function helmLint(chart: string, files: string[]): RunResult {
  const args = ['lint', chart, '--strict', '--kube-version', KUBE_VERSION];
  for (const f of files) args.push('-f', f);
  return run(helmPath(), args);
}

/** The value, or a clear error naming what is missing (for indexed lookups the type system cannot prove). */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}, found none`);
  return value;
}

export const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
export const find = (objs: K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
export const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
