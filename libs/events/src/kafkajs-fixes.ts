/**
 * Fixes for kafkajs 2.2.4, which has had no maintainer since 2023 (docs/dependencies.md lists them
 * all). Loaded by the Kafka bus before it creates a client; each fix is checked by
 * libs/events/test/kafkajs-fixes.test.ts against the real broker.
 *
 * Request queue polling (kafkajs issues 1704 and 1751, fix PRs 1755/1768 never merged): once a
 * broker connection has answered one request, its queue re-arms a timer of `throttledUntil - now`
 * ms after every check, with `throttledUntil` = -1 when never throttled: a negative delay, which
 * Node runs after 1 ms (and, from Node 24, reports once as a TimeoutNegativeWarning). So every
 * connection of every process wakes up about 750 times a second for nothing (a tenth of a core
 * for one idle connection, measured). A check is only needed while requests wait: when one is
 * queued (push schedules it), when a throttle ends (still scheduled below) or when an in-flight
 * request completes (kafkajs checks then anyway).
 */
interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

// kafkajs' own module, the one its connections instantiate (kafkajs ships its sources as they are).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueueClass = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueue & { cryptocareFixed?: boolean } };

const queue = RequestQueueClass.prototype;
if (typeof queue.scheduleCheckPendingRequests === 'function' && !queue.cryptocareFixed) {
  const schedule = queue.scheduleCheckPendingRequests;
  queue.scheduleCheckPendingRequests = function (this: RequestQueue) {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    schedule.call(this);
  };
  queue.cryptocareFixed = true;
}

export const kafkajsFixesApplied = queue.cryptocareFixed === true;
