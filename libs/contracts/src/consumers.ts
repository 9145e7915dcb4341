// The Kafka topics each service consumes, by durable consumer group. The list lives in the chart,
// charts/cryptocare/files/consumers.json, because Helm reads only files inside a chart and renders the
// KEDA lag triggers from it: the code subscribes to exactly what the autoscaler watches, with no
// second list to drift. esbuild bundles the JSON into each service's dist/main.js.
import declaredFile from '../../../charts/cryptocare/files/consumers.json';
import { topics } from './events';

export type Topic = (typeof topics)[keyof typeof topics];

/** service -> consumer group -> topics */
export type ConsumerGroups = Record<string, Record<string, Topic[]>>;

const knownTopics = new Set<string>(Object.values(topics));

function checked(file: { services: Record<string, Record<string, string[]>> }): ConsumerGroups {
  const out: ConsumerGroups = {};
  for (const [service, groups] of Object.entries(file.services)) {
    out[service] = {};
    for (const [group, list] of Object.entries(groups)) {
      const unknown = list.filter((t) => !knownTopics.has(t));
      if (list.length === 0 || unknown.length > 0) {
        throw new Error(`charts/cryptocare/files/consumers.json: group "${group}" of ${service} needs known topics (unknown: ${unknown.join(', ') || 'none listed'})`);
      }
      out[service]![group] = list as Topic[];
    }
  }
  return out;
}

// Checked once, when a service starts: a typo in the file stops the process instead of a consumer
// silently waiting on a topic nobody produces.
const declared = checked(declaredFile);

/** Every service's durable consumer groups and the topics each subscribes. */
export function consumerGroups(): ConsumerGroups {
  return Object.fromEntries(Object.entries(declared).map(([s, groups]) => [s, Object.fromEntries(Object.entries(groups).map(([g, t]) => [g, [...t]]))]));
}

/** The topics consumer group `groupId` of `service` subscribes; fails when the file does not declare it. */
export function consumedTopics(service: string, groupId: string): Topic[] {
  const list = declared[service]?.[groupId];
  if (!list) throw new Error(`charts/cryptocare/files/consumers.json declares no consumer group "${groupId}" for ${service}`);
  return [...list];
}
