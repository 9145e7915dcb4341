// One list of the Kafka topics each service consumes (charts/cryptocare/files/consumers.json): what the
// services' code really subscribes, what KEDA scales them on and what the runtime contract says must
// be the same. A consumer whose topics are written anywhere else, a lag trigger on a topic the service
// never reads (it would pin the service at maxReplicas), or a stale table in the docs fails here.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { consumerGroups, consumedTopics } from '@cryptocare/contracts';
import { identityConsumers } from '../../services/identity/src/events/audit-events';
import { searchConsumers } from '../../services/search/src/events/search-consumers';
import { appointmentConsumers } from '../../services/appointment/src/events/handlers';
import { paymentConsumers } from '../../services/payment/src/events/handlers';
import { MeetingEvents } from '../../services/video/src/events/meeting-events';
import { SERVICES } from './lib/contract';
import { APP_CHART, ROOT, byKind, render, valuesFiles, type K8sObject } from './lib/tools';

type Groups = Record<string, string[]>;
interface Consumer { groupId: string; topics: string[] }

// The handlers only close over their dependencies: building the consumers calls none of them.
const unused = new Proxy({}, { get: () => () => { throw new Error('not called while building consumers'); } }) as any;
const build = (factory: (...args: any[]) => Consumer[]) => factory(unused, unused, unused);

/**
 * Each service's consumers as its main.ts hands them to hostService: the factory it calls (checked in
 * its source below) and what that factory returns.
 */
const WIRING: Record<string, { inMain: RegExp | null; consumers: () => Consumer[] }> = {
  identity: { inMain: /consumers:\s*identityConsumers\(/, consumers: () => build(identityConsumers) },
  search: { inMain: /consumers:\s*searchConsumers\(/, consumers: () => build(searchConsumers) },
  appointment: { inMain: /consumers:\s*appointmentConsumers\(/, consumers: () => build(appointmentConsumers) },
  payment: { inMain: /consumers:\s*paymentConsumers\(/, consumers: () => build(paymentConsumers) },
  video: { inMain: /consumers:\s*\[meetingEvents\.consumer\(\)\]/, consumers: () => [new MeetingEvents(unused).consumer()] },
};

function subscribed(service: string): Groups {
  const wiring = WIRING[service];
  if (!wiring) throw new Error(`no consumer wiring known for ${service}: add it to WIRING`);
  const groups: Groups = {};
  for (const c of wiring.consumers()) groups[c.groupId] = [...(groups[c.groupId] ?? []), ...c.topics];
  return groups;
}

function lagTriggers(objs: K8sObject[], service: string): Groups {
  const so = byKind(objs, 'ScaledObject').find((s) => s.spec.scaleTargetRef.name === service)!;
  const groups: Groups = {};
  for (const t of so.spec.triggers.filter((t: any) => t.type === 'kafka')) {
    groups[t.metadata.consumerGroup] = [...(groups[t.metadata.consumerGroup] ?? []), t.metadata.topic];
  }
  return groups;
}

const sorted = (g: Groups) => Object.fromEntries(Object.entries(g).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return ['node_modules', 'generated', 'dist', 'test'].includes(e.name) ? [] : sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

const backends = Object.keys(SERVICES).filter((s) => s !== 'gateway');

test('every backend hands hostService the consumers of its factory, and no other', () => {
  for (const service of backends) {
    const main = readFileSync(join(ROOT, 'services', service, 'src/main.ts'), 'utf8');
    const uses = main.match(/\bconsumers:/g)?.length ?? 0;
    const wiring = WIRING[service]!;
    if (wiring.inMain) {
      expect({ service, wired: wiring.inMain.test(main), uses }).toEqual({ service, wired: true, uses: 1 });
    } else {
      expect({ service, uses }).toEqual({ service, uses: 0 });
    }
  }
});

test('no consumer in the services writes its own topic list: they come from consumedTopics()', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(join(ROOT, 'services'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\btopics:\s*([^\n,}]+)/g)) {
      const where = relative(ROOT, file);
      // The gateway's SSE fan-out: a throw-away group per replica, never lag-scaled (see below).
      if (where === 'services/gateway/src/sse/appointment-stream.ts') continue;
      if (!m[1]!.startsWith('consumedTopics(')) offenders.push(`${where}: topics: ${m[1]}`);
    }
  }
  expect(offenders).toEqual([]);
});

test('what each service subscribes is what files/consumers.json declares', () => {
  const declared = consumerGroups();
  expect(Object.keys(declared).sort()).toEqual([...backends].sort());
  for (const service of backends) {
    expect({ service, groups: sorted(subscribed(service)) }).toEqual({ service, groups: sorted(declared[service]!) });
  }
  expect(() => consumedTopics('video', 'identity')).toThrow(/declares no consumer group "identity" for video/);
});

describe.each([
  ['staging', 'ch'],
  ['production', 'eu'],
])('the chart for %s-%s', (env, region) => {
  let objs: K8sObject[];
  beforeAll(() => {
    objs = render(APP_CHART, valuesFiles(APP_CHART, env, region));
  }, 15 * 60_000);

  test('scales each service on the lag of exactly the groups and topics its code subscribes', () => {
    for (const service of backends) {
      expect({ service, triggers: sorted(lagTriggers(objs, service)) }).toEqual({ service, triggers: sorted(subscribed(service)) });
    }
    // video reads appointment events, search's (a verified professional gets a Zoom host) and
    // identity's (an erased professional's Zoom host goes) and its own Zoom webhook inbox's work items:
    // it consumes each, so each lag drains
    expect(lagTriggers(objs, 'video')).toEqual({ video: ['appointment.events.v1', 'search.events.v1', 'identity.events.v1', 'video.webhooks.v1'] });
  });

  test("the gateway's per-replica SSE groups get no lag trigger", () => {
    const source = readFileSync(join(ROOT, 'services/gateway/src/main.ts'), 'utf8');
    expect(source).toMatch(/`gateway-sse-\$\{/); // a group per process: its lag says nothing about load
    expect(lagTriggers(objs, 'gateway')).toEqual({});
  });

  test('the consumer-lag alert watches the declared groups', () => {
    const rules = byKind(objs, 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules));
    const expr: string = rules.find((r: any) => r.alert === 'CryptoCareConsumerLagHigh').expr;
    const groups = expr.match(/consumergroup=~"([^"]+)"/)![1]!.split('|').sort();
    expect(groups).toEqual(Object.values(consumerGroups()).flatMap((g) => Object.keys(g)).sort());
  });
});

test('docs/runtime-contract.md states the same consumer groups and topics', () => {
  const doc = readFileSync(join(ROOT, 'docs/runtime-contract.md'), 'utf8');
  const rows = doc.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| process'));
  const header = doc.split('\n').find((l) => l.startsWith('| process'))!.split('|').map((c) => c.trim());
  const col = (name: string) => header.findIndex((c) => c.startsWith(name));
  const declared = consumerGroups();
  for (const service of backends) {
    const cells = rows.find((r) => r.split('|')[1]!.trim() === service)!.split('|').map((c) => c.trim());
    const group = cells[col('Kafka consumer group')]!.replace(/`/g, '');
    const topics = cells[col('consumes')]!;
    const expected = declared[service]!;
    const stated: Groups = group === '—' ? {} : { [group]: topics.split(',').map((t) => t.trim()) };
    expect({ service, stated: sorted(stated) }).toEqual({ service, stated: sorted(expected) });
  }
});
