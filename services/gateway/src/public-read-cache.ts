import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { counter } from '@cryptocare/platform';
import { languageOf } from './i18n/language';

/** The public directory reads every visitor makes: the same answer for everyone, for a few seconds. */
const cachedRoutes = new Set(['/v1/professionals', '/v1/professionals/:id', '/v1/specialties', '/v1/countries']);

const lookups = counter('gateway_public_cache_lookups_total', 'Public directory reads answered from the gateway replica’s micro-cache (hit) or passed on (miss)', ['outcome']);

interface Stored {
  payload: string;
  contentType: string;
  cacheControl?: string;
  /** Vary and Content-Language of the answer kept (it depends on the language asked for). */
  vary?: string;
  contentLanguage?: string;
}

/**
 * A micro-cache of the anonymous public directory reads, in each gateway replica, for a few seconds.
 * Why: a search everybody makes (a specialty in a city) otherwise costs a gRPC call and a Redis read
 * in search at every request; a few seconds of staleness in a directory listing is invisible to
 * people (the booking itself always checks the slot), and it keeps the most frequent answers off the
 * network entirely. Never with credentials (an answer to a signed-in person stays theirs), only 200s,
 * keyed by the whole URL and the language asked for, bounded in entries (hostile query strings only
 * evict). Requests still pass the rate limits and load shedding first (those hooks run before).
 */
export function registerPublicReadCache(app: FastifyInstance, options: { ttlSeconds: number; maxEntries?: number }) {
  if (options.ttlSeconds <= 0) return;
  const cache = new LRUCache<string, Stored>({ max: options.maxEntries ?? 5_000, ttl: options.ttlSeconds * 1000 });
  const keyOf = (request: FastifyRequest) => {
    if (request.method !== 'GET' || request.headers.authorization || !cachedRoutes.has(request.routeOptions.url ?? '')) return undefined;
    // By the language answered in (fr-CH and fr share an entry), not the header's exact text.
    return `${request.url}\u0000${languageOf(request)}`;
  };

  app.addHook('preHandler', async (request, reply) => {
    const key = keyOf(request);
    if (key === undefined) return;
    const stored = cache.get(key);
    if (!stored) {
      lookups.labels('miss').inc();
      return;
    }
    lookups.labels('hit').inc();
    reply.header('content-type', stored.contentType);
    if (stored.cacheControl) reply.header('cache-control', stored.cacheControl);
    if (stored.vary) reply.header('vary', stored.vary);
    if (stored.contentLanguage) reply.header('content-language', stored.contentLanguage);
    return reply.send(stored.payload);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = keyOf(request);
    if (key !== undefined && reply.statusCode === 200 && typeof payload === 'string' && !cache.has(key)) {
      const text = (name: string) => {
        const value = reply.getHeader(name);
        return typeof value === 'string' ? value : undefined;
      };
      const [cacheControl, vary, contentLanguage] = [text('cache-control'), text('vary'), text('content-language')];
      cache.set(key, {
        payload,
        contentType: text('content-type') ?? 'application/json; charset=utf-8',
        ...(cacheControl ? { cacheControl } : {}),
        ...(vary ? { vary } : {}),
        ...(contentLanguage ? { contentLanguage } : {}),
      });
    }
    return payload;
  });
}
