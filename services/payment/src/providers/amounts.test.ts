// The adapters against the simulators (no database): every status the providers send, with the
// amounts due and received, as the amount rules see them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBtcpaySimulator, createSwissBitcoinPaySimulator, type BtcpaySimulator, type SwissBitcoinPaySimulator } from '@cryptocare/simulators';
import { classifyPayment } from '../domain/payment-class';
import { Btcpay } from './btcpay';
import { policyFor } from './http';
import { SwissBitcoinPay } from './swiss-bitcoin-pay';

const policy = policyFor('unit', { timeoutMs: 2000, retries: 0, initialDelayMs: 1, breakAfter: 1000, halfOpenAfterMs: 1000 });
const order = { orderId: 'a-1', amount: '120.00', currency: 'CHF', title: 'CryptoCare consultation', description: 'Booking a-1', expiresInMinutes: 15, webhookUrl: 'http://127.0.0.1:1/webhooks' };
const classify = (o: { state: Parameters<typeof classifyPayment>[0]['state']; dueSats?: number; paidSats?: number; late?: boolean }) =>
  classifyPayment({ state: o.state, dueSats: o.dueSats ?? 0, ...(o.paidSats === undefined ? {} : { paidSats: o.paidSats }), ...(o.late ? { late: true } : {}) }).kind;

describe('Swiss Bitcoin Pay adapter against the simulator', () => {
  let sim: SwissBitcoinPaySimulator;
  let sbp: SwissBitcoinPay;
  beforeAll(async () => {
    sim = createSwissBitcoinPaySimulator({ apiKey: 'k', apiSecret: 's' });
    sbp = new SwissBitcoinPay({ apiUrl: await sim.listen(), apiKey: 'k', apiSecret: 's', policy });
  });
  afterAll(() => sim.close());

  it('reads amounts in sats: exact Lightning, an on-chain over-payment, isPending as seen', async () => {
    const a = await sbp.createInvoice(order);
    expect(a.sats).toBe(120_000);
    expect(await sbp.getInvoice(a.providerInvoiceId)).toEqual({ state: 'open', dueSats: 120_000 });
    sim.markPending(a.providerInvoiceId);
    expect(await sbp.getInvoice(a.providerInvoiceId)).toMatchObject({ state: 'seen', dueSats: 120_000 });
    sim.pay(a.providerInvoiceId, 'lightning');
    const exact = await sbp.getInvoice(a.providerInvoiceId);
    expect(exact).toMatchObject({ state: 'paid', method: 'lightning', dueSats: 120_000 });
    expect(classify(exact)).toBe('exact');

    const b = await sbp.createInvoice(order);
    sim.payOnchain(b.providerInvoiceId, 150_000);
    const over = await sbp.getInvoice(b.providerInvoiceId);
    expect(over).toMatchObject({ state: 'paid', method: 'onchain', dueSats: 120_000, paidSats: 150_000 });
    expect(classifyPayment({ ...over, dueSats: over.dueSats! })).toMatchObject({ kind: 'over', refundSats: 30_000 });
  });

  it('underpaid is partial while payable, a top-up completes it, and an expired underpaid checkout is owed back', async () => {
    const a = await sbp.createInvoice(order);
    sim.payOnchain(a.providerInvoiceId, 50_000);
    expect(await sbp.getInvoice(a.providerInvoiceId)).toMatchObject({ state: 'partial', dueSats: 120_000, paidSats: 50_000 });
    sim.payOnchain(a.providerInvoiceId, 70_000);
    expect(await sbp.getInvoice(a.providerInvoiceId)).toMatchObject({ state: 'paid', paidSats: 120_000 });

    const b = await sbp.createInvoice(order);
    sim.payOnchain(b.providerInvoiceId, 50_000);
    sim.expire(b.providerInvoiceId);
    const ended = await sbp.getInvoice(b.providerInvoiceId);
    expect(ended).toMatchObject({ state: 'expired', paidSats: 50_000 });
    expect(classifyPayment({ ...ended, dueSats: ended.dueSats! })).toMatchObject({ kind: 'expired', refundSats: 50_000 });
  });

  it('keeps a checkout within the rate window (10 minutes by default, configurable), and shorter when asked', async () => {
    expect(sim.getInvoice((await sbp.createInvoice(order)).providerInvoiceId)!.delay).toBe(600);
    expect(sim.getInvoice((await sbp.createInvoice({ ...order, expiresInMinutes: 4.5 })).providerInvoiceId)!.delay).toBe(240);
    const wider = new SwissBitcoinPay({ apiUrl: sim.baseUrl!, apiKey: 'k', apiSecret: 's', policy, rateWindowMinutes: 12 });
    expect(sim.getInvoice((await wider.createInvoice(order)).providerInvoiceId)!.delay).toBe(720);
  });

  it('canceled ends the checkout with nothing received', async () => {
    const a = await sbp.createInvoice(order);
    sim.cancel(a.providerInvoiceId);
    expect(await sbp.getInvoice(a.providerInvoiceId)).toEqual({ state: 'expired', dueSats: 120_000 });
  });
});

describe('Swiss Bitcoin Pay amount fallback', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    // A checkout whose payment request states no amount: the adapter asks GET /checkout/:id, whose `amount` is sats.
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') return res.end(JSON.stringify({ id: 'chk-1', pr: 'lnbc1notanamount', checkoutUrl: 'http://x/chk-1' }));
      return res.end(JSON.stringify({ id: 'chk-1', amount: 93_997, status: 'open', isPaid: false, isExpired: false }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('takes `amount` as sats, not millisatoshis', async () => {
    const sbp = new SwissBitcoinPay({ apiUrl: base, apiKey: 'k', apiSecret: 's', policy });
    expect((await sbp.createInvoice(order)).sats).toBe(93_997);
  });
});

describe('BTCPay adapter against the simulator', () => {
  let sim: BtcpaySimulator;
  let btcpay: Btcpay;
  beforeAll(async () => {
    sim = createBtcpaySimulator({ apiKey: 'k', storeId: 'store', webhookSecret: 'w' });
    btcpay = new Btcpay({ url: await sim.listen(), apiKey: 'k', storeId: 'store', webhookSecret: 'w', onchainConfirmations: 1, policy });
  });
  afterAll(() => sim.close());

  it('New, Processing, Settled and PaidOver with due, paid and rate', async () => {
    const a = await btcpay.createInvoice(order);
    expect(await btcpay.getInvoice(a.providerInvoiceId)).toEqual({ state: 'open' });
    sim.pay(a.providerInvoiceId, 'BTC-CHAIN', { processing: true });
    expect(await btcpay.getInvoice(a.providerInvoiceId)).toMatchObject({ state: 'seen', method: 'onchain', dueSats: 120_000, paidSats: 120_000 });
    sim.settle(a.providerInvoiceId);
    const exact = await btcpay.getInvoice(a.providerInvoiceId);
    expect(exact).toMatchObject({ state: 'paid', dueSats: 120_000, paidSats: 120_000, rate: expect.any(String) });
    expect(classify(exact)).toBe('exact');

    const b = await btcpay.createInvoice(order);
    sim.pay(b.providerInvoiceId, 'BTC-CHAIN', { sats: 125_000 });
    expect(sim.getInvoice(b.providerInvoiceId)).toMatchObject({ status: 'Settled', additionalStatus: 'PaidOver' });
    const over = await btcpay.getInvoice(b.providerInvoiceId);
    expect(over).toMatchObject({ state: 'paid', paidSats: 125_000 });
    expect(classify(over)).toBe('over');
  });

  it('PaidPartial while New is partial, expired PaidPartial is owed back, PaidLate confirms late, Invalid ends', async () => {
    const a = await btcpay.createInvoice(order);
    sim.pay(a.providerInvoiceId, 'BTC-CHAIN', { sats: 20_000 });
    expect(sim.getInvoice(a.providerInvoiceId)).toMatchObject({ status: 'New', additionalStatus: 'PaidPartial' });
    expect(await btcpay.getInvoice(a.providerInvoiceId)).toMatchObject({ state: 'partial', dueSats: 120_000, paidSats: 20_000 });
    sim.expire(a.providerInvoiceId);
    const ended = await btcpay.getInvoice(a.providerInvoiceId);
    expect(ended).toMatchObject({ state: 'expired', paidSats: 20_000 });
    expect(classify(ended)).toBe('expired');

    const b = await btcpay.createInvoice(order);
    sim.expire(b.providerInvoiceId);
    expect(await btcpay.getInvoice(b.providerInvoiceId)).toMatchObject({ state: 'expired', paidSats: 0 });
    sim.pay(b.providerInvoiceId, 'BTC-CHAIN', { afterExpiration: true });
    expect(sim.getInvoice(b.providerInvoiceId)).toMatchObject({ status: 'Expired', additionalStatus: 'PaidLate' });
    const late = await btcpay.getInvoice(b.providerInvoiceId);
    expect(late).toMatchObject({ state: 'paid', late: true, paidSats: 120_000 });
    expect(classify(late)).toBe('late');

    const c = await btcpay.createInvoice(order);
    const res = await fetch(`${sim.baseUrl}/api/v1/stores/store/invoices/${c.providerInvoiceId}/status`, {
      method: 'POST',
      headers: { authorization: 'token k', 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Invalid' }),
    });
    expect(res.status).toBe(200);
    expect(await btcpay.getInvoice(c.providerInvoiceId)).toMatchObject({ state: 'invalid' });
  });
});
