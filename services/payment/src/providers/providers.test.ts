import { createHmac } from 'node:crypto';
import { policyFor } from './http';
import { Btcpay } from './btcpay';
import { WebhookPayloadError, WebhookSignatureError } from './provider';
import { observe, SwissBitcoinPay } from './swiss-bitcoin-pay';

const policy = policyFor('unit', { timeoutMs: 1000, retries: 0, initialDelayMs: 1, breakAfter: 100, halfOpenAfterMs: 1000 });
const sign = (secret: string, body: Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('Swiss Bitcoin Pay adapter', () => {
  const sbp = new SwissBitcoinPay({ apiUrl: 'http://127.0.0.1:1', apiKey: 'k', apiSecret: 'secret', policy });
  const body = Buffer.from(JSON.stringify({ id: 'chk-1', status: 'settled', isPaid: true }));

  it('accepts the sbp-sig HMAC of the raw body and derives a stable event id from it', () => {
    const a = sbp.verifyWebhook(body, { 'sbp-sig': sign('secret', body) });
    expect(a.providerInvoiceId).toBe('chk-1');
    expect(a.providerEventId).toMatch(/^chk-1:[0-9a-f]{64}$/);
    expect(sbp.verifyWebhook(body, { 'sbp-sig': sign('secret', body) })).toEqual(a);
    const other = Buffer.from(JSON.stringify({ id: 'chk-1', status: 'expired', isExpired: true }));
    expect(sbp.verifyWebhook(other, { 'sbp-sig': sign('secret', other) }).providerEventId).not.toBe(a.providerEventId);
  });

  it('refuses a wrong, truncated or missing signature, and a signed body without an id', () => {
    expect(() => sbp.verifyWebhook(body, { 'sbp-sig': sign('other', body) })).toThrow(WebhookSignatureError);
    expect(() => sbp.verifyWebhook(body, { 'sbp-sig': sign('secret', body).slice(0, 40) })).toThrow(WebhookSignatureError);
    expect(() => sbp.verifyWebhook(body, {})).toThrow(WebhookSignatureError);
    expect(() => sbp.verifyWebhook(Buffer.concat([body, Buffer.from(' ')]), { 'sbp-sig': sign('secret', body) })).toThrow(WebhookSignatureError);
    const noId = Buffer.from('{"status":"settled"}');
    expect(() => sbp.verifyWebhook(noId, { 'sbp-sig': sign('secret', noId) })).toThrow(WebhookPayloadError);
  });

  it('maps checkout states, with on-chain confirmations from the payment details', () => {
    expect(observe({ status: 'open', isPaid: false, isExpired: false })).toEqual({ state: 'open' });
    expect(observe({ status: 'expired', isPaid: false, isExpired: true })).toEqual({ state: 'expired' });
    expect(observe({ status: 'unconfirmed', paymentMethod: 'onchain' })).toEqual({ state: 'seen', method: 'onchain' });
    expect(observe({ status: 'settled', isPaid: true, paymentMethod: 'lightning', paidAt: 1_800_000_000 })).toEqual({
      state: 'paid',
      method: 'lightning',
      paidAt: new Date(1_800_000_000_000),
    });
    expect(
      observe({ status: 'settled', isPaid: true, paymentMethod: 'onchain', paymentDetails: [{ network: 'lightning' }, { network: 'onchain', confirmations: 3 }] }),
    ).toMatchObject({ state: 'paid', method: 'onchain', confirmations: 3 });
  });
});

describe('BTCPay adapter', () => {
  const btcpay = new Btcpay({ url: 'http://127.0.0.1:1', apiKey: 'k', storeId: 's', webhookSecret: 'whsec', onchainConfirmations: 1, policy });

  it('takes the delivery id as event id, and the original one for a redelivery', () => {
    const first = Buffer.from(JSON.stringify({ deliveryId: 'd1', originalDeliveryId: 'd1', isRedelivery: false, type: 'InvoiceSettled', invoiceId: 'inv-1' }));
    const again = Buffer.from(JSON.stringify({ deliveryId: 'd2', originalDeliveryId: 'd1', isRedelivery: true, type: 'InvoiceSettled', invoiceId: 'inv-1' }));
    expect(btcpay.verifyWebhook(first, { 'btcpay-sig': sign('whsec', first) })).toEqual({ providerEventId: 'd1', providerInvoiceId: 'inv-1' });
    expect(btcpay.verifyWebhook(again, { 'btcpay-sig': sign('whsec', again) })).toEqual({ providerEventId: 'd1', providerInvoiceId: 'inv-1' });
    expect(() => btcpay.verifyWebhook(first, { 'btcpay-sig': sign('nope', first) })).toThrow(WebhookSignatureError);
  });
});
