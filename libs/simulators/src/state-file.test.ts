import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeBolt11 } from './bolt11';
import { createBtcpaySimulator } from './btcpay';
import { StateFile } from './state-file';
import { createSwissBitcoinPaySimulator } from './swiss-bitcoin-pay';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';
import { createZoomSimulator } from './zoom';

/** A simulator with a state file, stopped and started again, still knows what it knew (make dev restarts). */
describe('simulator state across a restart', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'simulator-state-'));
  let hook: WebhookReceiver;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    hook = await startWebhookReceiver();
  });
  beforeEach(() => hook.clear());
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

  function sbp(stateFile: string, extra: Partial<Parameters<typeof createSwissBitcoinPaySimulator>[0]> = {}) {
    const sim = createSwissBitcoinPaySimulator({ apiKey: 'k', apiSecret: 'secret', webhookRetryDelaysMs: [20, 20], stateFile, ...extra });
    closers.push(() => sim.close());
    return sim;
  }

  it('Swiss Bitcoin Pay: an invoice made before the restart is known, signed by the same node, payable, and notified', async () => {
    const file = path.join(dir, 'sbp.json');
    const before = sbp(file);
    const base = await before.listen();
    const created = (await (await post(`${base}/checkout`, { title: 'Consultation', amount: 120, unit: 'CHF', delay: 15, webhook: hook.url, extra: { appointmentId: 'a-1' } }, { 'api-key': 'k' })).json()) as Record<string, string>;
    const shown = before.getInvoice(created.id!);
    const pubkey = before.nodePubkey;
    await before.close();
    closers.pop();

    const after = sbp(file);
    const again = await after.listen();
    expect(after.nodePubkey).toBe(pubkey);
    const known = (await (await fetch(`${again}/checkout/${created.id}`)).json()) as Record<string, unknown>;
    expect(known).toEqual({ ...shown, checkoutUrl: `${again}/checkout/${created.id}` });
    expect(decodeBolt11(created.pr!).payeePubkey).toBe(after.nodePubkey);

    const paid = await post(`${again}/checkout/${created.id}/pay`);
    expect(paid.status).toBe(200);
    const [webhook] = await hook.waitFor(1);
    expect(webhook!.json).toMatchObject({ id: created.id, status: 'settled', isPaid: true, extra: { appointmentId: 'a-1' } });
    expect(webhook!.headers['sbp-sig']).toBe(`sha256=${createHmac('sha256', 'secret').update(webhook!.rawBody).digest('hex')}`);

    // Paid is remembered too: a second restart cannot pay it again.
    await after.close();
    closers.pop();
    const third = sbp(file);
    const base3 = await third.listen();
    expect(third.getInvoice(created.id!)).toMatchObject({ status: 'settled', isPaid: true });
    expect((await post(`${base3}/checkout/${created.id}/pay`)).status).toBe(409);
  });

  it('Swiss Bitcoin Pay: an invoice whose time ran out while stopped is expired after the restart', async () => {
    const file = path.join(dir, 'sbp-expiry.json');
    const before = sbp(file);
    const base = await before.listen();
    const created = (await (await post(`${base}/checkout`, { title: 'Short', amount: 1, delay: 0.005 }, { 'api-key': 'k' })).json()) as Record<string, string>;
    await before.close();
    closers.pop();
    await new Promise((r) => setTimeout(r, 400));
    const after = sbp(file);
    expect(after.getInvoice(created.id!)).toMatchObject({ status: 'expired', isExpired: true });
  });

  it('Swiss Bitcoin Pay: a webhook not yet delivered when the simulator stopped is sent after the restart, once resumed', async () => {
    const file = path.join(dir, 'sbp-webhook.json');
    const before = sbp(file, { webhooksPaused: true });
    const base = await before.listen();
    const created = (await (await post(`${base}/checkout`, { title: 'Held', amount: 5, webhook: hook.url }, { 'api-key': 'k' })).json()) as Record<string, string>;
    expect((await post(`${base}/checkout/${created.id}/pay`)).status).toBe(200);
    await before.close(); // the receiver was never reached
    closers.pop();
    expect(hook.received).toHaveLength(0);

    const after = sbp(file, { webhooksPaused: true });
    await after.listen();
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received).toHaveLength(0); // held until the receiver is up
    after.resumeWebhooks();
    const [webhook] = await hook.waitFor(1);
    expect(webhook!.json).toMatchObject({ id: created.id, status: 'settled' });
    await after.waitForWebhooks();
    // Delivered: a further restart does not send it again.
    await after.close();
    closers.pop();
    const third = sbp(file);
    await third.listen();
    await new Promise((r) => setTimeout(r, 200));
    expect(hook.received).toHaveLength(1);
  });

  it('BTCPay: the store and an invoice made before the restart are known and payable', async () => {
    const file = path.join(dir, 'btcpay.json');
    const make = () => {
      const sim = createBtcpaySimulator({ apiKey: 'bk', webhookUrl: hook.url, webhookSecret: 'ws', webhookEvents: ['InvoiceSettled'], webhookRetryDelaysMs: [20], stateFile: file });
      closers.push(() => sim.close());
      return sim;
    };
    const before = make();
    const base = await before.listen();
    const storeId = before.storeId;
    const res = await post(`${base}/api/v1/stores/${storeId}/invoices`, { amount: '60', currency: 'EUR', metadata: { orderId: 'a-2' } }, { authorization: 'token bk' });
    const invoice = (await res.json()) as Record<string, string>;
    await before.close();
    closers.pop();

    const after = make();
    const again = await after.listen();
    expect(after.storeId).toBe(storeId);
    const known = await fetch(`${again}/api/v1/stores/${storeId}/invoices/${invoice.id}`, { headers: { authorization: 'token bk' } });
    expect(known.status).toBe(200);
    expect(await known.json()).toMatchObject({ id: invoice.id, amount: '60', currency: 'EUR', status: 'New', metadata: { orderId: 'a-2' } });
    expect((await post(`${again}/i/${invoice.id}/pay`)).status).toBe(200);
    const [settled] = await hook.waitFor(1);
    expect(settled!.json).toMatchObject({ type: 'InvoiceSettled', invoiceId: invoice.id, storeId });
  });

  it('Zoom: meetings and access tokens survive the restart', async () => {
    const file = path.join(dir, 'zoom.json');
    const make = () => {
      const sim = createZoomSimulator({ accountId: 'acc', clientId: 'cid', clientSecret: 'cs', stateFile: file });
      closers.push(() => sim.close());
      return sim;
    };
    const before = make();
    const base = await before.listen();
    const auth = `Basic ${Buffer.from('cid:cs').toString('base64')}`;
    const { access_token: token } = (await (await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=acc`, { method: 'POST', headers: { authorization: auth } })).json()) as { access_token: string };
    const meeting = (await (await post(`${base}/v2/users/me/meetings`, { topic: 'Consultation', start_time: '2026-12-01T09:00:00Z', duration: 30 }, { authorization: `Bearer ${token}` })).json()) as Record<string, unknown>;
    await before.close();
    closers.pop();

    const after = make();
    const again = await after.listen();
    const read = await fetch(`${again}/v2/meetings/${meeting.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: meeting.id, topic: 'Consultation', join_url: meeting.join_url, host_id: meeting.host_id });
    expect((await fetch(`${again}/j/${meeting.id}`)).status).toBe(200);
  });

  it('writes the state whole (temporary file renamed over it) and reads none before the first save', () => {
    const file = path.join(dir, 'nested', 'state.json');
    const store = new StateFile<{ n: number }>(file);
    expect(store.load()).toBeUndefined();
    store.save({ n: 1 });
    store.save({ n: 2 });
    expect(store.load()).toEqual({ n: 2 });
    expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
    writeFileSync(file, '{"n":');
    expect(() => store.load()).toThrow(/not valid JSON/);
  });
});
