import { v7 as uuidv7 } from 'uuid';
import { CacheAside, type Cache } from '@cryptocare/cache';
import type { Logger } from '@cryptocare/platform';
import type { Interval, Schedule } from '../domain';

/** ARCHITECTURE section 7: slots 15 min. */
export const SLOTS_TTL_SECONDS = 15 * 60;
/** How long a professional's version key lives without a change (far longer than an entry). */
const VERSION_TTL_SECONDS = 24 * 60 * 60;
/** A change committed by a consumer's transaction is announced again this long after (see `changedInTransaction`). */
export const SECOND_BUMP_MS = 1_000;

/** What the slots of a range are computed from; the slots themselves depend on "now" and are computed per request. */
export interface SlotInputs {
  schedule: Schedule | undefined;
  timeOff: Interval[];
  busy: Interval[];
}

type Stored = { schedule: Schedule | null; timeOff: Array<[string, string]>; busy: Array<[string, string]> };

/**
 * Cache-aside of a professional's slot inputs per range, shared by the replicas through Redis.
 * Invalidation is one write: each professional has a version key, kept with every entry (an entry
 * read under another version is a miss), that any change replaces with a fresh value, so all the
 * professional's ranges are forgotten at once.
 * A fresh random value (not INCR) cannot come back to an old number after the key expires.
 * Any cache failure reads through to PostgreSQL.
 */
export class SlotsCache {
  private readonly aside: CacheAside;

  constructor(
    private readonly cache: Cache,
    private readonly logger: Logger,
    /** Namespace for a cache shared with other services (embedded mode); '' for Redis, which prefixes itself. */
    private readonly prefix = '',
    private readonly secondBumpMs = SECOND_BUMP_MS,
  ) {
    this.aside = new CacheAside(cache, 'slots');
  }

  private versionKey(professionalId: string): string {
    return `${this.prefix}slots-version:${professionalId}`;
  }

  async inputs(professionalId: string, from: Date, to: Date, load: () => Promise<SlotInputs>): Promise<SlotInputs> {
    // The entry is kept with the version it was read under, and both are read in one round trip
    // (every listing waits for it; the version and then the entry were two). Without the version no
    // entry can be trusted: getOrLoadUnder reads through. v3: kept with its version; v2 had the
    // version in the key.
    const key = `${this.prefix}slots:v3:${professionalId}:${from.toISOString()}:${to.toISOString()}`;
    const stored = await this.aside.getOrLoadUnder<Stored>(this.versionKey(professionalId), '0', key, SLOTS_TTL_SECONDS, async () => toStored(await load()));
    return fromStored(stored);
  }

  /** The professional's availability changed and that change has committed. */
  async changed(professionalId: string): Promise<void> {
    await this.cache
      .set(this.versionKey(professionalId), uuidv7(), VERSION_TTL_SECONDS)
      .catch((err: unknown) => this.logger.warn({ err, professionalId }, 'slots cache invalidation failed'));
  }

  /**
   * A change inside a transaction this service does not commit itself (a consumer's): announced
   * now, and again shortly after, when it has committed, which forgets an entry a reader loaded
   * between the first announcement and the commit.
   */
  changedInTransaction(professionalId: string): void {
    void this.changed(professionalId);
    setTimeout(() => void this.changed(professionalId), this.secondBumpMs).unref();
  }
}

function toStored(inputs: SlotInputs): Stored {
  const pairs = (list: Interval[]) => list.map((i): [string, string] => [i.startAt.toISOString(), i.endAt.toISOString()]);
  return { schedule: inputs.schedule ?? null, timeOff: pairs(inputs.timeOff), busy: pairs(inputs.busy) };
}

function fromStored(stored: Stored): SlotInputs {
  const intervals = (list: Array<[string, string]>) => list.map(([s, e]) => ({ startAt: new Date(s), endAt: new Date(e) }));
  return { schedule: stored.schedule ?? undefined, timeOff: intervals(stored.timeOff), busy: intervals(stored.busy) };
}
