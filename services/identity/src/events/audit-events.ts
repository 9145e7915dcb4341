import type { Logger } from '@cryptocare/platform';
import { consumedTopics, isAuditKind } from '@cryptocare/contracts';
import type { BackgroundTask, EventHandlers } from '@cryptocare/events';
import type { AuditTrail } from '../store/audit-trail';

/**
 * `audit.recorded` from the other services into the chain. The consumer's processed_events row
 * and the entry (whose id is the event's) commit together: a redelivered event is chained once.
 * An entry that breaks the rules (unknown kind, a field that is not an id or a code) fails and
 * ends on the dead-letter topic, never in the trail.
 */
export function identityConsumers(deps: { audit: AuditTrail; logger: Logger }) {
  const { audit, logger } = deps;
  const handlers: EventHandlers = {
    'audit.recorded': async (event, tx) => {
      const { kind, actorId, subjectId, objectId, details, occurredAt } = event.data;
      if (!isAuditKind(kind) || kind === 'audit.pruned') throw new Error(`audit event ${event.id} from ${event.source}: refused kind "${kind.slice(0, 64)}"`);
      const at = Date.parse(occurredAt);
      await audit.record(tx, kind, { actorId, subjectId, objectId, details }, { id: event.id, source: event.source.slice(0, 40), occurredAt: new Date(Number.isFinite(at) ? at : Date.parse(event.time)) });
      logger.debug({ eventId: event.id, kind }, 'audit event chained');
    },
  };
  return [{ groupId: 'identity', topics: consumedTopics('identity', 'identity'), handlers }];
}

/** Once a day per replica (the chain's lock serialises them): prunes entries past their retention. */
export function auditRetentionJob(audit: AuditTrail, logger: Logger, everyMs = 24 * 60 * 60 * 1000): BackgroundTask {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const run = () => {
    running = audit.prune().then(
      (r) => void ((r.pruned > 0 || r.deleted > 0) && logger.info(r, 'audit retention: entries pruned')),
      (err: unknown) => logger.error({ err }, 'audit retention failed; retried at the next run'),
    );
  };
  return {
    name: 'audit-retention',
    start() {
      timer = setInterval(run, everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
