import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeBolt11 } from './bolt11';
import { createSwissBitcoinPaySimulator, type SwissBitcoinPaySimulator } from './swiss-bitcoin-pay';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

const API_KEY = 'test-api-key';
const API_SECRET = 'test-api-secret';

function sigValid(rawBody: Buffer, header: unknown, secret = API_SECRET): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('Swiss Bitcoin Pay simulator', () => {
  let sim: SwissBitcoinPaySimulator;
  let hook: WebhookReceiver;
  let base: string;

  const create = (body: Record<string, unknown>, apiKey: string | null = API_KEY) =>
    fetch(`${base}/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey === null ? {} : { 'api-key': apiKey }) },
      body: JSON.stringify(body),
    });
  const get = async (id: string) => (await fetch(`${base}/checkout/${id}`)).json() as Promise<Record<string, any>>;
  const pay = (id: string, body?: unknown) =>
    fetch(`${base}/checkout/${id}/pay`, {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    hook = await startWebhookReceiver();
    sim = createSwissBitcoinPaySimulator({ apiKey: API_KEY, apiSecret: API_SECRET, webhookRetryDelaysMs: [50, 100, 150] });
    base = await sim.listen();
  });
  afterAll(async () => {
    await sim.close();
    await hook.close();
  });
  beforeEach(async () => {
    await sim.waitForWebhooks(); // let the previous test's deliveries land before forgetting them
    sim.reset();
    hook.respondWith([]);
    hook.clear();
  });

  it('creates a checkout, shows it unpaid, and on payment sends a signed webhook', async () => {
    const res = await create({ title: 'Consultation', description: 'Dr. House, 30 min', amount: 25, unit: 'CHF', onChain: true, delay: 15, webhook: hook.url, extra: { appointmentId: 'a-1' } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, string>;
    expect(Object.keys(created).sort()).toEqual(['checkoutUrl', 'id', 'onChainAddr', 'pr']);
    expect(created.checkoutUrl).toBe(`${base}/checkout/${created.id}`);
    expect(created.onChainAddr).toMatch(/^bcrt1q/);
    expect(created.pr).toMatch(/^lnbc250u1/); // 25 CHF * 1000 sat = 25 000 sat = 250 µBTC

    const pr = decodeBolt11(created.pr ?? '');
    expect(pr.amountMsat).toBe(25_000_000n);
    expect(pr.payeePubkey).toBe(sim.nodePubkey);
    expect(pr.description).toBe('Consultation - Dr. House, 30 min');
    expect(pr.expiry).toBe(15 * 60);

    const unpaid = await get(created.id ?? '');
    expect(unpaid).toMatchObject({
      id: created.id,
      title: 'Consultation',
      description: 'Dr. House, 30 min',
      amount: 25_000,
      input: { unit: 'CHF', amount: 25 },
      status: 'open',
      isPaid: false,
      isExpired: false,
      paidAt: null,
      pr: created.pr,
      onChainAddr: created.onChainAddr,
      checkoutUrl: created.checkoutUrl,
      delay: 900,
      extra: { appointmentId: 'a-1' },
    });
    expect(unpaid.expiry - unpaid.createdAt).toBe(900);
    expect(unpaid.paymentDetails[0]).toMatchObject({ network: 'lightning', paymentRequest: created.pr });
    expect(Buffer.from(unpaid.paymentDetails[0].hash, 'base64').toString('hex')).toBe(pr.paymentHash);

    const paid = await pay(created.id ?? '', { method: 'lightning' });
    expect(paid.status).toBe(200);

    const [call] = await hook.waitFor(1);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(sigValid(call!.rawBody, call!.headers['sbp-sig'])).toBe(true);
    expect(sigValid(call!.rawBody, call!.headers['sbp-sig'], 'another-secret')).toBe(false);
    expect(call?.json).toMatchObject({ id: created.id, status: 'settled', isPaid: true, paymentMethod: 'lightning', extra: { appointmentId: 'a-1' } });

    const after = await get(created.id ?? '');
    expect(after).toMatchObject({ status: 'settled', isPaid: true, isExpired: false, paymentMethod: 'lightning' });
    expect(typeof after.paidAt).toBe('number');
    expect(after.paymentDetails[0].preimage).toMatch(/^[0-9a-f]{64}$/);
    // the webhook body is the same document GET answers
    expect(call?.json).toEqual(after);
  });

  it('retries a webhook the receiver answered 500', async () => {
    hook.respondWith([500]);
    const { id } = (await (await create({ title: 'Retry', amount: 1000, unit: 'sat', webhook: hook.url })).json()) as { id: string };
    expect((await pay(id)).status).toBe(200);
    const calls = await hook.waitFor(2);
    expect(calls.map((c) => c.answeredStatus)).toEqual([500, 200]);
    expect(calls[1]?.rawBody.equals(calls[0]!.rawBody)).toBe(true);
    await sim.waitForWebhooks();
    expect(sim.deliveries).toHaveLength(1);
    expect(sim.deliveries[0]?.state).toBe('delivered');
    expect(sim.deliveries[0]?.attempts.map((a) => a.status)).toEqual([500, 200]);
  });

  it('gives up after the configured attempts when the receiver is down', async () => {
    const { id } = (await (await create({ title: 'Down', amount: 1, webhook: 'http://127.0.0.1:1/nowhere' })).json()) as { id: string };
    await pay(id);
    await sim.waitForWebhooks();
    expect(sim.deliveries[0]?.state).toBe('failed');
    expect(sim.deliveries[0]?.attempts).toHaveLength(4);
    expect(sim.deliveries[0]?.attempts.every((a) => a.status === undefined && a.error)).toBe(true);
  });

  it('rejects a wrong or missing api-key with 401', async () => {
    expect((await create({ title: 'x', amount: 1 }, 'wrong')).status).toBe(401);
    expect((await create({ title: 'x', amount: 1 }, null)).status).toBe(401);
    expect(sim.listInvoices()).toHaveLength(0);
  });

  it('validates the body', async () => {
    expect((await create({ amount: 1 })).status).toBe(400);
    expect((await create({ title: 'x', amount: -3 })).status).toBe(400);
    expect((await create({ title: 'x', amount: 1, unit: 'XYZ' })).status).toBe(400);
    expect((await fetch(`${base}/checkout/unknown`)).status).toBe(404);
  });

  it('refuses to pay an expired checkout (forced expiry), and notifies the expiry', async () => {
    const { id } = (await (await create({ title: 'Expire', amount: 10, webhook: { url: hook.url, headers: { 'x-extra': 'yes' } } })).json()) as { id: string };
    const expired = await fetch(`${base}/checkout/${id}/expire`, { method: 'POST' });
    expect(expired.status).toBe(200);
    const res = await pay(id);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ reason: 'Invoice expired' });
    expect(await get(id)).toMatchObject({ status: 'expired', isExpired: true, isPaid: false });
    const [call] = await hook.waitFor(1);
    expect(call?.json).toMatchObject({ id, status: 'expired', isExpired: true });
    expect(call?.headers['x-extra']).toBe('yes');
    expect(sigValid(call!.rawBody, call!.headers['sbp-sig'])).toBe(true);
  });

  it('expires by time', async () => {
    const { id } = (await (await create({ title: 'Short', amount: 10, delay: 0.002 /* 120 ms */ })).json()) as { id: string };
    expect((await get(id)).status).toBe('open');
    await new Promise((r) => setTimeout(r, 200));
    expect(await get(id)).toMatchObject({ status: 'expired', isExpired: true });
    expect((await pay(id)).status).toBe(409);
  });

  it('cannot pay twice', async () => {
    const { id } = (await (await create({ title: 'Twice', amount: 10 })).json()) as { id: string };
    expect((await pay(id)).status).toBe(200);
    expect((await pay(id)).status).toBe(409);
  });

  it('answers 503 to the next n creates when asked to', async () => {
    sim.failNextCreates(2);
    expect((await create({ title: 'x', amount: 1 })).status).toBe(503);
    expect((await create({ title: 'x', amount: 1 })).status).toBe(503);
    expect((await create({ title: 'x', amount: 1 })).status).toBe(201);
  });

  it('adds latency', async () => {
    sim.setLatencyMs(150);
    const t0 = Date.now();
    await fetch(`${base}/checkout/none`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('serves a checkout page whose Pay button settles the invoice', async () => {
    const { id, checkoutUrl } = (await (await create({ title: 'Page <test>', amount: 42, unit: 'EUR', redirectAfterPaid: 'http://shop.invalid/done' })).json()) as {
      id: string;
      checkoutUrl: string;
    };
    const page = await fetch(checkoutUrl, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('42 EUR');
    expect(html).toContain('Page &#60;test&#62;');
    expect(html).toContain(`action="/checkout/${id}/pay"`);

    const submit = await fetch(`${base}/checkout/${id}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'method=lightning',
      redirect: 'manual',
    });
    expect(submit.status).toBe(303);
    expect(submit.headers.get('location')).toBe('http://shop.invalid/done');
    expect(await get(id)).toMatchObject({ isPaid: true, redirectAfterPaid: 'http://shop.invalid/done' });
  });

  it('pays on-chain when asked', async () => {
    const { id } = (await (await create({ title: 'Chain', amount: 5, onChain: true })).json()) as { id: string };
    const inv = (await (await pay(id, { method: 'onchain' })).json()) as Record<string, any>;
    expect(inv.paymentMethod).toBe('onchain');
    expect(inv.paymentDetails[1]).toMatchObject({ network: 'onchain', amount: 5000, confirmations: 1 });
    const { id: noChain } = (await (await create({ title: 'No chain', amount: 5 })).json()) as { id: string };
    expect((await pay(noChain, { method: 'onchain' })).status).toBe(400);
  });

  it('fault switches: an outage answers the merchant API 503 for a while (the payer still pays), webhooks delayed and duplicated', async () => {
    const { id } = (await (await create({ title: 'Before', amount: 5, webhook: hook.url })).json()) as { id: string };
    sim.failFor(60_000);
    const refused = await create({ title: 'During', amount: 5 });
    expect(refused.status).toBe(503);
    expect((await fetch(`${base}/checkout/${id}`)).status).toBe(503);
    expect(sim.listInvoices()).toHaveLength(1); // nothing half-made
    sim.setWebhookFaults({ delayMs: 300, duplicates: 2 });
    const paidAt = Date.now();
    expect((await pay(id)).status).toBe(200); // the payer's side is not the merchant API
    const calls = await hook.waitFor(3);
    expect(calls.map((c) => c.rawBody.toString())).toEqual([calls[0]!.rawBody.toString(), calls[0]!.rawBody.toString(), calls[0]!.rawBody.toString()]);
    expect(sim.deliveries.every((d) => Date.parse(d.attempts[0]!.at) >= paidAt + 290)).toBe(true);
    sim.failFor(0);
    expect((await fetch(`${base}/checkout/${id}`)).status).toBe(200);
  });

  it('plays every status over HTTP: pending, underpaid then topped up, underpaid then expired, over-paid, canceled; refuses hostile amounts', async () => {
    const post = (id: string, what: string) => fetch(`${base}/checkout/${id}/${what}`, { method: 'POST' });
    const checkout = async () => ((await (await create({ title: 'Cases', amount: 10, onChain: true, webhook: hook.url })).json()) as { id: string }).id;

    const a = await checkout();
    expect(await (await post(a, 'pending')).json()).toMatchObject({ status: 'pending', isPending: true, isPaid: false });
    expect(await (await pay(a)).json()).toMatchObject({ status: 'settled', isPaid: true, isPending: false, amount: 10_000 });

    const b = await checkout();
    expect(await (await pay(b, { method: 'onchain', sats: 4000 })).json()).toMatchObject({ status: 'underpaid', isPaid: false, isExpired: false });
    expect((await pay(b, { method: 'lightning' })).status).toBe(409); // completed on-chain only
    const topped = (await (await pay(b, { method: 'onchain', sats: '6000' })).json()) as Record<string, any>;
    expect(topped).toMatchObject({ status: 'settled', isPaid: true });
    expect(topped.paymentDetails[1]).toMatchObject({ network: 'onchain', amount: 10_000 });

    const c = await checkout();
    await pay(c, { method: 'onchain', sats: 3000 });
    expect(await (await post(c, 'expire')).json()).toMatchObject({ status: 'underpaid', isExpired: true });
    expect((await pay(c, { method: 'onchain', sats: 7000 })).status).toBe(409);

    const d = await checkout();
    const over = (await (await pay(d, { method: 'onchain', sats: 12_500 })).json()) as Record<string, any>;
    expect(over).toMatchObject({ status: 'settled', amount: 10_000 });
    expect(over.paymentDetails[1]).toMatchObject({ amount: 12_500 });

    const e = await checkout();
    expect(await (await post(e, 'cancel')).json()).toMatchObject({ status: 'canceled', isPaid: false });
    expect((await pay(e)).status).toBe(409);
    expect((await post(e, 'cancel')).status).toBe(409);

    const f = await checkout();
    for (const sats of [-1, 0, 1.5, 'abc', 1e300, { x: 1 }]) expect((await pay(f, { method: 'onchain', sats })).status).toBe(400);
    expect((await pay(f, { method: 'lightning', sats: 5 })).status).toBe(400);
    expect((await post('no-such-checkout', 'cancel')).status).toBe(404);
    expect((await get(f)).status).toBe('open');
    await sim.waitForWebhooks();
    expect(new Set(hook.received.map((h) => (h.json as { status: string }).status))).toEqual(new Set(['pending', 'settled', 'underpaid', 'canceled']));
  });

  it('answers GET /transaction-limit/:currency and refuses a checkout outside it', async () => {
    expect(await (await fetch(`${base}/transaction-limit/chf`)).json()).toEqual({ currency: 'CHF', min: 1, max: 10_000 });
    sim.setTransactionLimit('EUR', { min: 5, max: 100 });
    expect(await (await fetch(`${base}/transaction-limit/EUR`)).json()).toEqual({ currency: 'EUR', min: 5, max: 100 });
    expect((await create({ title: 'Too much', amount: 100.01, unit: 'EUR' })).status).toBe(400);
    expect((await create({ title: 'Too little', amount: 4.99, unit: 'EUR' })).status).toBe(400);
    expect((await create({ title: 'Fine', amount: 100, unit: 'EUR' })).status).toBe(201);
    for (const bad of ['XYZ', '%00', 'C%00F', 'chf%2F..', 'toolongcurrency']) expect((await fetch(`${base}/transaction-limit/${bad}`)).status).toBe(404);
  });
});
