// The chart's Grafana dashboards and Prometheus rules (charts/cryptocare/files): rendered into the
// cluster objects, on the plan's SLOs, and written against metric names the processes really expose.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { latencyBuckets, sloBuckets } from '@cryptocare/platform';
import { APP_CHART, ROOT, byKind, find, helmPath, must, render, valuesFiles, type K8sObject } from './lib/tools';
import { validateAll } from './lib/validate';

const DASHBOARDS = join(APP_CHART, 'files/dashboards');
const ALERTS = join(APP_CHART, 'files/alerts');

/** Metrics of other exporters the queries may use: Strimzi's Kafka exporter, cAdvisor, kube-state-metrics. */
const EXTERNAL = new Set(['kafka_consumergroup_lag', 'container_cpu_usage_seconds_total', 'kube_pod_container_resource_requests']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return ['node_modules', 'generated', 'dist', 'test'].includes(e.name) ? [] : sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every metric the code registers (histogram/counter/gauge helpers, prom-client's defaults). */
function exposedMetrics(): Set<string> {
  const names = new Set<string>();
  const files = [...sourceFiles(join(ROOT, 'libs')), ...sourceFiles(join(ROOT, 'services'))];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:histogram|counter|gauge|metric)\(\s*'([a-z_:][a-z0-9_:]*)'/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\bname:\s*'([a-z_][a-z0-9_]*_(?:seconds|total|bytes))'/g)) names.add(m[1]!);
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const m of registry.getMetricsAsArray()) names.add(m.name);
  return names;
}

/** Series in a PromQL expression: `name{` or `name[` (not functions), and recorded `a:b:c` names. */
function metricsIn(expr: string): string[] {
  const selected = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1]!);
  const recordedNames = [...expr.matchAll(/\b([a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+)/g)].map((m) => m[1]!);
  return [...new Set([...selected, ...recordedNames])].filter((n) => !['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(n));
}
const baseName = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  const stack: string[] = [];
  let quoted = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' && expr[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if ('({['.includes(c)) stack.push(c);
    else if (pairs[c] && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0 && !quoted;
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const ruleFiles = readdirSync(ALERTS).filter((f) => f.endsWith('.yaml'));
const rules: Rule[] = ruleFiles.flatMap((f) => (parse(readFileSync(join(ALERTS, f), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules));
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
const dashboardFiles = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
const dashboards = Object.fromEntries(dashboardFiles.map((f) => [f, JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8'))]));

function panelsOf(dashboard: any): any[] {
  return dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
}
function exprsOf(dashboard: any): string[] {
  return panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string));
}

describe('dashboards and alert rules of the chart', () => {
  const exposed = exposedMetrics();
  const known = (series: string) => exposed.has(series) || exposed.has(baseName(series)) || EXTERNAL.has(series) || recorded.has(series);

  test('one SLO overview, one dashboard per service and one for Kafka', () => {
    expect(dashboardFiles.sort()).toEqual(
      ['kafka.json', 'slo-overview.json', ...['appointment', 'gateway', 'identity', 'payment', 'search', 'video'].map((s) => `service-${s}.json`)].sort(),
    );
    const uids = Object.values(dashboards).map((d: any) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const [file, d] of Object.entries(dashboards) as Array<[string, any]>) {
      expect({ file, title: typeof d.title, panels: d.panels.length > 3 }).toEqual({ file, title: 'string', panels: true });
      const ids = panelsOf(d).map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of panelsOf(d)) {
        if (p.type === 'row') continue;
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        expect(p.targets.length).toBeGreaterThan(0);
      }
    }
  });

  test('every dashboard query and rule is balanced PromQL over metrics the processes expose', () => {
    const exprs = [...Object.values(dashboards).flatMap(exprsOf), ...rules.map((r) => r.expr)];
    expect(exprs.length).toBeGreaterThan(80);
    const unknown = new Set<string>();
    for (const expr of exprs) {
      expect({ expr, balanced: balanced(expr) }).toEqual({ expr, balanced: true });
      const used = metricsIn(expr);
      expect({ expr, selects: used.length > 0 || /^vector\(/.test(expr) }).toEqual({ expr, selects: true });
      for (const name of used) if (!known(name)) unknown.add(name);
    }
    expect([...unknown]).toEqual([]);
  });

  test('the SLO overview shows every objective of the plan against its threshold', () => {
    const overview = dashboards['slo-overview.json'];
    const panels = panelsOf(overview).filter((p) => p.type !== 'row');
    const panel = (title: RegExp) => must(panels.find((p) => title.test(p.title)), `a panel ${title}`);
    const steps = (p: any) => p.fieldConfig.defaults.thresholds.steps.map((s: any) => s.value).filter((v: unknown) => v !== null);
    expect(steps(panel(/^API availability/))).toContain(0.999);
    expect(steps(panel(/^API error rate \(5m\)/))).toEqual([0.001, 0.005]);
    expect(steps(panel(/^API p95/))).toEqual([0.4, 0.5]);
    expect(steps(panel(/^Bitcoin QR p95/))).toEqual([2]);
    expect(steps(panel(/^Payment confirmation p95/))).toEqual([5]);
    expect(steps(panel(/^Meeting link p95/))).toEqual([2]);
    expect(panel(/^Bitcoin QR p95/).targets[0].expr).toContain('invoice_creation_seconds_bucket');
    expect(panel(/^Payment confirmation p95/).targets[0].expr).toContain('webhook_to_confirmation_seconds_bucket');
    expect(panel(/^Meeting link p95/).targets[0].expr).toContain('meeting_link_seconds_bucket');
    expect(panel(/^Bookings by status/).targets[0].expr).toContain('bookings_total');
    expect(panel(/burn rate/i).targets.map((t: any) => t.expr).join(' ')).toContain('cryptocare:api_error_ratio:rate1h');
    expect(steps(panel(/^CPU per pod/))).toEqual([0.7]);
    // The thresholds sit on bucket boundaries, so the SLO ratios are exact.
    expect(latencyBuckets).toEqual(expect.arrayContaining([0.4, 0.5]));
    expect(sloBuckets).toEqual(expect.arrayContaining([2, 5]));
  });

  test('the Kafka dashboard shows lag per group and partition, the outbox and the dead letters', () => {
    const exprs = exprsOf(dashboards['kafka.json']).join('\n');
    expect(exprs).toMatch(/kafka_consumer_lag\{[^}]*\}\)/);
    expect(exprs).toContain('by (consumergroup, topic, partition)');
    expect(exprs).toContain('outbox_backlog');
    expect(exprs).toContain('outbox_oldest_age_seconds');
    expect(exprs).toContain('outcome="dead_lettered"');
  });

  test('multi-window burn-rate alerts for 99.9 % availability and p95 < 500 ms, every alert labelled and explained', () => {
    const alert = (name: string) => must(rules.find((r) => r.alert === name), name);
    // availability: budget 0.1 %; 14.4x (1 h / 5 m) is in templates/prometheusrule.yaml
    expect(alert('CryptoCareAvailabilityBudgetBurn').expr).toMatch(/rate6h > \(6 \* 0\.001\)[\s\S]*and[\s\S]*rate30m > \(6 \* 0\.001\)/);
    expect(alert('CryptoCareAvailabilityBudgetBurnSlow').expr).toMatch(/rate3d > 0\.001[\s\S]*and[\s\S]*rate6h > 0\.001/);
    // latency: 95 % within 500 ms (budget 5 %), read on the le="0.5" bucket
    expect(alert('CryptoCareLatencyBudgetBurnFast').expr).toMatch(/slow_ratio:rate1h > \(14\.4 \* 0\.05\)[\s\S]*and[\s\S]*slow_ratio:rate5m > \(14\.4 \* 0\.05\)/);
    expect(alert('CryptoCareLatencyBudgetBurn').expr).toMatch(/slow_ratio:rate6h > \(6 \* 0\.05\)[\s\S]*and[\s\S]*slow_ratio:rate30m/);
    const slow = rules.filter((r) => r.record?.startsWith('cryptocare:api_slow_ratio:'));
    expect(slow.map((r) => r.record!.split(':')[2]).sort()).toEqual(['rate1h', 'rate30m', 'rate3d', 'rate5m', 'rate6h']);
    for (const r of slow) expect(r.expr).toContain('le="0.5"');
    // the business SLIs
    expect(alert('CryptoCareBitcoinQrSlow').expr).toMatch(/invoice_creation_seconds_bucket[\s\S]*> 2\s*$/);
    expect(alert('CryptoCarePaymentConfirmationSlow').expr).toMatch(/webhook_to_confirmation_seconds_bucket[\s\S]*> 5\s*$/);
    expect(alert('CryptoCareMeetingLinkSlow').expr).toMatch(/meeting_link_seconds_bucket[\s\S]*> 2\s*$/);
    for (const r of rules.filter((x) => x.alert)) {
      expect({ alert: r.alert, severity: r.labels?.severity }).toEqual({ alert: r.alert, severity: expect.stringMatching(/^(warning|critical)$/) });
      expect(r.annotations?.summary).toBeTruthy();
    }
    // every recording rule a dashboard or an alert reads is defined
    const reads = [...Object.values(dashboards).flatMap(exprsOf), ...rules.map((r) => r.expr)].flatMap((e) => metricsIn(e)).filter((n) => n.includes(':'));
    for (const name of reads) expect(recorded).toContain(name);
  });

  describe('rendered by the chart', () => {
    let objs: K8sObject[];
    beforeAll(() => {
      helmPath();
      objs = render(APP_CHART, valuesFiles(APP_CHART, 'production', 'ch'));
    }, 15 * 60_000);

    test('each dashboard is a ConfigMap for Grafana and the rules a PrometheusRule, none duplicating the chart\'s alerts', () => {
      for (const file of dashboardFiles) {
        const cm = must(find(objs, 'ConfigMap', `cryptocare-dashboard-${file.replace(/\.json$/, '')}`), file);
        expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
        expect(JSON.parse(must(cm.data?.[file], file)).uid).toBe(dashboards[file].uid);
      }
      const prometheusRules = byKind(objs, 'PrometheusRule');
      const fromFiles = must(find(objs, 'PrometheusRule', 'cryptocare-slo-burn-rates'), 'the burn-rate rules');
      expect(fromFiles.spec.groups.flatMap((g: any) => g.rules).length).toBe(rules.length);
      const alerts = prometheusRules.flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules)).flatMap((r: any) => (r.alert ? [r.alert] : []));
      expect(new Set(alerts).size).toBe(alerts.length);
      expect(alerts).toEqual(expect.arrayContaining(['CryptoCareErrorBudgetBurnFast', 'CryptoCareAvailabilityBudgetBurn', 'CryptoCareLatencyBudgetBurnFast']));
      expect(validateAll([...prometheusRules, ...byKind(objs, 'ConfigMap')])).toEqual([]);
    });

    test('the dev values ship neither dashboards nor rules', () => {
      const dev = render(APP_CHART, [join(APP_CHART, 'values-dev.yaml')]);
      expect(byKind(dev, 'PrometheusRule')).toEqual([]);
      expect(byKind(dev, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1')).toEqual([]);
    });
  });
});
