import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * The per-address rate limit's counters (@fastify/rate-limit's `store`), shared by the gateway's
 * replicas in Redis, but not one Redis round trip per request.
 *
 * Why: the plugin's RedisStore runs a script in Redis for every request. At 2 000 users that was the
 * gateway's only Redis call on most requests, and its socket writes alone about 5 % of the gateway's
 * CPU (bench/results/load-2026-12-03-profiled-services.md), plus a hop through another process on
 * every request's path.
 *
 * How: an address's first request of a window on this replica counts exactly (added to Redis, judged
 * on the total of every replica). After that, while the address is well under its limit (below
 * `batchBelow` of it), the replica counts locally and adds its count to Redis in one batch every
 * `flushEveryMs`, reading back the total. Near the limit every request counts exactly again. So the
 * only gap is what other replicas let through since this one's last batch, and only while this one
 * still sees the address under `batchBelow` of its limit: an address must send the others more than
 * that share of its limit within `flushEveryMs` to get past it.
 *
 * Route and account limits (`child`: the sign-in's and reset's, a few a quarter-hour) always count
 * exactly. A fixed window, as the plugin's stores: the counter expires `timeWindow` after its first
 * request. When Redis fails, an exact count fails and the plugin lets the request through
 * (skipOnError), as with its own store; a batch is kept for the next flush.
 */
/** INCRBY with the window's expiry set by whoever created the key; returns the total and the time left. */
const ADD_SCRIPT = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}`;

interface Counter {
  /** The total across replicas, as Redis last said. */
  known: number;
  /** Counted here and not yet added to Redis. */
  pending: number;
  /** Of `pending`, what a batch now on its way to Redis carries. */
  sending: number;
  windowEndsAt: number;
  timeWindow: number;
  /** Whether Redis' total was read in this window. */
  synced: boolean;
}

export interface BatchedRateLimitOptions {
  redis: Redis;
  /** Prefix of the counters' keys (the client may add its own). */
  keyPrefix: string;
  /** Counted locally below this share of the limit; exactly from there on (0: always exactly). */
  batchBelow: number;
  flushEveryMs: number;
}

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

const SCRIPT_NAME = 'rateLimitAdd';

export class BatchedRateLimitStore {
  private readonly counters = new LRUCache<string, Counter>({ max: 100_000 });
  /** Keys counted locally since the last flush. */
  private readonly unsent = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly redis: Redis & { [SCRIPT_NAME]: (key: string, add: number, windowMs: number) => Promise<[number, number]> };

  constructor(private readonly options: BatchedRateLimitOptions) {
    if (!(SCRIPT_NAME in options.redis)) options.redis.defineCommand(SCRIPT_NAME, { numberOfKeys: 1, lua: ADD_SCRIPT });
    this.redis = options.redis as BatchedRateLimitStore['redis'];
  }

  /** The plugin's contract: count one request of `key`, answer the count in the window and its time left. */
  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    const now = Date.now();
    const counter = this.counterOf(key, now, timeWindow);
    counter.pending += 1;
    if (counter.synced && counter.known + counter.pending < max * this.options.batchBelow) {
      this.unsent.add(key);
      this.scheduleFlush();
      callback(null, { current: counter.known + counter.pending, ttl: counter.windowEndsAt - now });
      return;
    }
    // The window's first request here, or near the limit: this request and whatever waits unsent,
    // added now, judged on Redis' total.
    const add = counter.pending - counter.sending;
    counter.sending += add;
    // Judged on the total Redis gave for this addition, as the plugin's own store does (not counting
    // the concurrent requests still on their way: they are judged on theirs).
    this.add(key, counter, add).then(
      (total) => callback(null, { current: total, ttl: Math.max(0, counter.windowEndsAt - Date.now()) }),
      (err: Error) => {
        this.unsent.add(key); // what it carried is still pending
        this.scheduleFlush();
        callback(err);
      },
    );
  }

  /** The key's counter in the current window (a new one once the last window ended). */
  private counterOf(key: string, now: number, timeWindow: number): Counter {
    const current = this.counters.get(key);
    if (current && current.windowEndsAt > now) return current;
    const fresh: Counter = { known: 0, pending: 0, sending: 0, windowEndsAt: now + timeWindow, timeWindow, synced: false };
    this.counters.set(key, fresh);
    return fresh;
  }

  /** Route and account limits: always exact (a handful of requests each; see the class comment). */
  child(routeOptions: { routeInfo: { method: string; url: string } }): BatchedRateLimitStore {
    return new BatchedRateLimitStore({ ...this.options, keyPrefix: `${this.options.keyPrefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}-`, batchBelow: 0 });
  }

  /** Adds `add` of `counter`'s count to Redis and takes back the total (on failure the count stays pending). */
  private async add(key: string, counter: Counter, add: number): Promise<number> {
    try {
      const [total, ttl] = await this.redis[SCRIPT_NAME](`${this.options.keyPrefix}${key}`, add, counter.timeWindow);
      // Redis' total holds every replica's count, this batch included; what is still pending here comes on top.
      counter.pending -= add;
      counter.known = Number(total);
      counter.windowEndsAt = Date.now() + Number(ttl);
      counter.synced = true;
      return counter.known;
    } finally {
      counter.sending -= add;
    }
  }

  private scheduleFlush(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushEveryMs);
    this.timer.unref();
  }

  /**
   * Sends every counter's unsent count, in one pipelined write (ioredis auto-pipelining); a batch
   * Redis refused stays pending for the next flush.
   */
  async flush(): Promise<void> {
    const batches: Array<Promise<void>> = [];
    const keys = [...this.unsent];
    this.unsent.clear();
    for (const key of keys) {
      const counter = this.counters.get(key, { updateAgeOnGet: false });
      const add = counter ? counter.pending - counter.sending : 0;
      if (!counter || add <= 0) continue;
      counter.sending += add;
      batches.push(
        this.add(key, counter, add).then(
          () => undefined,
          () => {
            this.unsent.add(key);
            this.scheduleFlush();
          },
        ),
      );
    }
    await Promise.all(batches);
  }
}

/** The store class the plugin instantiates (`store` option), on the gateway's Redis. */
export function batchedRateLimitStore(redis: Redis, keyPrefix: string) {
  return class extends BatchedRateLimitStore {
    constructor() {
      // Batched below half the limit; flushed ten times a second.
      super({ redis, keyPrefix, batchBelow: 0.5, flushEveryMs: 100 });
    }
  };
}
