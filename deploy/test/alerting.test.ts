// Alerts that reach a person, and the history they are judged on: the Alertmanager configuration and
// Prometheus retention of k8s/operators/values/kube-prometheus-stack.yaml. The configuration is
// checked and its routes tested by amtool (Alertmanager's own CLI, built from its Go module by
// deploy/scripts/amtool.sh) against every alert the chart renders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { APP_CHART, ROOT, byKind, helmPath, render, run, valuesFiles } from './lib/tools';

const VALUES = join(ROOT, 'k8s/operators/values/kube-prometheus-stack.yaml');
const values = parse(readFileSync(VALUES, 'utf8'));
const config = values.alertmanager.config;
const SECRETS_DIR = '/etc/alertmanager/secrets';

let amtool: string;
let dir: string;
let configFile: string;

beforeAll(() => {
  amtool = execFileSync('bash', [join(ROOT, 'deploy/scripts/amtool.sh')], { encoding: 'utf8', timeout: 15 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  helmPath();
  dir = mkdtempSync(join(tmpdir(), 'cryptocare-alertmanager-'));
  configFile = join(dir, 'alertmanager.yaml');
  writeFileSync(configFile, stringify(config));
}, 20 * 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The receiver amtool routes an alert with these labels to. */
function receiverOf(file: string, labels: Record<string, string>): string {
  const r = run(amtool, ['config', 'routes', 'test', `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  if (r.status !== 0) throw new Error(`amtool config routes test: ${r.stderr}`);
  return r.stdout.trim();
}

/** Every alert rule the chart renders (its PrometheusRules, files/alerts included). */
function renderedAlerts(): Array<{ alert: string; labels: Record<string, string> }> {
  const objs = render(APP_CHART, valuesFiles(APP_CHART, 'production', 'ch'));
  return byKind(objs, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules)).filter((r: any) => r.alert);
}

describe('Alertmanager (kube-prometheus-stack values)', () => {
  test('amtool check-config accepts the configuration, and would refuse a broken one', () => {
    const ok = run(amtool, ['check-config', configFile]);
    expect(ok.stderr + ok.stdout).toContain('SUCCESS');
    expect(ok.status).toBe(0);
    // the check is real: a PagerDuty receiver without a key is refused
    const broken = structuredClone(config);
    delete broken.receivers.find((r: any) => r.name === 'pager').pagerduty_configs[0].routing_key_file;
    const brokenFile = join(dir, 'broken.yaml');
    writeFileSync(brokenFile, stringify(broken));
    expect(run(amtool, ['check-config', brokenFile]).status).not.toBe(0);
  });

  test('every alert the chart renders reaches a person: critical pages through PagerDuty, warning becomes a ticket in chat', () => {
    const alerts = renderedAlerts();
    expect(alerts.length).toBeGreaterThan(15);
    for (const a of alerts) {
      const receiver = receiverOf(configFile, { alertname: a.alert, namespace: 'cryptocare', service: 'gateway', ...a.labels });
      const expected = a.labels.severity === 'critical' ? 'pager' : 'ticket';
      expect({ alert: a.alert, severity: a.labels.severity, receiver }).toEqual({ alert: a.alert, severity: a.labels.severity, receiver: expected });
    }
    const receivers = Object.fromEntries(config.receivers.map((r: any) => [r.name, r]));
    expect(receivers.pager.pagerduty_configs).toHaveLength(1);
    expect(receivers.pager.pagerduty_configs[0].send_resolved).toBe(true);
    expect(receivers.pager.slack_configs).toHaveLength(1); // the team sees what paged
    expect(receivers.ticket.slack_configs).toHaveLength(1);
    expect(receivers.ticket.pagerduty_configs).toBeUndefined();
    // the notification links the alert's runbook
    for (const c of [...receivers.pager.pagerduty_configs.flatMap((p: any) => p.links.map((l: any) => l.href)), ...receivers.pager.slack_configs.map((s: any) => s.text), ...receivers.ticket.slack_configs.map((s: any) => s.text)]) {
      expect(c).toContain('.CommonAnnotations.runbook_url');
    }
  });

  test('the Watchdog pings a dead man\'s switch (a silent Alertmanager is noticed), nothing pages for it', () => {
    expect(receiverOf(configFile, { alertname: 'Watchdog', severity: 'none' })).toBe('heartbeat');
    const route = config.route.routes.find((r: any) => r.receiver === 'heartbeat');
    expect(route.repeat_interval).toBe('5m');
    expect(receiverOf(configFile, { alertname: 'InfoInhibitor', severity: 'none' })).toBe('null');
  });

  test('no key, URL or password is in the values: each comes from a file of a Secret mounted into Alertmanager', () => {
    const secrets: string[] = values.alertmanager.alertmanagerSpec.secrets;
    const files: string[] = [];
    const forbidden = ['routing_key', 'service_key', 'api_url', 'url', 'auth_password', 'api_key', 'bot_token', 'password', 'auth_secret'];
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          expect({ path: `${path}.${k}`, inline: forbidden.includes(k) }).toEqual({ path: `${path}.${k}`, inline: false });
          if (k.endsWith('_file')) files.push(v as string);
          walk(v, `${path}.${k}`);
        }
      }
    };
    walk(config.receivers, 'receivers');
    walk(config.global, 'global');
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const [secret] = f.slice(SECRETS_DIR.length + 1).split('/');
      expect({ f, under: f.startsWith(`${SECRETS_DIR}/`), mounted: secrets.includes(secret!) }).toEqual({ f, under: true, mounted: true });
    }
    expect(new Set(files.map((f) => f.split('/')[4])).size).toBe(secrets.length); // every mounted Secret is used
  });

  test('grouping by alert and service, and a page silences the warnings of its own service only', () => {
    expect(config.route.group_by).toEqual(expect.arrayContaining(['alertname', 'namespace', 'service']));
    const rule = config.inhibit_rules.find((r: any) => r.source_matchers.includes('severity = "critical"'));
    expect(rule.target_matchers).toContain('severity = "warning"');
    expect(rule.equal).toEqual(expect.arrayContaining(['namespace', 'service']));
    // alerts without a service (cluster-wide ones) are neither silenced nor silencing
    expect(rule.source_matchers).toContain('service =~ ".+"');
    expect(rule.target_matchers).toContain('service =~ ".+"');
    // a fast burn covers the slower burns of the same objective and namespace
    for (const fast of ['CryptoCareErrorBudgetBurnFast', 'CryptoCareLatencyBudgetBurnFast']) {
      const r = config.inhibit_rules.find((x: any) => x.source_matchers.includes(`alertname = "${fast}"`));
      expect(r.equal).toEqual(['namespace']);
    }
    // ... which only works if the fast burns carry the namespace label, as the slow ones do
    const alerts = renderedAlerts();
    const exprOf = (name: string) => alerts.find((a: any) => a.alert === name) as any;
    expect(exprOf('CryptoCareErrorBudgetBurnFast').expr.match(/sum by \(namespace\)/g)).toHaveLength(4);
  });
});

describe('Prometheus retention', () => {
  const spec = values.prometheus.prometheusSpec;
  const days = (d: string) => {
    const m = /^(\d+)(d|w|y)$/.exec(d);
    if (!m) throw new Error(`retention ${d}: expected <n>d, <n>w or <n>y`);
    return Number(m[1]) * { d: 1, w: 7, y: 365 }[m[2] as 'd' | 'w' | 'y'];
  };
  const bytes = (q: string) => {
    const m = /^(\d+)(Gi|GB|Ti|TB)$/.exec(q);
    if (!m) throw new Error(`size ${q}`);
    return Number(m[1]) * { Gi: 2 ** 30, GB: 1e9, Ti: 2 ** 40, TB: 1e12 }[m[2] as 'Gi' | 'GB' | 'Ti' | 'TB'];
  };

  test('Prometheus keeps more than the 30-day SLO window, on a volume, and stops by size before the volume fills', () => {
    expect(days(spec.retention)).toBeGreaterThan(30);
    const storage = spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage;
    expect(bytes(spec.retentionSize)).toBeLessThan(bytes(storage) * 0.9);
    // the slowest alert window and the SLO panel fit in what is kept
    const burn = readFileSync(join(APP_CHART, 'files/alerts/slo-burn-rates.yaml'), 'utf8');
    const windows = [...burn.matchAll(/\[(\d+)d\]/g)].map((m) => Number(m[1]));
    expect(Math.max(...windows)).toBeLessThanOrEqual(days(spec.retention));
  });
});
