import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { payment } from '@cryptocare/contracts';
import { registry } from '@cryptocare/platform';
import { createSwissBitcoinPaySimulator, decodeBolt11, startWebhookReceiver, type SwissBitcoinPaySimulator, type WebhookReceiver } from '@cryptocare/simulators';
import { eventually } from '@cryptocare/testing';
import { forwarded, invoiceRequest, newId, sleep, startPayment, type PaymentInstance } from './support';

const API_KEY = 'sbp-test-key';
const API_SECRET = 'sbp-test-secret';
const { INVOICE_STATUS_OPEN, INVOICE_STATUS_PAID, INVOICE_STATUS_EXPIRED, INVOICE_STATUS_REFUND_DUE } = payment.InvoiceStatus;
const sign = (body: Buffer, secret = API_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('payment service with Swiss Bitcoin Pay (real PostgreSQL, simulator)', () => {
  let sim: SwissBitcoinPaySimulator;
  let hooks: WebhookReceiver;
  let simBase: string;
  /** Webhooks only: reconciliation never looks at the invoices of these tests. */
  let svc: PaymentInstance;
  /** Reconciliation every 100 ms, on-chain final after 2 confirmations. */
  let recon: PaymentInstance;

  const providerEnv = () => ({
    SBP_API_URL: simBase,
    SBP_API_KEY: API_KEY,
    SBP_API_SECRET: API_SECRET,
    PUBLIC_BASE_URL: new URL(hooks.url).origin,
    PROVIDER_TIMEOUT_MS: '1000',
    PROVIDER_RETRIES: '1',
    PROVIDER_RETRY_DELAY_MS: '10',
    PROVIDER_BREAK_AFTER: '1000',
    PENDING_INVOICE_EVERY_MS: '50',
    PENDING_RETRY_BASE_MS: '50',
    PENDING_RETRY_MAX_MS: '200',
    HELD_GRACE_MS: '0',
  });

  beforeAll(async () => {
    hooks = await startWebhookReceiver();
    sim = createSwissBitcoinPaySimulator({ apiKey: API_KEY, apiSecret: API_SECRET, webhookRetryDelaysMs: [50] });
    simBase = await sim.listen();
    [svc, recon] = await Promise.all([
      startPayment({ ...providerEnv(), RECONCILE_EVERY_MS: '600000', RECONCILE_MIN_AGE_MS: '600000' }),
      startPayment({ ...providerEnv(), RECONCILE_EVERY_MS: '100', RECONCILE_MIN_AGE_MS: '0', ONCHAIN_CONFIRMATIONS: '2' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([svc?.stop(), recon?.stop()]);
    await sim?.close();
    await hooks?.close();
  });

  const checkoutOf = (appointmentId: string) => sim.listInvoices().filter((i) => i.description === `Booking ${appointmentId}`);
  const webhookFor = (checkoutId: string, status: string) =>
    eventually(async () => hooks.received.find((h) => (h.json as { id?: string; status?: string })?.id === checkoutId && (h.json as { status?: string }).status === status));
  const providerIdOf = (invoice: payment.Invoice) => invoice.checkoutUrl.slice(invoice.checkoutUrl.lastIndexOf('/') + 1);
  const inboxRows = async (instance: PaymentInstance) =>
    (await instance.db.query(`SELECT provider, provider_event_id, processed_at FROM "${instance.schema}".webhook_inbox`)).rows;

  /** Creates an invoice, pays it on the simulator and hands the signed webhook to IngestWebhook. */
  async function paidThroughWebhook(instance: PaymentInstance, appointmentId = newId()) {
    const { invoice } = await instance.client.createInvoice(invoiceRequest(appointmentId));
    sim.pay(providerIdOf(invoice!));
    const hook = await webhookFor(providerIdOf(invoice!), 'settled');
    await instance.client.ingestWebhook(forwarded('swiss-bitcoin-pay', hook));
    await eventually(async () => instance.eventsOf('payment.confirmed', appointmentId).length === 1);
    return { invoice: invoice!, hook };
  }

  it('creates a Lightning + on-chain invoice with a BIP21 URI and a checkout URL, once per appointment', async () => {
    const req = invoiceRequest();
    const before = Date.now();
    const { invoice } = await svc.client.createInvoice(req);
    expect(invoice).toMatchObject({
      appointmentId: req.appointmentId,
      status: INVOICE_STATUS_OPEN,
      amount: { amount: '120.00', currency: 'CHF' },
      sats: 120_000, // the simulator's rate: 1000 sat per CHF
      provider: 'swiss-bitcoin-pay',
      paidAt: '',
    });
    expect(invoice!.lightningInvoice).toMatch(/^lnbc1200u1/);
    expect(invoice!.onchainAddress).toMatch(/^bcrt1q/);
    expect(invoice!.paymentUri).toBe(`bitcoin:${invoice!.onchainAddress}?amount=0.00120000&lightning=${invoice!.lightningInvoice}`);
    expect(invoice!.checkoutUrl).toMatch(new RegExp(`^${simBase}/checkout/[0-9a-f-]{36}$`));
    const expiresIn = Date.parse(invoice!.expiresAt) - before;
    // 15 minutes asked (INVOICE_TTL_MINUTES), 10 given: Swiss Bitcoin Pay's rate window.
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000 + 1_000);
    expect(sim.getInvoice(providerIdOf(invoice!))!.delay).toBe(600);

    // The same booking again (the gateway retrying): the same invoice, no second checkout.
    const again = await svc.client.createInvoice(req);
    expect(again.invoice).toEqual(invoice);
    expect(checkoutOf(req.appointmentId)).toHaveLength(1);
    expect((await svc.client.getInvoice({ appointmentId: req.appointmentId })).invoice).toEqual(invoice);

    const created = await eventually(async () => svc.eventsOf('payment.invoice_created', req.appointmentId)[0]);
    expect(created.data).toMatchObject({ invoiceId: invoice!.id, sats: 120_000, amount: { amount: '120.00', currency: 'CHF' }, provider: 'swiss-bitcoin-pay' });
    await sleep(100);
    expect(svc.eventsOf('payment.invoice_created', req.appointmentId)).toHaveLength(1);
  });

  it('makes one provider invoice when the gateway, its retries and appointment.held race', async () => {
    const req = invoiceRequest();
    const held = svc.publish('appointment.held', req.appointmentId, { ...req, professionalId: newId(), startAt: '', endAt: '' });
    const results = await Promise.all([held, ...Array.from({ length: 5 }, () => svc.client.createInvoice(req))]);
    const ids = new Set(results.slice(1).map((r) => (r as { invoice: payment.Invoice }).invoice.id));
    expect(ids.size).toBe(1);
    await sleep(300);
    expect(checkoutOf(req.appointmentId)).toHaveLength(1);
    expect(svc.eventsOf('payment.invoice_created', req.appointmentId)).toHaveLength(1);
  });

  it('never expires the invoice after the booking hold, and refuses a hold that is already over', async () => {
    const req = invoiceRequest(newId(), newId(), 5);
    const { invoice } = await svc.client.createInvoice(req);
    expect(Date.parse(invoice!.expiresAt)).toBeLessThanOrEqual(Date.parse(req.holdExpiresAt));
    await expect(svc.client.createInvoice(invoiceRequest(newId(), newId(), -1))).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'HOLD_EXPIRED' });
  });

  it('sends no health data to the provider: a neutral title and the booking reference only', async () => {
    const req = invoiceRequest();
    const { invoice } = await svc.client.createInvoice(req);
    const [checkout] = checkoutOf(req.appointmentId);
    expect(checkout).toMatchObject({ title: 'CryptoCare consultation', description: `Booking ${req.appointmentId}`, extra: {}, input: { unit: 'CHF', amount: 120 } });
    // What the payer's wallet shows: the BOLT11 description.
    expect(decodeBolt11(invoice!.lightningInvoice).description).toBe(`CryptoCare consultation - Booking ${req.appointmentId}`);
  });

  it('refuses bad input with machine codes', async () => {
    const good = invoiceRequest();
    const refused = (req: object, code: string) => expect(svc.client.createInvoice(req)).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code });
    await refused({ ...good, appointmentId: 'nope' }, 'INVALID_APPOINTMENT_ID');
    await refused({ ...good, patientId: '' }, 'INVALID_PATIENT_ID');
    await refused({ ...good, price: { amount: '12.345', currency: 'CHF' } }, 'INVALID_PRICE');
    await refused({ ...good, price: { amount: '-5', currency: 'CHF' } }, 'INVALID_PRICE');
    await refused({ ...good, price: { amount: '120.00', currency: 'USD' } }, 'INVALID_CURRENCY');
    await refused({ ...good, holdExpiresAt: 'tomorrow' }, 'INVALID_HOLD_EXPIRY');
    await expect(svc.client.getInvoice({ appointmentId: newId() })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'INVOICE_NOT_FOUND' });
    await expect(svc.client.getInvoice({ appointmentId: 'x' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT });
    expect(checkoutOf(good.appointmentId)).toHaveLength(0);
  });

  it('pay → signed webhook → IngestWebhook: payment.confirmed once, however often the webhook comes', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    sim.pay(providerIdOf(invoice!), 'lightning');
    const hook = await webhookFor(providerIdOf(invoice!), 'settled');
    expect(hook.path).toBe('/webhooks/swiss-bitcoin-pay'); // PUBLIC_BASE_URL + the gateway's route

    const first = await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', hook));
    const second = await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', hook));
    expect(first).toEqual({ accepted: true, eventId: expect.stringMatching(new RegExp(`^${providerIdOf(invoice!)}:[0-9a-f]{64}$`)) });
    expect(second).toEqual({ accepted: false, eventId: first.eventId });

    const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
    expect(confirmed.data).toMatchObject({ invoiceId: invoice!.id, sats: 120_000, method: 'lightning' });
    expect(Date.parse(confirmed.data.paidAt)).toBeGreaterThan(0);
    const paid = (await svc.client.getInvoice({ appointmentId })).invoice!;
    expect(paid).toMatchObject({ status: INVOICE_STATUS_PAID, paidAt: confirmed.data.paidAt });

    // A third delivery after processing: still a no-op.
    expect((await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', hook))).accepted).toBe(false);
    await sleep(200);
    expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(1);
    const rows = (await inboxRows(svc)).filter((r) => r.provider_event_id === first.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0].processed_at).not.toBeNull();
    // The SLIs: QR code (invoice creation) and webhook → confirmation.
    const count = async (name: string, labels: Record<string, string>) =>
      (await registry.getSingleMetric(name)!.get()).values.find((v) => (v as { metricName?: string }).metricName === `${name}_count` && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
    expect(await count('webhook_to_confirmation_seconds', { provider: 'swiss-bitcoin-pay' })).toBeGreaterThanOrEqual(1);
    expect(await count('invoice_creation_seconds', { provider: 'swiss-bitcoin-pay', outcome: 'created' })).toBeGreaterThanOrEqual(1);
  });

  it('does not trust a webhook body: a signed "paid" for an unpaid invoice changes nothing', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    const lie = Buffer.from(JSON.stringify({ ...sim.getInvoice(providerIdOf(invoice!)), status: 'settled', isPaid: true, paymentMethod: 'lightning' }));
    const { accepted, eventId } = await svc.client.ingestWebhook({ provider: 'swiss-bitcoin-pay', rawBody: lie, headers: { 'sbp-sig': sign(lie) } });
    expect(accepted).toBe(true);
    await eventually(async () => (await inboxRows(svc)).find((r) => r.provider_event_id === eventId && r.processed_at !== null));
    expect((await svc.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_OPEN);
    expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(0);
  });

  it('refuses a forged or missing signature and stores nothing', async () => {
    const { invoice } = await svc.client.createInvoice(invoiceRequest());
    sim.pay(providerIdOf(invoice!));
    const hook = await webhookFor(providerIdOf(invoice!), 'settled');
    const before = (await inboxRows(svc)).length;
    const genuine = forwarded('swiss-bitcoin-pay', hook);

    const forgedBody = Buffer.from(hook.rawBody.toString().replace('"isPaid":true', '"isPaid":true '));
    const attempts = [
      { ...genuine, headers: { ...genuine.headers, 'sbp-sig': sign(hook.rawBody, 'guessed-secret') } },
      { ...genuine, rawBody: forgedBody },
      { ...genuine, headers: { 'content-type': 'application/json' } },
    ];
    for (const attempt of attempts) {
      await expect(svc.client.ingestWebhook(attempt)).rejects.toMatchObject({ status: status.UNAUTHENTICATED, code: 'INVALID_SIGNATURE' });
    }
    await expect(svc.client.ingestWebhook({ ...genuine, provider: 'paypal' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'UNKNOWN_PROVIDER' });
    await expect(svc.client.ingestWebhook({ ...genuine, provider: 'btcpay' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'UNKNOWN_PROVIDER' });
    expect(await inboxRows(svc)).toHaveLength(before);
    await sleep(100);
    expect(svc.eventsOf('payment.confirmed', invoice!.appointmentId)).toHaveLength(0);
  });

  it('provider down at CreateInvoice: UNAVAILABLE, then the pending creator makes the invoice and announces it', async () => {
    const req = invoiceRequest();
    sim.failNextCreates(1_000);
    await expect(svc.client.createInvoice(req)).rejects.toMatchObject({ status: status.UNAVAILABLE, code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
    const pending = await svc.db.query(`SELECT attempts, last_error FROM "${svc.schema}".pending_invoice_requests WHERE appointment_id = $1`, [req.appointmentId]);
    expect(pending.rows[0]).toMatchObject({ attempts: expect.any(Number), last_error: expect.stringContaining('503') });
    await expect(svc.client.getInvoice({ appointmentId: req.appointmentId })).rejects.toMatchObject({ code: 'INVOICE_NOT_FOUND' });
    expect(svc.eventsOf('payment.invoice_created', req.appointmentId)).toHaveLength(0);

    sim.failNextCreates(0); // the provider is back
    const created = await eventually(async () => svc.eventsOf('payment.invoice_created', req.appointmentId)[0]);
    const { invoice } = await svc.client.getInvoice({ appointmentId: req.appointmentId });
    expect(created.data.invoiceId).toBe(invoice!.id);
    expect(invoice).toMatchObject({ status: INVOICE_STATUS_OPEN, sats: 120_000, lightningInvoice: expect.stringMatching(/^lnbc/) });
    expect(checkoutOf(req.appointmentId)).toHaveLength(1);
    expect((await svc.db.query(`SELECT 1 FROM "${svc.schema}".pending_invoice_requests WHERE appointment_id = $1`, [req.appointmentId])).rowCount).toBe(0);
    // The gateway asking again now gets that invoice.
    expect((await svc.client.createInvoice(req)).invoice!.id).toBe(invoice!.id);
  });

  it('appointment.held without a CreateInvoice call: the invoice is made in the background; with one: nothing more', async () => {
    const alone = invoiceRequest();
    await svc.publish('appointment.held', alone.appointmentId, { ...alone, professionalId: newId(), startAt: '', endAt: '' });
    const created = await eventually(async () => svc.eventsOf('payment.invoice_created', alone.appointmentId)[0]);
    expect((await svc.client.getInvoice({ appointmentId: alone.appointmentId })).invoice!.id).toBe(created.data.invoiceId);

    const viaGateway = invoiceRequest();
    await svc.client.createInvoice(viaGateway);
    await svc.publish('appointment.held', viaGateway.appointmentId, { ...viaGateway, professionalId: newId(), startAt: '', endAt: '' });
    await sleep(300);
    expect(checkoutOf(viaGateway.appointmentId)).toHaveLength(1);
    expect(svc.eventsOf('payment.invoice_created', viaGateway.appointmentId)).toHaveLength(1);
  });

  it('appointment.expired expires the open invoice (payment.expired)', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    await svc.publish('appointment.expired', appointmentId, { appointmentId });
    const expired = await eventually(async () => svc.eventsOf('payment.expired', appointmentId)[0]);
    expect(expired.data).toEqual({ invoiceId: invoice!.id, appointmentId });
    expect((await svc.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_EXPIRED);
  });

  it('the provider expiring the invoice is reported as payment.expired', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    sim.expire(providerIdOf(invoice!));
    await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'expired')));
    await eventually(async () => svc.eventsOf('payment.expired', appointmentId)[0]);
    expect((await svc.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_EXPIRED);
  });

  it('a paid booking cancelled: a refund due in the ledger (without the free text the canceller wrote) and payment.refund_requested', async () => {
    const { invoice } = await paidThroughWebhook(svc);
    await svc.publish('appointment.cancelled', invoice.appointmentId, { appointmentId: invoice.appointmentId, reason: 'my sister Ann is in hospital', wasPaid: true, cancelledBy: 'patient' });
    const requested = await eventually(async () => svc.eventsOf('payment.refund_requested', invoice.appointmentId)[0]);
    expect(requested.data).toEqual({ invoiceId: invoice.id, appointmentId: invoice.appointmentId, reason: 'cancelled by the patient', sats: 120_000 });
    const refunds = await svc.db.query(`SELECT sats, status, reason FROM "${svc.schema}".refunds WHERE invoice_id = $1`, [invoice.id]);
    expect(refunds.rows).toEqual([{ sats: '120000', status: 'due', reason: 'cancelled by the patient' }]);
    // The patient's export shows the refund with the invoice.
    const answer = await svc.client.getInvoice({ appointmentId: invoice.appointmentId });
    expect(answer.invoice!.status).toBe(INVOICE_STATUS_REFUND_DUE);
    expect(answer.refund).toMatchObject({ invoiceId: invoice.id, appointmentId: invoice.appointmentId, sats: 120_000, reason: 'cancelled by the patient', status: 'due' });
  });

  it("a paid booking cancelled because its professional left: the platform's reason is recorded", async () => {
    const { invoice } = await paidThroughWebhook(svc);
    await svc.publish('appointment.cancelled', invoice.appointmentId, { appointmentId: invoice.appointmentId, reason: 'professional left', wasPaid: true, cancelledBy: 'system' });
    const requested = await eventually(async () => svc.eventsOf('payment.refund_requested', invoice.appointmentId)[0]);
    expect(requested.data).toMatchObject({ reason: 'professional left', sats: 120_000 });
    expect((await svc.client.getInvoice({ appointmentId: invoice.appointmentId })).refund).toMatchObject({ reason: 'professional left', status: 'due' });
  });

  it('an unpaid booking cancelled: the invoice expires, and money arriving later is owed back', async () => {
    const appointmentId = newId();
    const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
    await svc.publish('appointment.cancelled', appointmentId, { appointmentId, reason: 'slot no longer wanted', wasPaid: false, cancelledBy: newId() });
    await eventually(async () => svc.eventsOf('payment.expired', appointmentId)[0]);
    expect(svc.eventsOf('payment.refund_requested', appointmentId)).toHaveLength(0);

    sim.pay(providerIdOf(invoice!)); // the wallet paid anyway
    await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'settled')));
    await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
    const refund = await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[0]);
    expect(refund.data).toMatchObject({ invoiceId: invoice!.id, sats: 120_000 });
    expect((await svc.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_REFUND_DUE);
  });

  it('identity.user_erased anonymises the patient on invoices and keeps the accounting', async () => {
    const patientId = newId();
    const req = invoiceRequest(newId(), patientId);
    const { invoice } = await svc.client.createInvoice(req);
    await svc.publish('identity.user_erased', patientId, { userId: patientId });
    await eventually(async () => {
      const { rows } = await svc.db.query(`SELECT patient_id, amount, sats FROM "${svc.schema}".invoices WHERE id = $1`, [invoice!.id]);
      return rows[0]?.patient_id === null && rows[0];
    });
    expect((await svc.client.getInvoice({ appointmentId: req.appointmentId })).invoice).toMatchObject({ amount: { amount: '120.00' }, sats: 120_000 });
  });

  it('a repair migration replaces the free text of refunds recorded before with the neutral reason', async () => {
    const reasons = ['what a patient typed about their health', 'professional left', 'payment arrived too late: SLOT_TAKEN', 'paid after the booking was cancelled'];
    const invoices = await Promise.all(reasons.map(async () => (await svc.client.createInvoice(invoiceRequest(newId()))).invoice!));
    for (const [i, invoice] of invoices.entries()) {
      await svc.db.query(`INSERT INTO "${svc.schema}".refunds (id, invoice_id, appointment_id, sats, reason, status) VALUES ($1, $2, $3, 1, $4, 'due')`, [newId(), invoice.id, invoice.appointmentId, reasons[i]]);
    }
    const sql = readFileSync(path.join(__dirname, '../prisma/migrations/20261201040000_refund_reasons_without_free_text/migration.sql'), 'utf8');
    const connection = await svc.db.connect();
    try {
      await connection.query(`SET search_path TO "${svc.schema}"`);
      await connection.query(sql);
    } finally {
      await connection.query('RESET search_path');
      connection.release();
    }
    const { rows } = await svc.db.query(`SELECT invoice_id::text, reason FROM "${svc.schema}".refunds WHERE invoice_id = ANY($1::uuid[])`, [invoices.map((i) => i.id)]);
    expect(invoices.map((i) => rows.find((r) => r.invoice_id === i.id)?.reason)).toEqual(['booking cancelled', 'professional left', 'payment arrived too late: SLOT_TAKEN', 'paid after the booking was cancelled']);
  });

  describe('reconciliation', () => {
    it('confirms a payment whose webhook was lost', async () => {
      const appointmentId = newId();
      const { invoice } = await recon.client.createInvoice(invoiceRequest(appointmentId));
      sim.pay(providerIdOf(invoice!), 'lightning'); // its webhook is never forwarded
      const confirmed = await eventually(async () => recon.eventsOf('payment.confirmed', appointmentId)[0]);
      expect(confirmed.data).toMatchObject({ invoiceId: invoice!.id, method: 'lightning', sats: 120_000 });
      expect((await recon.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_PAID);
      await sleep(300);
      expect(recon.eventsOf('payment.confirmed', appointmentId)).toHaveLength(1);
    });

    it('reports an on-chain payment below the confirmation policy as seen, once, and does not confirm it', async () => {
      const appointmentId = newId();
      const { invoice } = await recon.client.createInvoice(invoiceRequest(appointmentId));
      sim.pay(providerIdOf(invoice!), 'onchain'); // the simulator reports 1 confirmation; this instance wants 2
      await eventually(async () => recon.eventsOf('payment.payment_seen', appointmentId)[0]);
      await sleep(400); // several more passes
      expect(recon.eventsOf('payment.payment_seen', appointmentId)).toHaveLength(1);
      expect(recon.eventsOf('payment.confirmed', appointmentId)).toHaveLength(0);
      expect((await recon.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_OPEN);
    });

    it('still confirms a payment that lands after the booking hold expired (appointment decides)', async () => {
      const appointmentId = newId();
      const { invoice } = await recon.client.createInvoice(invoiceRequest(appointmentId));
      await recon.publish('appointment.expired', appointmentId, { appointmentId });
      await eventually(async () => recon.eventsOf('payment.expired', appointmentId)[0]);
      sim.pay(providerIdOf(invoice!));
      await eventually(async () => recon.eventsOf('payment.confirmed', appointmentId)[0]);
      expect((await recon.client.getInvoice({ appointmentId })).invoice!.status).toBe(INVOICE_STATUS_PAID);
    });
  });
});

