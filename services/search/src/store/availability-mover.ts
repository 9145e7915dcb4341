// Keeps search's earliest free slots true as time passes: a profile whose nextAvailableAt can no
// longer be booked moves on to the next free slot the last availability event listed
// (DirectoryStore.moveAvailabilityOn), and its cached profile is forgotten. appointment republishes
// a professional only when the listed slots run out, not at every slot boundary of the day.
import { counter, type Logger } from '@cryptocare/platform';
import type { DirectoryCache } from './directory-cache';
import type { DirectoryStore } from './directory-store';

const moved = counter('availability_moved_on_total', 'Profiles whose earliest free slot passed and moved on to the next one listed');

/** Profiles per statement; a round repeats while it finds that many (a slot boundary of a busy hour moves thousands). */
export const MOVE_BATCH = 1_000;

export class AvailabilityMover {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;

  constructor(
    private readonly store: DirectoryStore,
    private readonly cache: DirectoryCache,
    private readonly logger: Logger,
    private readonly everyMs: number,
  ) {}

  /** Moves on every profile due at `now`; returns how many moved. */
  async moveOn(now = new Date()): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await this.store.moveAvailabilityOn(now, MOVE_BATCH);
      await Promise.all(ids.map((id) => this.cache.invalidateProfile(id)));
      total += ids.length;
      moved.inc(ids.length);
      if (ids.length < MOVE_BATCH) return total;
    }
  }

  /** hostService's background task: a round every `everyMs`, one at a time. */
  readonly task = {
    name: 'availability-mover',
    start: () => {
      this.timer = setInterval(() => {
        if (this.round) return;
        this.round = this.moveOn()
          .catch((err: unknown) => this.logger.warn({ err }, 'moving earliest free slots on failed'))
          .finally(() => (this.round = undefined));
      }, this.everyMs);
    },
    stop: async () => {
      clearInterval(this.timer);
      await this.round;
    },
  };
}
