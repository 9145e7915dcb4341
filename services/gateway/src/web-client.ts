import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import type { Backends } from './clients';
import { languageOf } from './i18n/language';
import { presentProfile } from './presenters';

/**
 * The web client (web/dist) on the API's origin. Its pages have real URLs (react-router in the
 * browser): a GET for a page answers index.html, and a professional's page has the
 * professional's name and a description in its HTML already, for links shared and search engines,
 * and their public profile as data, so the page shows it without a second round trip.
 * Hashed assets (/assets/name-hash.js) are cached for a year; index.html is asked again each time.
 */

/** The client's routes (web/src/App.tsx): these answer 200; any other page path 404 (the client says "not found"). */
const CLIENT_PAGE = /^\/(?:bookings(?:\/[^/]+)?|pro|admin(?:\/audit|\/ledger)?|account|privacy|terms|imprint|professionals\/[^/]+)\/?$/;
/** Paths that are never a page: the API, webhooks, documents, files. */
const NOT_A_PAGE = /^\/(?:v1|webhooks|openapi\.json|docs|healthz|\.well-known|assets)(?:\/|$)/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_DESCRIPTION = 'Book a video consultation with a verified health professional and pay in Bitcoin.';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** index.html with this title and description (the built file has one of each). */
export function withHead(html: string, title: string, description: string): string {
  const meta = `<meta name="description" content="${escapeHtml(description)}" />`;
  // Replacer functions, not strings: a name with `$&` or `$'` would otherwise splice parts of the page in.
  const titled = html.replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(title)}</title>`);
  return /<meta name="description"[^>]*>/.test(titled) ? titled.replace(/<meta name="description"[^>]*>/, () => meta) : titled.replace('</head>', () => `${meta}</head>`);
}

/**
 * index.html with `value` as JSON in a data block (`<script type="application/json">`, never run,
 * so the page's script-src 'self' allows it) the client reads instead of asking the API again. `<`
 * is escaped so no text in the data can end the element.
 */
export function withData(html: string, id: string, value: unknown): string {
  const json = JSON.stringify(value).replace(/</g, '\\u003c');
  return html.replace('</head>', () => `<script type="application/json" id="${id}">${json}</script></head>`);
}

export function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0]!;
  return !NOT_A_PAGE.test(path) && String(request.headers.accept ?? '').includes('text/html');
}

export interface WebClient {
  /** For the not-found handler: answers index.html for a page the router did not match (200 for a client route, else 404). */
  servePage(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

export async function registerWebClient(app: FastifyInstance, webRoot: string, backends: Backends): Promise<WebClient | undefined> {
  const indexFile = path.join(webRoot, 'index.html');
  if (!existsSync(indexFile)) return undefined;
  const index = readFileSync(indexFile, 'utf8');
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.status(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(body);

  await app.register(fastifyStatic, {
    root: webRoot,
    wildcard: false,
    index: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (reply, file) => {
      // Vite names every built asset after its content: it never changes under its name.
      reply.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
    },
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => html(reply, 200, index));

  app.get<{ Params: { id: string } }>('/professionals/:id', { schema: { hide: true } }, async (request, reply) => {
    const id = request.params.id;
    if (!UUID.test(id)) return html(reply, 404, index);
    const [profile, specialties] = await Promise.allSettled([
      backends.search.getProfile({ professionalId: id }, { deadlineMs: 800 }),
      backends.search.listSpecialties({}, { deadlineMs: 800 }),
    ]);
    if (profile.status === 'rejected') {
      // Unknown (or unverified) professional: the page says so; a search outage: the page loads it itself.
      const missing = profile.reason instanceof AppError && profile.reason.status === GrpcStatus.NOT_FOUND;
      return html(reply, missing ? 404 : 200, index);
    }
    const p = profile.value.profile!;
    const names = new Map(specialties.status === 'fulfilled' ? specialties.value.specialties.map((s) => [s.code, s.name]) : []);
    const what = p.specialties.map((s) => names.get(s) ?? s).join(', ');
    const where = [p.city, p.country].filter(Boolean).join(', ');
    const description = `${p.displayName}${what ? `, ${what}` : ''}${where ? `, ${where}` : ''}. ${DEFAULT_DESCRIPTION}`;
    // The profile as GET /v1/professionals/{id} answers it: the page shows it without asking again.
    const page = withData(withHead(index, `${p.displayName} · CryptoCare`, description), 'professional-data', presentProfile(p, languageOf(request)));
    return html(reply.header('vary', 'Accept-Language'), 200, page); // the specialties' names in the data
  });

  return {
    servePage(request, reply) {
      if (!isPageRequest(request)) return undefined;
      return html(reply, CLIENT_PAGE.test(request.url.split('?')[0]!) ? 200 : 404, index);
    },
  };
}
