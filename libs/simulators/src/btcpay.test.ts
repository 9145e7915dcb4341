import { createHmac } from 'node:crypto';
import { decodeBolt11 } from './bolt11';
import { createBtcpaySimulator, type BtcpaySimulator } from './btcpay';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

const API_KEY = 'btcpay-key';
const SECRET = 'btcpay-webhook-secret';
const STORE = 'AbCdStore1234567890abcdefghijkmnopqrstuvwxyz';

describe('BTCPay Server Greenfield simulator', () => {
  let sim: BtcpaySimulator;
  let hook: WebhookReceiver;
  let base: string;

  const api = (path: string, init: RequestInit = {}, key = API_KEY) =>
    fetch(`${base}/api/v1/stores/${STORE}${path}`, {
      ...init,
      headers: { authorization: `token ${key}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  const createInvoice = async (body: Record<string, unknown>) => {
    const res = await api('/invoices', { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, any>;
  };

  beforeAll(async () => {
    hook = await startWebhookReceiver();
    // A webhook subscribed to the three final events (the default, every event, is in the late-payment test).
    sim = createBtcpaySimulator({ apiKey: API_KEY, storeId: STORE, webhookUrl: hook.url, webhookSecret: SECRET, webhookEvents: ['InvoiceSettled', 'InvoiceExpired', 'InvoiceInvalid'], webhookRetryDelaysMs: [50, 100] });
    base = await sim.listen();
  });
  afterAll(async () => {
    await sim.close();
    await hook.close();
  });
  beforeEach(async () => {
    await sim.waitForWebhooks(); // let the previous test's deliveries land before forgetting them
    sim.reset();
    hook.clear();
    hook.respondWith([]);
  });

  it('creates an invoice, lists its payment methods, and on payment sends a signed InvoiceSettled', async () => {
    const inv = await createInvoice({
      amount: '25.50',
      currency: 'CHF',
      metadata: { orderId: 'appt-42', itemDesc: 'Teleconsultation' },
      checkout: { expirationMinutes: 20, redirectURL: 'http://app.invalid/paid/{OrderId}' },
    });
    expect(inv).toMatchObject({
      storeId: STORE,
      amount: '25.50',
      currency: 'CHF',
      status: 'New',
      additionalStatus: 'None',
      type: 'Standard',
      metadata: { orderId: 'appt-42', itemDesc: 'Teleconsultation' },
      checkout: { expirationMinutes: 20, redirectURL: 'http://app.invalid/paid/{OrderId}' },
      archived: false,
    });
    expect(inv.checkoutLink).toBe(`${base}/i/${inv.id}`);
    expect(inv.expirationTime - inv.createdTime).toBe(20 * 60);

    const got = await api(`/invoices/${inv.id}`);
    expect(await got.json()).toEqual(inv);

    const pmsRes = await api(`/invoices/${inv.id}/payment-methods`);
    expect(pmsRes.status).toBe(200);
    const pms = (await pmsRes.json()) as Record<string, any>[];
    expect(pms.map((p) => p.paymentMethodId)).toEqual(['BTC-CHAIN', 'BTC-LN']);
    const ln = pms.find((p) => p.paymentMethodId === 'BTC-LN')!;
    const chain = pms.find((p) => p.paymentMethodId === 'BTC-CHAIN')!;
    expect(ln).toMatchObject({ currency: 'BTC', amount: '0.00025500', due: '0.00025500', totalPaid: '0.00000000', rate: '100000', activated: true, payments: [] });
    expect(ln.paymentLink).toBe(`lightning:${ln.destination}`);
    const bolt11 = decodeBolt11(ln.destination);
    expect(bolt11.amountMsat).toBe(25_500_000n);
    expect(bolt11.description).toBe('Teleconsultation');
    expect(chain.destination).toMatch(/^bcrt1q/);
    expect(chain.paymentLink).toBe(`bitcoin:${chain.destination}?amount=0.00025500`);

    const pay = await fetch(`${inv.checkoutLink}/pay`, { method: 'POST' });
    expect(pay.status).toBe(200);

    const [call] = await hook.waitFor(1);
    const expectedSig = `sha256=${createHmac('sha256', SECRET).update(call!.rawBody).digest('hex')}`;
    expect(call?.headers['btcpay-sig']).toBe(expectedSig);
    const event = call?.json as Record<string, unknown>;
    expect(event).toMatchObject({
      type: 'InvoiceSettled',
      storeId: STORE,
      invoiceId: inv.id,
      isRedelivery: false,
      manuallyMarked: false,
      overPaid: false,
      metadata: { orderId: 'appt-42', itemDesc: 'Teleconsultation' },
    });
    expect(event.originalDeliveryId).toBe(event.deliveryId);
    expect(typeof event.webhookId).toBe('string');
    expect(typeof event.timestamp).toBe('number');

    expect(((await (await api(`/invoices/${inv.id}`)).json()) as { status: string }).status).toBe('Settled');
    const paidLn = ((await (await api(`/invoices/${inv.id}/payment-methods`)).json()) as Record<string, any>[]).find((p) => p.paymentMethodId === 'BTC-LN')!;
    expect(paidLn).toMatchObject({ paymentMethodPaid: '0.00025500', totalPaid: '0.00025500', due: '0.00000000' });
    expect(paidLn.payments).toEqual([expect.objectContaining({ status: 'Settled', value: '0.00025500', destination: ln.destination })]);
  });

  it('authenticates with "token <apikey>" and scopes the key to its store', async () => {
    expect((await api('/invoices', { method: 'POST', body: '{"amount":"1"}' }, 'wrong')).status).toBe(401);
    const noAuth = await fetch(`${base}/api/v1/stores/${STORE}/invoices/x`);
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toEqual({ code: 'unauthenticated', message: 'Authentication is required for accessing this endpoint' });
    const otherStore = await fetch(`${base}/api/v1/stores/other/invoices`, { method: 'POST', headers: { authorization: `token ${API_KEY}` }, body: '' });
    expect(otherStore.status).toBe(403);
    const missing = await api('/invoices/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'invoice-not-found', message: 'The invoice was not found' });
    expect((await api('/invoices', { method: 'POST', body: JSON.stringify({ amount: '-1' }) })).status).toBe(422);
  });

  it('retries the webhook, sends InvoiceExpired, and refuses to pay expired invoices', async () => {
    hook.respondWith([503]);
    const inv = await createInvoice({ amount: 10, currency: 'EUR' });
    expect((await fetch(`${base}/i/${inv.id}/expire`, { method: 'POST' })).status).toBe(200);
    const calls = await hook.waitFor(2);
    expect(calls.map((c) => c.answeredStatus)).toEqual([503, 200]);
    expect(calls[1]?.json).toMatchObject({ type: 'InvoiceExpired', invoiceId: inv.id, partiallyPaid: false });
    expect((await fetch(`${inv.checkoutLink}/pay`, { method: 'POST' })).status).toBe(409);
    await sim.waitForWebhooks();
    expect(sim.deliveries[0]?.attempts.map((a) => a.status)).toEqual([503, 200]);
  });

  it('by default sends every event, as BTCPay\'s "Send me everything": a late payment shows only as received and payment-settled', async () => {
    const everything = await startWebhookReceiver();
    const all = createBtcpaySimulator({ apiKey: API_KEY, storeId: STORE, webhookUrl: everything.url, webhookSecret: SECRET });
    const at = await all.listen();
    try {
      const res = await fetch(`${at}/api/v1/stores/${STORE}/invoices`, { method: 'POST', headers: { authorization: `token ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ amount: 10, currency: 'EUR' }) });
      const inv = (await res.json()) as { id: string; checkoutLink: string };
      expect((await fetch(`${inv.checkoutLink}/expire`, { method: 'POST' })).status).toBe(200);
      const late = await fetch(`${inv.checkoutLink}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paymentMethodId: 'BTC-CHAIN', afterExpiration: true }) });
      expect(late.status).toBe(200);
      const calls = await everything.waitFor(4);
      expect(calls.map((c) => (c.json as { type: string }).type)).toEqual(['InvoiceCreated', 'InvoiceExpired', 'InvoiceReceivedPayment', 'InvoicePaymentSettled']);
      expect(calls[3]?.json).toMatchObject({ invoiceId: inv.id, afterExpiration: true });
    } finally {
      await all.close();
      await everything.close();
    }
  });

  it('serves a checkout page whose form pays and redirects to redirectURL', async () => {
    const inv = await createInvoice({ amount: '5', metadata: { orderId: 'o-7' }, checkout: { redirectURL: 'http://app.invalid/paid/{OrderId}' } });
    const html = await (await fetch(inv.checkoutLink, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('5 CHF');
    expect(html).toContain(`action="/i/${inv.id}/pay"`);
    const res = await fetch(`${inv.checkoutLink}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'paymentMethodId=BTC-CHAIN',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://app.invalid/paid/o-7');
    expect(sim.getInvoice(inv.id)?.status).toBe('Settled');
  });

  it('marks invoice status through the Greenfield endpoint', async () => {
    const inv = await createInvoice({ amount: 1 });
    const res = await api(`/invoices/${inv.id}/status`, { method: 'POST', body: JSON.stringify({ status: 'Settled' }) });
    expect(((await res.json()) as { status: string; additionalStatus: string })).toMatchObject({ status: 'Settled', additionalStatus: 'Marked' });
    const [call] = await hook.waitFor(1);
    expect(call?.json).toMatchObject({ type: 'InvoiceSettled', manuallyMarked: true });
  });

  it('answers 503 to the next n creates when asked to', async () => {
    sim.failNextCreates(1);
    expect((await api('/invoices', { method: 'POST', body: '{"amount":"1"}' })).status).toBe(503);
    expect((await api('/invoices', { method: 'POST', body: '{"amount":"1"}' })).status).toBe(200);
  });

  it('plays every status over HTTP: Processing, PaidPartial then topped up, PaidOver, PaidPartial expired, PaidLate; refuses hostile amounts', async () => {
    const pay = (id: string, body: Record<string, unknown>) =>
      fetch(`${base}/i/${id}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = async (res: Response) => (await res.json()) as Record<string, any>;
    const methods = async (id: string) => (await (await api(`/invoices/${id}/payment-methods`)).json()) as Array<Record<string, any>>;

    const a = await createInvoice({ amount: '10' });
    expect(await json(await pay(a.id, { paymentMethodId: 'BTC-CHAIN', processing: true }))).toMatchObject({ status: 'Processing', additionalStatus: 'None' });
    expect(await json(await fetch(`${base}/i/${a.id}/settle`, { method: 'POST' }))).toMatchObject({ status: 'Settled' });
    expect((await fetch(`${base}/i/${a.id}/settle`, { method: 'POST' })).status).toBe(409);

    const b = await createInvoice({ amount: '10' });
    expect(await json(await pay(b.id, { paymentMethodId: 'BTC-CHAIN', sats: 4000 }))).toMatchObject({ status: 'New', additionalStatus: 'PaidPartial' });
    expect((await methods(b.id))[0]).toMatchObject({ amount: '0.00010000', totalPaid: '0.00004000', due: '0.00006000' });
    expect(await json(await pay(b.id, { paymentMethodId: 'BTC-CHAIN', sats: 6000 }))).toMatchObject({ status: 'Settled', additionalStatus: 'None' });
    expect((await methods(b.id))[0]!.payments).toHaveLength(2);

    const c = await createInvoice({ amount: '10' });
    expect(await json(await pay(c.id, { paymentMethodId: 'BTC-CHAIN', sats: 12_000 }))).toMatchObject({ status: 'Settled', additionalStatus: 'PaidOver' });

    const d = await createInvoice({ amount: '10' });
    await pay(d.id, { paymentMethodId: 'BTC-CHAIN', sats: 3000 });
    expect(await json(await fetch(`${base}/i/${d.id}/expire`, { method: 'POST' }))).toMatchObject({ status: 'Expired', additionalStatus: 'PaidPartial' });

    const e = await createInvoice({ amount: '10' });
    await fetch(`${base}/i/${e.id}/expire`, { method: 'POST' });
    expect((await pay(e.id, { paymentMethodId: 'BTC-CHAIN' })).status).toBe(409);
    expect(await json(await pay(e.id, { paymentMethodId: 'BTC-CHAIN', afterExpiration: true }))).toMatchObject({ status: 'Expired', additionalStatus: 'PaidLate' });

    const f = await createInvoice({ amount: '10' });
    for (const sats of [-1, 0, 1.5, 'abc', 1e300]) expect((await pay(f.id, { paymentMethodId: 'BTC-CHAIN', sats })).status).toBe(422);
    expect(sim.getInvoice(f.id)).toMatchObject({ status: 'New', additionalStatus: 'None' });

    await sim.waitForWebhooks();
    const expired = hook.received.map((h) => h.json as Record<string, unknown>).find((j) => j.invoiceId === d.id && j.type === 'InvoiceExpired');
    expect(expired).toMatchObject({ partiallyPaid: true });
  });
});
