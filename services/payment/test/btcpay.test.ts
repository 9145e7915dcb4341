import { createHmac } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { payment } from '@cryptocare/contracts';
import { createBtcpaySimulator, decodeBolt11, startWebhookReceiver, type BtcpaySimulator, type WebhookReceiver } from '@cryptocare/simulators';
import { eventually } from '@cryptocare/testing';
import { Btcpay } from '../src/providers/btcpay';
import { policyFor } from '../src/providers/http';
import { forwarded, invoiceRequest, newId, sleep, startPayment, type PaymentInstance } from './support';

const API_KEY = 'btcpay-test-key';
const STORE = 'TestStore1234567890abcdefghijkmnopqrstuvwxyz';
const SECRET = 'btcpay-webhook-secret';

/** The service's environment against the simulator at `base` (webhooks only: reconciliation waits 10 minutes). */
const serviceEnv = (base: string, hooksUrl: string) => ({
  PAYMENT_PROVIDER: 'btcpay',
  BTCPAY_URL: base,
  BTCPAY_API_KEY: API_KEY,
  BTCPAY_STORE_ID: STORE,
  BTCPAY_WEBHOOK_SECRET: SECRET,
  PUBLIC_BASE_URL: new URL(hooksUrl).origin,
  PROVIDER_TIMEOUT_MS: '1000',
  PROVIDER_RETRIES: '1',
  PROVIDER_RETRY_DELAY_MS: '10',
  PROVIDER_BREAK_AFTER: '1000',
  PENDING_INVOICE_EVERY_MS: '50',
  PENDING_RETRY_BASE_MS: '50',
  RECONCILE_EVERY_MS: '600000',
  RECONCILE_MIN_AGE_MS: '600000',
});

describe('payment service with BTCPay Server Greenfield (real PostgreSQL, simulator)', () => {
  let sim: BtcpaySimulator;
  let hooks: WebhookReceiver;
  let svc: PaymentInstance;

  beforeAll(async () => {
    hooks = await startWebhookReceiver({ path: '/webhooks/btcpay' });
    // BTCPay posts to the webhook configured on the store (here: where the gateway would listen).
    sim = createBtcpaySimulator({
      apiKey: API_KEY,
      storeId: STORE,
      webhookUrl: hooks.url,
      webhookSecret: SECRET,
      webhookRetryDelaysMs: [50],
      webhookEvents: ['InvoiceSettled', 'InvoiceExpired', 'InvoiceInvalid', 'InvoiceReceivedPayment', 'InvoiceProcessing'],
    });
    const base = await sim.listen();
    svc = await startPayment(serviceEnv(base, hooks.url));
  });

  afterAll(async () => {
    await svc?.stop();
    await sim?.close();
    await hooks?.close();
  });

  const settledHookFor = (invoiceId: string) =>
    eventually(async () => hooks.received.find((h) => (h.json as { invoiceId?: string; type?: string })?.invoiceId === invoiceId && (h.json as { type?: string }).type === 'InvoiceSettled'));
  const hookFor = (invoiceId: string, type: string, nth = 0) =>
    eventually(async () => hooks.received.filter((h) => (h.json as { invoiceId?: string; type?: string })?.invoiceId === invoiceId && (h.json as { type?: string }).type === type)[nth]);
  const providerIdOf = (invoice: payment.Invoice) => invoice.checkoutUrl.slice(invoice.checkoutUrl.lastIndexOf('/') + 1);

  it('creates the invoice with a BOLT11 request, an address, a BIP21 URI and no health data', async () => {
    const req = invoiceRequest(newId(), newId(), 60, '85.50', 'EUR');
    const { invoice } = await svc.client.createInvoice(req);
    expect(invoice).toMatchObject({ status: payment.InvoiceStatus.INVOICE_STATUS_OPEN, provider: 'btcpay', sats: 85_500, amount: { amount: '85.50', currency: 'EUR' } });
    expect(invoice!.lightningInvoice).toMatch(/^lnbc855u1/);
    expect(invoice!.onchainAddress).toMatch(/^bcrt1q/);
    expect(invoice!.paymentUri).toBe(`bitcoin:${invoice!.onchainAddress}?amount=0.00085500&lightning=${invoice!.lightningInvoice}`);
    expect(invoice!.checkoutUrl).toMatch(/\/i\/[1-9A-HJ-NP-Za-km-z]{22}$/);

    const stored = sim.getInvoice(providerIdOf(invoice!))!;
    expect(stored.metadata).toEqual({ orderId: req.appointmentId, itemDesc: 'CryptoCare consultation' });
    expect(stored.checkout).toMatchObject({ speedPolicy: 'MediumSpeed', expirationMinutes: 15 });
    expect(decodeBolt11(invoice!.lightningInvoice).description).toBe('CryptoCare consultation');
    expect(Date.parse(invoice!.expiresAt)).toBe((stored.expirationTime as number) * 1000);
    expect((await svc.client.createInvoice(req)).invoice!.id).toBe(invoice!.id);
  });

  it('pay → BTCPay-Sig webhook → payment.confirmed once, redeliveries included', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    sim.pay(providerIdOf(invoice!), 'BTC-LN');
    const hook = await settledHookFor(providerIdOf(invoice!));
    const body = JSON.parse(hook.rawBody.toString()) as Record<string, unknown>;

    const first = await svc.client.ingestWebhook(forwarded('btcpay', hook));
    expect(first).toEqual({ accepted: true, eventId: body.deliveryId });
    expect((await svc.client.ingestWebhook(forwarded('btcpay', hook))).accepted).toBe(false);
    // A redelivery from BTCPay's UI: a new delivery id, the first one as originalDeliveryId.
    const redelivery = Buffer.from(JSON.stringify({ ...body, deliveryId: 'Redelivered00000000000', isRedelivery: true }));
    const sig = `sha256=${createHmac('sha256', SECRET).update(redelivery).digest('hex')}`;
    expect(await svc.client.ingestWebhook({ provider: 'btcpay', rawBody: redelivery, headers: { 'BTCPay-Sig': sig } })).toEqual({ accepted: false, eventId: body.deliveryId });

    const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
    expect(confirmed.data).toMatchObject({ invoiceId: invoice!.id, method: 'lightning', sats: 120_000 });
    expect((await svc.client.getInvoice({ appointmentId })).invoice!.status).toBe(payment.InvoiceStatus.INVOICE_STATUS_PAID);
    await sleep(200);
    expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(1);
  });

  it('confirms an on-chain payment with its method', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    sim.pay(providerIdOf(invoice!), 'BTC-CHAIN');
    await svc.client.ingestWebhook(forwarded('btcpay', await settledHookFor(providerIdOf(invoice!))));
    const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
    expect(confirmed.data.method).toBe('onchain');
  });

  it('refuses a forged BTCPay-Sig and stores nothing', async () => {
    const { invoice } = await svc.client.createInvoice(invoiceRequest());
    sim.pay(providerIdOf(invoice!));
    const hook = forwarded('btcpay', await settledHookFor(providerIdOf(invoice!)));
    const before = (await svc.db.query(`SELECT count(*)::int AS n FROM "${svc.schema}".webhook_inbox`)).rows[0].n;
    const forged = { ...hook, headers: { ...hook.headers, 'btcpay-sig': `sha256=${createHmac('sha256', 'wrong').update(hook.rawBody).digest('hex')}` } };
    await expect(svc.client.ingestWebhook(forged)).rejects.toMatchObject({ status: status.UNAUTHENTICATED, code: 'INVALID_SIGNATURE' });
    await expect(svc.client.ingestWebhook({ ...hook, provider: 'swiss-bitcoin-pay' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'UNKNOWN_PROVIDER' });
    expect((await svc.db.query(`SELECT count(*)::int AS n FROM "${svc.schema}".webhook_inbox`)).rows[0].n).toBe(before);
  });

  it('BTCPay down at CreateInvoice: UNAVAILABLE, then created in the background', async () => {
    const req = invoiceRequest();
    sim.failNextCreates(1_000);
    await expect(svc.client.createInvoice(req)).rejects.toMatchObject({ status: status.UNAVAILABLE, code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
    sim.failNextCreates(0);
    const created = await eventually(async () => svc.eventsOf('payment.invoice_created', req.appointmentId)[0]);
    expect(created.data.provider).toBe('btcpay');
  });

  describe('amounts: what was due and what came in', () => {
    it('PaidOver: confirms the booking and records a refund of the excess', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
      sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { sats: 150_000 });
      await svc.client.ingestWebhook(forwarded('btcpay', await settledHookFor(providerIdOf(invoice!))));
      const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
      expect(confirmed.data).toMatchObject({ sats: 120_000, method: 'onchain' });
      const refund = await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[0]);
      expect(refund.data).toMatchObject({ invoiceId: invoice!.id, sats: 30_000, reason: 'paid more than due' });
      const answer = await svc.client.getInvoice({ appointmentId });
      expect(answer.invoice!.status).toBe(payment.InvoiceStatus.INVOICE_STATUS_PAID);
      expect(answer.refund).toMatchObject({ sats: 30_000, status: 'due' });
      const row = (await svc.db.query(`SELECT paid_sats::int AS paid FROM "${svc.schema}".invoices WHERE id = $1`, [invoice!.id])).rows[0];
      expect(row.paid).toBe(150_000);
    });

    it('a cancellation after an over-payment owes back all that was paid, in one refund', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
      sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { sats: 130_000 });
      await svc.client.ingestWebhook(forwarded('btcpay', await settledHookFor(providerIdOf(invoice!))));
      await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[0]);
      await svc.publish('appointment.cancelled', appointmentId, { appointmentId, reason: '', cancelledBy: 'patient', wasPaid: true });
      const raised = await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[1]);
      expect(raised.data).toMatchObject({ sats: 130_000, reason: 'cancelled by the patient' });
      expect((await svc.client.getInvoice({ appointmentId })).refund).toMatchObject({ sats: 130_000, status: 'due' });
    });

    it('PaidPartial keeps the invoice open (seen); when it expires the rest is a BTCPay top-up; when that expires too the slot is released and all that came in is owed back', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
      sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { sats: 40_000 });
      await svc.client.ingestWebhook(forwarded('btcpay', await hookFor(providerIdOf(invoice!), 'InvoiceReceivedPayment')));
      await eventually(async () => svc.eventsOf('payment.payment_seen', appointmentId)[0]);
      expect((await svc.client.getInvoice({ appointmentId })).invoice!.status).toBe(payment.InvoiceStatus.INVOICE_STATUS_OPEN);
      expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(0);

      sim.expire(providerIdOf(invoice!));
      const expiredHook = await hookFor(providerIdOf(invoice!), 'InvoiceExpired');
      expect(expiredHook.json).toMatchObject({ partiallyPaid: true });
      await svc.client.ingestWebhook(forwarded('btcpay', expiredHook));
      // The booking is still held: the rest (80.00 CHF) becomes a second invoice, made by BTCPay.
      const topUp = await eventually(async () => (await svc.client.getInvoice({ appointmentId })).topUp);
      expect(topUp).toMatchObject({ kind: 'top_up', provider: 'btcpay', amount: { amount: '80.00', currency: 'CHF' }, status: payment.InvoiceStatus.INVOICE_STATUS_OPEN });
      expect(svc.eventsOf('payment.expired', appointmentId)).toHaveLength(0);

      sim.expire(providerIdOf(topUp));
      await svc.client.ingestWebhook(forwarded('btcpay', await hookFor(providerIdOf(topUp), 'InvoiceExpired')));
      await eventually(async () => svc.eventsOf('payment.expired', appointmentId)[0]);
      const refund = await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[0]);
      expect(refund.data).toMatchObject({ invoiceId: invoice!.id, sats: 40_000, reason: 'paid less than due before the invoice ended' });
      const answer = await svc.client.getInvoice({ appointmentId });
      expect(answer.invoice!.status).toBe(payment.InvoiceStatus.INVOICE_STATUS_EXPIRED);
      expect(answer.topUp!.status).toBe(payment.InvoiceStatus.INVOICE_STATUS_EXPIRED);
      expect(answer.refund).toMatchObject({ sats: 40_000, status: 'due' });
    });

    it('a late payment whose webhooks were lost is found by the late-payment check, which polls invoices BTCPay expired', async () => {
      // A second replica whose late-payment check runs every 100 ms (the first one's: every 10 minutes).
      const checking = await startPayment({ ...serviceEnv(sim.baseUrl!, hooks.url), LATE_PAYMENT_CHECK_EVERY_MS: '100' });
      try {
        const late = newId();
        const { invoice } = await checking.client.createInvoice(invoiceRequest(late));
        sim.expire(providerIdOf(invoice!));
        await checking.client.ingestWebhook(forwarded('btcpay', await hookFor(providerIdOf(invoice!), 'InvoiceExpired')));
        await eventually(async () => checking.eventsOf('payment.expired', late)[0]);
        // Paid after the expiry; its InvoiceReceivedPayment webhook never reaches payment.
        sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { afterExpiration: true });
        const confirmed = await eventually(async () => checking.eventsOf('payment.confirmed', late)[0], 10_000);
        expect(confirmed.data).toMatchObject({ invoiceId: invoice!.id, method: 'onchain' });
        expect(checking.eventsOf('payment.confirmed', late)).toHaveLength(1);
      } finally {
        await checking.stop();
      }
    });

    it('PaidLate confirms (the booking decides what a late payment means); Invalid expires the invoice', async () => {
      const late = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(late));
      sim.expire(providerIdOf(invoice!));
      await svc.client.ingestWebhook(forwarded('btcpay', await hookFor(providerIdOf(invoice!), 'InvoiceExpired')));
      await eventually(async () => svc.eventsOf('payment.expired', late)[0]);
      sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { afterExpiration: true });
      await svc.client.ingestWebhook(forwarded('btcpay', await hookFor(providerIdOf(invoice!), 'InvoiceReceivedPayment')));
      const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', late)[0]);
      expect(confirmed.data).toMatchObject({ invoiceId: invoice!.id, method: 'onchain' });

      const invalid = newId();
      const second = (await svc.client.createInvoice(invoiceRequest(invalid))).invoice!;
      const res = await fetch(`${sim.baseUrl}/api/v1/stores/${STORE}/invoices/${providerIdOf(second)}/status`, {
        method: 'POST',
        headers: { authorization: `token ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'Invalid' }),
      });
      expect(res.status).toBe(200);
      await svc.client.ingestWebhook(forwarded('btcpay', await hookFor(providerIdOf(second), 'InvoiceInvalid')));
      await eventually(async () => svc.eventsOf('payment.expired', invalid)[0]);
      expect(svc.eventsOf('payment.refund_requested', invalid)).toHaveLength(0);
    });
  });

  describe('refunds paid out through BTCPay (Greenfield invoice refund: a pull payment the patient claims)', () => {
    /** Runs the payout task (and reconciliation) every 100 ms. */
    let payer: PaymentInstance;
    beforeAll(async () => {
      payer = await startPayment({
        PAYMENT_PROVIDER: 'btcpay',
        BTCPAY_URL: sim.baseUrl!,
        BTCPAY_API_KEY: API_KEY,
        BTCPAY_STORE_ID: STORE,
        BTCPAY_WEBHOOK_SECRET: SECRET,
        PUBLIC_BASE_URL: new URL(hooks.url).origin,
        PROVIDER_TIMEOUT_MS: '1000',
        PROVIDER_RETRIES: '1',
        PROVIDER_RETRY_DELAY_MS: '10',
        PROVIDER_BREAK_AFTER: '1000',
        RECONCILE_EVERY_MS: '100',
        RECONCILE_MIN_AGE_MS: '0',
      });
    });
    afterAll(async () => {
      await payer?.stop();
    });

    it('an excess is sent as a pull payment for exactly the sats owed; the patient sees the claim link; paid once the payout completes, with the ledger balanced', async () => {
      const appointmentId = newId();
      const req = invoiceRequest(appointmentId);
      const { invoice } = await payer.client.createInvoice(req);
      sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { sats: 150_000 });
      await eventually(async () => payer.eventsOf('payment.confirmed', appointmentId)[0]);

      const sent = await eventually(async () => payer.eventsOf('payment.refund_sent', appointmentId)[0]);
      const { refund } = await payer.client.getInvoice({ appointmentId });
      expect(sent.data).toMatchObject({ refundId: refund!.id, invoiceId: invoice!.id, sats: 30_000, provider: 'btcpay' });
      const pulls = sim.listPullPayments().filter((p) => p.name === refund!.id);
      expect(pulls).toHaveLength(1);
      expect(pulls[0]).toMatchObject({ currency: 'BTC', amount: '0.0003' });
      expect(refund).toMatchObject({ status: 'sent', sats: 30_000, claimLink: pulls[0]!.viewLink });
      expect(refund!.claimLink).toBe(`${sim.baseUrl}/pull-payments/${pulls[0]!.id}`);

      // Not the patient's destination nor an admin's to pay by hand any more.
      await expect(payer.client.setRefundDestination({ appointmentId, patientId: req.patientId, destination: 'pat@example.com' })).rejects.toMatchObject({ code: 'REFUND_IN_PROGRESS' });
      await expect(payer.client.markRefundPaid({ refundId: refund!.id, adminId: newId(), txReference: 'a'.repeat(64) })).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'REFUND_IN_PROGRESS' });
      await sleep(400); // several passes: still one pull payment, still waiting for the claim
      expect(sim.listPullPayments().filter((p) => p.name === refund!.id)).toHaveLength(1);
      expect((await payer.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'refund_outstanding', outstandingSats: 30_000, balanced: false });

      // The patient claims it at the link and the store pays it (simulated).
      expect((await fetch(`${refund!.claimLink}/pay`, { method: 'POST' })).ok).toBe(true);
      const paid = await eventually(async () => payer.eventsOf('payment.refund_paid', appointmentId)[0]);
      expect(paid.data).toMatchObject({ refundId: refund!.id, sats: 30_000 });
      expect((await payer.client.getInvoice({ appointmentId })).refund).toMatchObject({ status: 'paid', txReference: expect.stringMatching(/^[0-9a-f]{64}$/), claimLink: refund!.claimLink });
      const ledger = await payer.client.getLedger({ appointmentId });
      expect(ledger.entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['over', 150_000], ['refund_due', 30_000], ['refund_paid', 30_000]]);
      expect(ledger.balance).toMatchObject({ state: 'paid', balanced: true });
      await sleep(300);
      expect(payer.eventsOf('payment.refund_paid', appointmentId)).toHaveLength(1);
      expect(payer.eventsOf('payment.refund_sent', appointmentId)).toHaveLength(1);
    });

    it('the adapter asks once per refund: a retry after a lost answer finds the pull payment by its name', async () => {
      const adapter = new Btcpay({
        url: sim.baseUrl!,
        apiKey: API_KEY,
        storeId: STORE,
        webhookSecret: SECRET,
        onchainConfirmations: 1,
        policy: policyFor('btcpay', { timeoutMs: 1000, retries: 0, initialDelayMs: 10, breakAfter: 1000, halfOpenAfterMs: 1000 }),
      });
      const { invoice } = await svc.client.createInvoice(invoiceRequest());
      sim.pay(providerIdOf(invoice!), 'BTC-CHAIN', { sats: 125_000 });
      const name = newId();
      const first = await adapter.refund(providerIdOf(invoice!), { sats: 5_000, name, description: 'excess' });
      const again = await adapter.refund(providerIdOf(invoice!), { sats: 5_000, name, description: 'excess' });
      expect(again).toEqual(first);
      expect(sim.listPullPayments().filter((p) => p.name === name)).toEqual([expect.objectContaining({ amount: '0.00005' })]);
      expect(await adapter.payoutState(first.payoutId)).toEqual({ paid: false });
      sim.payPullPayment(first.payoutId);
      expect(await adapter.payoutState(first.payoutId)).toEqual({ paid: true, reference: expect.stringMatching(/^[0-9a-f]{64}$/) });
      // More than the invoice received is refused by the simulator (as a guard against our own bugs).
      await expect(adapter.refund(providerIdOf(invoice!), { sats: 200_000, name: newId(), description: 'too much' })).rejects.toThrow();
    });
  });
});
