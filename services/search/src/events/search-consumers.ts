// What search reacts to: the earliest free slot from appointment, erasure from identity.
import { consumedTopics } from '@cryptocare/contracts';
import type { EventHandlers } from '@cryptocare/events';
import { isUuid, type Logger } from '@cryptocare/platform';
import { parseInstant } from '../domain/search-criteria';
import type { DirectoryCache } from '../store/directory-cache';
import type { DirectoryStore } from '../store/directory-store';

export const CONSUMER_GROUP = 'search';
/** A schedule's notice is at most a week (appointment's LIMITS); anything beyond is read as that. */
const MAX_NOTICE_MINUTES = 7 * 24 * 60;

export function searchConsumers(deps: { store: DirectoryStore; cache: DirectoryCache; logger: Logger }) {
  const { store, cache, logger } = deps;

  const handlers: EventHandlers = {
    /** Denormalises the earliest free slot into the read model (empty = nothing free). */
    async 'appointment.availability_changed'(event, tx) {
      const { professionalId, nextAvailableAt, laterAvailableAt, minimumNoticeMinutes } = event.data;
      if (!isUuid(professionalId)) {
        logger.warn({ eventId: event.id }, 'availability event without a valid professional id; ignored');
        return;
      }
      // Thrown: retried, then parked on the dead-letter topic where someone will see it.
      const instant = (text: string): Date => {
        const parsed = parseInstant(text);
        if (!parsed) throw new Error(`availability event ${event.id} has a malformed slot time`);
        return parsed;
      };
      const next = nextAvailableAt ? instant(nextAvailableAt) : null;
      // Soonest first, each after the earliest (the order search moves along them in).
      const later = next ? laterAvailableAt.map(instant).filter((at) => at > next).sort((x, y) => x.getTime() - y.getTime()) : [];
      const asOf = parseInstant(event.time) ?? new Date();
      const id = professionalId.toLowerCase();
      if (await store.applyAvailability(tx, id, { next, later, minimumNoticeMinutes: Math.min(Math.max(0, minimumNoticeMinutes), MAX_NOTICE_MINUTES) }, asOf)) await cache.invalidateProfile(id);
    },

    /** Erasure: the profile goes entirely (search holds nothing that must be kept). */
    async 'identity.user_erased'(event, tx) {
      const userId = event.data.userId || event.subject;
      if (!isUuid(userId)) return;
      const id = userId.toLowerCase();
      await store.erase(tx, id);
      await cache.invalidateListing(id);
    },
  };

  return [{ groupId: CONSUMER_GROUP, topics: consumedTopics('search', CONSUMER_GROUP), handlers }];
}
