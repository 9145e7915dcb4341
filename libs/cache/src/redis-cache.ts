import Redis from 'ioredis';
import type { Cache } from './cache';

/**
 * Redis through ioredis; values are JSON; every key carries the service's prefix, after
 * `namespace` (REDIS_NAMESPACE: empty in a deployment, which has its Redis to itself; a test
 * platform's own, as KAFKA_NAMESPACE for its topics, so that platforms sharing one Redis never read
 * each other's entries: a search page cached by one listed another's professionals).
 */
export class RedisCache implements Cache {
  readonly client: Redis;

  constructor(url: string, private readonly prefix: string, namespace = process.env.REDIS_NAMESPACE ?? '') {
    this.client = new Redis(url, {
      keyPrefix: `${namespace}${prefix}:`,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectTimeout: 2_000,
      commandTimeout: 500,
      lazyConnect: false,
      // Commands issued in the same tick leave in one write: under load a request's GET, a rate
      // limit's script and a revocation check from other requests share one syscall (each write was
      // 5-10 % of the gateway's and search's CPU in bench-load's profiles). Same commands, same replies.
      enableAutoPipelining: true,
    });
    // Errors surface on the commands; without a listener ioredis would print them unhandled.
    this.client.on('error', () => undefined);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const raw = await this.client.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    const raws = await this.client.mget(...keys);
    return raws.map((raw) => (raw === null ? undefined : JSON.parse(raw)));
  }

  async set<T>(key: string, value: T, ttlSeconds: number): Promise<void> {
    await this.client.set(key, JSON.stringify(value), 'EX', Math.max(1, Math.round(ttlSeconds)));
  }

  async del(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.client.del(...keys);
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    // INCR then set the expiry only on the first hit (NX), in one round trip.
    const results = await this.client.multi().incr(key).expire(key, windowSeconds, 'NX').exec();
    const [err, count] = results?.[0] ?? [];
    if (err) throw err;
    return Number(count);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
