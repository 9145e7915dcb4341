// Every alert has a runbook that exists (docs/runbooks/<alert>.md), linked from the alert's
// runbook_url, with the sections an on-call engineer needs; the Kafka recovery procedures are written
// against the names the platform really uses.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { consumerGroups } from '@cryptocare/contracts';
import { TARGETS } from './lib/contract';
import { APP_CHART, PLATFORM_CHART, ROOT, byKind, helmPath, must, render, valuesFiles, type K8sObject } from './lib/tools';

const RUNBOOKS = join(ROOT, 'docs/runbooks');
const SECTIONS = ['What it means', 'Impact', 'First checks', 'Mitigation', 'Escalation'];
/** Runbooks that are not an alert's: the index and the shared procedures. */
const SHARED = ['README.md', 'kafka-recovery.md'];
const BASE_URL: string = parse(readFileSync(join(APP_CHART, 'values.yaml'), 'utf8')).global.monitoring.runbookBaseUrl;

interface AlertRule { alert: string; labels?: Record<string, string>; annotations?: Record<string, string> }

function alertsOf(objs: K8sObject[]): AlertRule[] {
  return byKind(objs, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules)).filter((r: AlertRule) => r.alert);
}

/** What is wrong with the runbooks of these alerts (empty when each links an existing, complete runbook). */
function runbookProblems(alerts: AlertRule[], runbooks = RUNBOOKS): string[] {
  return alerts.flatMap((a) => {
    const url = a.annotations?.runbook_url;
    if (url !== `${BASE_URL}/${a.alert}.md`) return [`${a.alert}: runbook_url is ${url}`];
    const file = join(runbooks, `${a.alert}.md`);
    if (!existsSync(file)) return [`${a.alert}: docs/runbooks/${a.alert}.md does not exist`];
    return [];
  });
}

const sectionsOf = (text: string) => [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());
const sectionText = (text: string, title: string) => text.split(/^## /m).find((s) => s.startsWith(`${title}\n`)) ?? '';

beforeAll(() => {
  helmPath();
}, 15 * 60_000);

describe.each(TARGETS)('runbooks of the alerts rendered for $name', ({ env, region }) => {
  test('every alert links its runbook, and the runbook exists', () => {
    const alerts = alertsOf(render(APP_CHART, valuesFiles(APP_CHART, env, region)));
    expect(alerts.length).toBeGreaterThan(15);
    expect(runbookProblems(alerts)).toEqual([]);
  });
});

describe('docs/runbooks', () => {
  const files = readdirSync(RUNBOOKS).filter((f) => f.endsWith('.md'));
  const rendered = alertsOf(render(APP_CHART, valuesFiles(APP_CHART, 'production', 'ch')));
  const fromFiles: AlertRule[] = readdirSync(join(APP_CHART, 'files/alerts'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parse(readFileSync(join(APP_CHART, 'files/alerts', f), 'utf8')).groups.flatMap((g: any) => g.rules))
    .filter((r: AlertRule) => r.alert);

  test('every alert of files/alerts/*.yaml has a runbook (whatever the values render)', () => {
    expect(fromFiles.length).toBeGreaterThan(5);
    for (const a of fromFiles) expect({ alert: a.alert, exists: existsSync(join(RUNBOOKS, `${a.alert}.md`)) }).toEqual({ alert: a.alert, exists: true });
  });

  test('each runbook says what the alert means, its impact, first checks with commands, mitigation and escalation', () => {
    for (const a of rendered) {
      const text = readFileSync(join(RUNBOOKS, `${a.alert}.md`), 'utf8');
      expect({ alert: a.alert, title: text.split('\n')[0] }).toEqual({ alert: a.alert, title: `# ${a.alert}` });
      expect({ alert: a.alert, sections: sectionsOf(text) }).toEqual({ alert: a.alert, sections: SECTIONS });
      // first checks are concrete: a command or query block
      expect({ alert: a.alert, commands: /```sh\n[\s\S]+?```/.test(sectionText(text, 'First checks')) }).toEqual({ alert: a.alert, commands: true });
      for (const s of SECTIONS) expect({ alert: a.alert, section: s, empty: sectionText(text, s).trim() === s }).toEqual({ alert: a.alert, section: s, empty: false });
      // the severity it states is the rule's (what pages and what waits for working hours)
      expect({ alert: a.alert, severity: /\*\*Severity\*\*: (\w+)/.exec(text)?.[1] }).toEqual({ alert: a.alert, severity: a.labels?.severity });
    }
  });

  test('no runbook without an alert, and every relative link leads to a file', () => {
    const alerts = new Set([...rendered, ...fromFiles].map((a) => a.alert));
    for (const f of files.filter((x) => !SHARED.includes(x))) expect({ f, alert: alerts.has(f.replace(/\.md$/, '')) }).toEqual({ f, alert: true });
    for (const f of files) {
      const text = readFileSync(join(RUNBOOKS, f), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
        const target = resolve(RUNBOOKS, m[1]!);
        expect({ f, link: m[1], exists: existsSync(target) }).toEqual({ f, link: m[1], exists: true });
      }
    }
    const index = readFileSync(join(RUNBOOKS, 'README.md'), 'utf8');
    for (const a of alerts) expect(index).toContain(`(${a}.md)`);
  });

  test('an alert added to files/alerts gets a runbook_url, and a missing runbook is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cryptocare-runbooks-'));
    try {
      const chart = join(dir, 'cryptocare');
      cpSync(APP_CHART, chart, { recursive: true });
      writeFileSync(join(chart, 'files/alerts/extra.yaml'), 'groups:\n  - name: extra\n    rules:\n      - alert: CryptoCareSomethingNew\n        expr: vector(1) > 0\n        labels: { severity: warning }\n        annotations: { summary: "new" }\n');
      const alerts = alertsOf(render(chart, valuesFiles(chart, 'staging', 'ch')));
      expect(must(alerts.find((a) => a.alert === 'CryptoCareSomethingNew'), 'the new alert').annotations!.runbook_url).toBe(`${BASE_URL}/CryptoCareSomethingNew.md`);
      expect(runbookProblems(alerts)).toEqual(['CryptoCareSomethingNew: docs/runbooks/CryptoCareSomethingNew.md does not exist']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the base URL is the repository\'s docs/runbooks (the directory these files are in)', () => {
    expect(BASE_URL).toMatch(/^https:\/\/\S+\/docs\/runbooks$/);
    expect(dirname(join(RUNBOOKS, 'x.md'))).toBe(join(ROOT, 'docs/runbooks'));
  });
});

describe('docs/runbooks/kafka-recovery.md', () => {
  const text = readFileSync(join(RUNBOOKS, 'kafka-recovery.md'), 'utf8');
  const platform = render(PLATFORM_CHART, valuesFiles(PLATFORM_CHART, 'production', 'ch'), { namespace: 'cryptocare-platform', release: 'cryptocare-platform' });

  test('covers lag, dead-letter replay, resetting a group\'s offsets and recreating a topic from its KafkaTopic', () => {
    expect(sectionsOf(text)).toEqual(expect.arrayContaining(['Consumer lag', 'Replaying dead-lettered events', 'Resetting a consumer group\'s offsets', 'Recreating a topic']));
    const reset = sectionText(text, 'Resetting a consumer group\'s offsets');
    expect(reset).toMatch(/kafka-consumer-groups\.sh --group \$GROUP --topic \$TOPIC --reset-offsets --to-datetime \S+ --dry-run/);
    expect(reset).toContain('--execute');
    expect(reset).toContain('autoscaling.keda.sh/paused-replicas=0'); // a group with members cannot be reset
    expect(sectionText(text, 'Recreating a topic')).toContain('kubectl -n kafka delete kafkatopic');
    // replay is binary-safe: the values are protobuf, never piped through the line-based console producer
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
    expect(blocks).not.toMatch(/kafka-console-producer/);
    expect(blocks).toMatch(/kcat -b \$B -P -t \$T -k "\$KEY" \/tmp\/value\.bin/);
  });

  test('the names it uses are the platform\'s: cluster, broker pool, bootstrap, KafkaTopic names, consumer groups', () => {
    const kafka = must(byKind(platform, 'Kafka')[0], 'the Kafka cluster');
    const pool = must(byKind(platform, 'KafkaNodePool')[0], 'the node pool');
    expect(text).toContain(`BROKER=${kafka.metadata.name}-${pool.metadata.name}-0`);
    expect(text).toContain(`${kafka.metadata.name}-kafka-bootstrap.${kafka.metadata.namespace}.svc:9092`);
    const topics = Object.fromEntries(byKind(platform, 'KafkaTopic').map((t) => [t.spec.topicName, t.metadata.name]));
    for (const m of text.matchAll(/kafkatopic[/ ]([a-z0-9-]+)/g)) expect(Object.values(topics)).toContain(m[1]);
    expect(text).toContain(`kafkatopic payment-webhooks-v1`);
    expect(topics['payment.webhooks.v1']).toBe('payment-webhooks-v1');
    const groups = Object.values(consumerGroups()).flatMap((g) => Object.keys(g));
    for (const m of text.matchAll(/GROUP=(\w+)/g)) expect(groups).toContain(m[1]);
    for (const m of text.matchAll(/--group (\w+)/g)) expect(groups).toContain(m[1]);
  });
});
