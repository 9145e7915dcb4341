import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { identity } from '@cryptocare/contracts';
import type { Backends } from '../clients';
import { principalOf, type Authenticator } from '../auth';
import { HttpError } from '../http-errors';
import { bearer, errorResponses } from './schemas';

export const ConsentKind = Type.Union([Type.Literal('terms'), Type.Literal('privacy'), Type.Literal('teleconsultation'), Type.Literal('cross-border')]);
const Lang = Type.Union([Type.Literal('en'), Type.Literal('fr'), Type.Literal('de')]);
/** One accepted document: kind and version as `GET /v1/consent-documents` lists them. */
export const ConsentAccepted = Type.Object(
  { kind: ConsentKind, version: Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9.-]+$' }), lang: Type.Optional(Lang) },
  { additionalProperties: false },
);
export const ConsentList = Type.Array(ConsentAccepted, { minItems: 1, maxItems: 8 });

const ConsentState = Type.Object({
  kind: Type.String(),
  currentVersion: Type.String(),
  state: Type.Union([Type.Literal('given'), Type.Literal('outdated'), Type.Literal('withdrawn'), Type.Literal('missing')]),
  givenVersion: Type.Union([Type.String(), Type.Null()]),
  givenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  withdrawnAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const ConsentsBody = Type.Object({ consents: Type.Array(ConsentState), pending: Type.Array(Type.String()) });
const DocumentsQuery = Type.Object({ lang: Type.Optional(Lang) }, { additionalProperties: false });
const DocumentsBody = Type.Object({
  items: Type.Array(
    Type.Object({ kind: Type.String(), version: Type.String(), lang: Type.String(), langs: Type.Array(Type.String()), title: Type.String(), sha256: Type.String(), text: Type.String() }),
  ),
});
const GrantBody = Type.Object({ consents: ConsentList }, { additionalProperties: false });
const KindParams = Type.Object({ kind: ConsentKind });

export function presentConsents(res: { consents: identity.ConsentStatus[]; pending: string[] }) {
  return {
    consents: res.consents.map((c) => ({
      kind: c.kind,
      currentVersion: c.currentVersion,
      state: c.state,
      givenVersion: c.givenVersion || null,
      givenAt: c.givenAt || null,
      withdrawnAt: c.withdrawnAt || null,
    })),
    pending: res.pending,
  };
}

/** The consents a booking needs (given at the current version, not withdrawn). */
const BOOKING_CONSENTS = ['teleconsultation', 'cross-border'];

/** 403 CONSENT_REQUIRED unless the patient's booking consents stand. */
export async function requireBookingConsents(backends: Backends, userId: string): Promise<void> {
  const { pending } = await backends.identity.getConsents({ userId }, { deadlineMs: 800 });
  const missing = pending.filter((k) => BOOKING_CONSENTS.includes(k));
  if (missing.length > 0) {
    throw new HttpError(403, 'CONSENT_REQUIRED', `give your consent to the current version of: ${missing.join(', ')} (GET /v1/consent-documents, POST /v1/me/consents)`);
  }
}

/** Consent documents (public) and the signed-in user's consents: given, pending, grant, withdraw. */
export function consentRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const signedIn = auth.requireRole();

  app.get<{ Querystring: Static<typeof DocumentsQuery> }>(
    '/v1/consent-documents',
    {
      schema: {
        tags: ['consent'],
        operationId: 'listConsentDocuments',
        summary: 'The current consent documents: kind, version, SHA-256 of the text, and the text in the language asked (English when there is no translation)',
        querystring: DocumentsQuery,
        response: { 200: DocumentsBody, ...errorResponses },
      },
    },
    async (request) => {
      const { documents } = await backends.identity.listConsentDocuments({ lang: request.query.lang ?? 'en' });
      return { items: documents.map((d) => ({ kind: d.kind, version: d.version, lang: d.lang, langs: d.langs, title: d.title, sha256: d.sha256, text: d.text })) };
    },
  );

  app.get(
    '/v1/me/consents',
    { schema: { tags: ['consent'], operationId: 'getMyConsents', summary: 'My consents: given, outdated (a new version), withdrawn, missing; and the kinds pending', security: bearer, response: { 200: ConsentsBody, ...errorResponses } }, preHandler: signedIn },
    async (request) => presentConsents(await backends.identity.getConsents({ userId: principalOf(request).userId })),
  );

  app.post<{ Body: Static<typeof GrantBody> }>(
    '/v1/me/consents',
    {
      schema: { tags: ['consent'], operationId: 'grantConsents', summary: 'Give consents to current documents (each recorded with a timestamp)', security: bearer, body: GrantBody, response: { 200: ConsentsBody, ...errorResponses } },
      preHandler: signedIn,
    },
    async (request) =>
      presentConsents(
        await backends.identity.grantConsents({ userId: principalOf(request).userId, consents: request.body.consents.map((c) => ({ kind: c.kind, version: c.version, lang: c.lang ?? 'en' })) }),
      ),
  );

  app.delete<{ Params: Static<typeof KindParams> }>(
    '/v1/me/consents/:kind',
    {
      schema: { tags: ['consent'], operationId: 'withdrawConsent', summary: 'Withdraw a consent (recorded with a timestamp); bookings need teleconsultation and cross-border', security: bearer, params: KindParams, response: { 200: ConsentsBody, ...errorResponses } },
      preHandler: signedIn,
    },
    async (request) => presentConsents(await backends.identity.withdrawConsent({ userId: principalOf(request).userId, kind: request.params.kind })),
  );
}
