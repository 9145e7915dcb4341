import Negotiator from 'negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The languages the API answers in (reference data: specialties, countries). English first: the default. */
export const LANGUAGES = ['en', 'fr', 'de', 'it'] as const;
export type Language = (typeof LANGUAGES)[number];

const languages = [...LANGUAGES];

/**
 * The language of an answer, from `Accept-Language` (q-values, `fr-CH` → fr, `*`), by negotiator;
 * English when nothing asked for is served (or the header is absent or unreadable).
 */
export function languageOf(request: Pick<FastifyRequest, 'headers'>): Language {
  const header = request.headers['accept-language'];
  if (typeof header !== 'string' || header.length > 512) return 'en';
  return (new Negotiator({ headers: { 'accept-language': header } }).language(languages) as Language | undefined) ?? 'en';
}

/** Marks an answer that depends on the language asked for, and says which it is in. */
export function answerIn(request: Pick<FastifyRequest, 'headers'>, reply: FastifyReply): Language {
  const language = languageOf(request);
  reply.header('content-language', language);
  const vary = reply.getHeader('vary');
  if (!String(vary ?? '').toLowerCase().includes('accept-language')) reply.header('vary', vary ? `${String(vary)}, Accept-Language` : 'Accept-Language');
  return language;
}
