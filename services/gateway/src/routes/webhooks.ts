import type { FastifyInstance } from 'fastify';
import type { Backends } from '../clients';

const PROVIDERS = { 'swiss-bitcoin-pay': 'swiss-bitcoin-pay', btcpay: 'btcpay' } as const;

/**
 * Provider webhooks. The raw bytes go to payment, which checks the signature over exactly those
 * bytes and stores the event in its inbox; the 2xx comes back fast, processing is asynchronous.
 */
export async function webhookRoutes(app: FastifyInstance, backends: Backends) {
  // In this plugin's scope only: keep bodies as bytes (a parsed-and-reserialised body would not
  // match the signature).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));

  // Never shed (overload.ts): a refused notification waits for the provider's retry, seconds later,
  // and the patient's payment confirms that much later.
  for (const [path, provider] of Object.entries(PROVIDERS)) {
    app.post(
      `/webhooks/${path}`,
      { schema: { tags: ['webhooks'], summary: `${provider} payment notifications (signed)` }, config: { rateLimit: false, shed: false } },
      async (request, reply) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const res = await backends.payment.ingestWebhook({ provider, rawBody: raw, headers }, { deadlineMs: 2_000 });
        return reply.status(200).send({ received: true, duplicate: !res.accepted });
      },
    );
  }
}
