import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Backends } from '../clients';
import { errorResponses } from './schemas';

const PROVIDERS = { 'swiss-bitcoin-pay': 'swiss-bitcoin-pay', btcpay: 'btcpay' } as const;
const OPERATIONS: Record<keyof typeof PROVIDERS, string> = { 'swiss-bitcoin-pay': 'receiveSwissBitcoinPayWebhook', btcpay: 'receiveBtcpayWebhook' };
const Received = Type.Object({ received: Type.Boolean(), duplicate: Type.Boolean({ description: 'already received (a provider retry): nothing new done' }) });

/**
 * Provider webhooks. The raw bytes go to payment, which checks the signature over exactly those
 * bytes and stores the event in its inbox; the 2xx comes back fast, processing is asynchronous.
 */
export async function webhookRoutes(app: FastifyInstance, backends: Backends) {
  // In this plugin's scope only: keep bodies as bytes (a parsed-and-reserialised body would not
  // match the signature).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));

  const headersOf = (raw: Record<string, string | string[] | undefined>) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
    // Credentials a proxy may have forwarded are not passed on.
    delete headers.authorization;
    delete headers.cookie;
    return headers;
  };

  // Never shed (overload.ts): a refused notification waits for the provider's retry, seconds later,
  // and the patient's payment confirms that much later.
  for (const [path, provider] of Object.entries(PROVIDERS) as Array<[keyof typeof PROVIDERS, string]>) {
    app.post(
      `/webhooks/${path}`,
      {
        schema: {
          tags: ['webhooks'],
          operationId: OPERATIONS[path],
          summary: `${provider} payment notifications (signed)`,
          response: { 200: Received, 400: errorResponses[400], 401: errorResponses[401], 503: errorResponses[503], 504: errorResponses[504] },
        },
        config: { rateLimit: false, shed: false },
      },
      async (request, reply) => {
        const headers = headersOf(request.headers);
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const res = await backends.payment.ingestWebhook({ provider, rawBody: raw, headers }, { deadlineMs: 2_000 });
        return reply.status(200).send({ received: true, duplicate: !res.accepted });
      },
    );
  }

  // Zoom's meeting events (video checks x-zm-signature over these bytes and stores them in its
  // inbox). endpoint.url_validation is answered with the body Zoom expects; anything else with
  // {received}. A forged or stale request: 401 ZOOM_SIGNATURE_INVALID.
  app.post(
    '/webhooks/zoom',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'receiveZoomWebhook',
        summary: 'Zoom meeting events and the endpoint.url_validation challenge (signed with x-zm-signature)',
        response: {
          200: Type.Union([
            Type.Object({ plainToken: Type.String(), encryptedToken: Type.String() }, { additionalProperties: false }),
            Type.Object({ received: Type.Boolean(), duplicate: Type.Boolean() }, { additionalProperties: false }),
          ]),
          ...errorResponses,
        },
      },
      config: { rateLimit: false, shed: false },
    },
    async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const res = await backends.video.ingestZoomWebhook({ rawBody: raw, headers: headersOf(request.headers) }, { deadlineMs: 2_000 });
      if (res.plainToken) return reply.status(200).send({ plainToken: res.plainToken, encryptedToken: res.encryptedToken });
      return reply.status(200).send({ received: true, duplicate: !res.accepted });
    },
  );
}
