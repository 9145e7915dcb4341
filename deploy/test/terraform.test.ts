// terraform/: formatted, and every module and environment parses and loads offline (no provider or
// registry download): HCL syntax, module loading, var/local/module references, module-call
// arguments, the remote-state backend. `terraform validate` needs the providers and is run by CI
// jobs that can download them (make tf-validate).
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, must, run, tfcheckPath } from './lib/tools';

const TF = join(ROOT, 'terraform');
const modules = ['digitalocean', 'aws'].flatMap((p) => readdirSync(join(TF, 'modules', p)).map((m) => `modules/${p}/${m}`));
const environments = readdirSync(join(TF, 'environments')).map((e) => `environments/${e}`);
const terraformBin = process.env.TERRAFORM_BIN ?? 'terraform';

interface Report { modules: Array<{ path: string; backend?: string; problems: string[]; moduleCalls: Record<string, string>; variables: string[]; requiredVariables: string[] }>; ok: boolean }
function tfcheck(dirs: string[], cwd = TF): Report {
  const r = run(tfcheckPath(), dirs, cwd);
  return JSON.parse(r.stdout);
}


// The first run on a machine builds the tool from its Go module: allow it the time.
beforeAll(() => {
  tfcheckPath();
}, 10 * 60_000);

describe('terraform', () => {
  test('terraform fmt -check -recursive is clean', () => {
    const r = run(terraformBin, ['fmt', '-check', '-recursive', '-diff', TF]);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  test('the four environments (staging/production x CH/EU) exist, composed from the modules', () => {
    expect(environments.sort()).toEqual(['environments/production-ch', 'environments/production-eu', 'environments/staging-ch', 'environments/staging-eu']);
    const report = tfcheck(environments);
    for (const m of report.modules) {
      const sources = Object.values(m.moduleCalls);
      expect(sources.length).toBeGreaterThanOrEqual(3);
      expect(sources.every((s) => s.startsWith('../../modules/'))).toBe(true);
    }
    const used = new Set(report.modules.flatMap((m) => Object.values(m.moduleCalls).map((s) => s.replace('../../', ''))));
    expect([...used].sort()).toEqual([...modules].sort());
  });

  test.each([...modules, ...environments])('%s parses and loads, references and module calls resolve', (dir) => {
    const report = tfcheck([dir]);
    expect(must(report.modules[0], `the tfcheck report for ${dir}`).problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  test.each(environments)('%s keeps its state remotely', (dir) => {
    const report = tfcheck([dir]);
    expect(must(report.modules[0], `the tfcheck report for ${dir}`).backend).toBe('s3');
  });

  test('Swiss environments run in Zurich (AWS eu-central-2)', () => {
    for (const env of ['staging-ch', 'production-ch']) {
      const vars = readFileSync(join(TF, 'environments', env, 'variables.tf'), 'utf8');
      expect(vars).toMatch(/variable "region" \{[^}]*default\s*=\s*"eu-central-2"/);
    }
  });

  test('no secret in code', () => {
    const files = run('git', ['ls-files', '--others', '--cached', '--exclude-standard', 'terraform'], ROOT).stdout.split('\n').filter((f) => f.endsWith('.tf') || f.endsWith('.tfvars'));
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      expect({ f, literal: /\b(password|secret|token|access_key|secret_key|auth_token)\s*=\s*"[^"$]+"/i.test(text) }).toEqual({ f, literal: false });
      expect({ f, awsKey: /AKIA[0-9A-Z]{16}/.test(text) }).toEqual({ f, awsKey: false });
      expect({ f, doToken: /dop_v1_[0-9a-f]{20,}/.test(text) }).toEqual({ f, doToken: false });
    }
    expect(readdirSync(TF, { recursive: true }).some((f) => String(f).endsWith('.tfstate'))).toBe(false);
  });

  test('the production VPC ranges are the ones the chart lets the services reach the managed databases in', () => {
    for (const region of ['ch', 'eu']) {
      const vars = readFileSync(join(TF, 'environments', `production-${region}`, 'variables.tf'), 'utf8');
      const cidr = /variable "vpc_cidr" \{[^}]*default\s*=\s*"([^"]+)"/.exec(vars)![1];
      const values = parse(readFileSync(join(ROOT, `charts/cryptocare/values-production-${region}.yaml`), 'utf8'));
      expect(values.global.dependencies.postgres.to[0].ipBlock.cidr).toBe(cidr);
      expect(values.global.dependencies.redis.to[0].ipBlock.cidr).toBe(cidr);
    }
  });

  test('the checker catches an undeclared variable, a wrong module argument and a syntax error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfcheck-'));
    try {
      cpSync(join(TF, 'modules'), join(dir, 'modules'), { recursive: true });
      cpSync(join(TF, 'environments/production-eu'), join(dir, 'env'), { recursive: true });
      const main = join(dir, 'env/main.tf');
      const original = readFileSync(main, 'utf8').replaceAll('../../modules/', '../modules/');
      writeFileSync(main, original.replace('node_size                 = var.node_size', 'node_sise                 = var.node_siz'));
      const report = tfcheck(['env'], dir);
      expect(report.ok).toBe(false);
      const problems = must(report.modules[0], 'the tfcheck report for env').problems.join('\n');
      expect(problems).toContain('var.node_siz is not declared');
      expect(problems).toContain('passes "node_sise"');
      writeFileSync(main, original + '\nresource "x" "y" {\n');
      expect(tfcheck(['env'], dir).ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
