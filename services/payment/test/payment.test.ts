import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { payment } from '@cryptocare/contracts';
import { registry } from '@cryptocare/platform';
import { createLightningInvoice, createSwissBitcoinPaySimulator, decodeBolt11, randomSegwitAddress, startWebhookReceiver, type SwissBitcoinPaySimulator, type WebhookReceiver } from '@cryptocare/simulators';
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
    const after = Date.now();
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
    // 15 minutes asked (INVOICE_TTL_MINUTES), 10 given: Swiss Bitcoin Pay's rate window, counted from
    // the creation (between before and after; the provider's expiry is in whole seconds).
    expect(Date.parse(invoice!.expiresAt)).toBeGreaterThanOrEqual(before - 1_000 + 10 * 60_000);
    expect(Date.parse(invoice!.expiresAt)).toBeLessThanOrEqual(after + 1_000 + 10 * 60_000);
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

  describe('refund destination', () => {
    /** A paid booking cancelled by its patient: 120 000 sats owed back, on mainnet (the simulator's lnbc requests). */
    async function owedBack() {
      const { invoice } = await paidThroughWebhook(svc);
      const { rows } = await svc.db.query(`SELECT patient_id::text FROM "${svc.schema}".invoices WHERE id = $1`, [invoice.id]);
      await svc.publish('appointment.cancelled', invoice.appointmentId, { appointmentId: invoice.appointmentId, reason: '', wasPaid: true, cancelledBy: 'patient' });
      await eventually(async () => svc.eventsOf('payment.refund_requested', invoice.appointmentId)[0]);
      return { invoice, patientId: rows[0].patient_id as string, appointmentId: invoice.appointmentId };
    }
    const refused = (req: { appointmentId: string; patientId: string; destination: string }, grpcStatus: number, code: string) =>
      expect(svc.client.setRefundDestination(req)).rejects.toMatchObject({ status: grpcStatus, code });

    it('the patient gives a Lightning address: stored, announced (the kind only), shown with the invoice', async () => {
      const { invoice, patientId, appointmentId } = await owedBack();
      const { refund } = await svc.client.setRefundDestination({ appointmentId, patientId, destination: ' Alice@Wallet.Example.com' });
      expect(refund).toMatchObject({ invoiceId: invoice.id, status: 'due', sats: 120_000, destinationKind: 'lightning_address', destination: 'alice@wallet.example.com' });
      const event = await eventually(async () => svc.eventsOf('payment.refund_destination_set', appointmentId)[0]);
      expect(event.data).toEqual({ refundId: refund!.id, invoiceId: invoice.id, appointmentId, destinationKind: 'lightning_address' });
      expect((await svc.client.getInvoice({ appointmentId })).refund).toMatchObject({ destinationKind: 'lightning_address', destination: 'alice@wallet.example.com' });
    });

    it('a BOLT11 must ask for exactly the sats owed on the payment\'s network; an on-chain address must be of that network', async () => {
      const { patientId, appointmentId } = await owedBack();
      const pr = (amountSats: number, network: 'bc' | 'bcrt' = 'bc') => createLightningInvoice({ amountSats, description: 'refund', expirySeconds: 3600, network }).paymentRequest;
      await refused({ appointmentId, patientId, destination: pr(119_999) }, status.INVALID_ARGUMENT, 'INVOICE_AMOUNT_MISMATCH');
      await refused({ appointmentId, patientId, destination: pr(120_000, 'bcrt') }, status.INVALID_ARGUMENT, 'WRONG_NETWORK');
      await refused({ appointmentId, patientId, destination: randomSegwitAddress('bcrt') }, status.INVALID_ARGUMENT, 'WRONG_NETWORK');
      await refused({ appointmentId, patientId, destination: 'alice\u0000@example.com' }, status.INVALID_ARGUMENT, 'INVALID_REFUND_DESTINATION');
      await refused({ appointmentId, patientId, destination: 'x'.repeat(100_000) }, status.INVALID_ARGUMENT, 'INVALID_REFUND_DESTINATION');
      expect(svc.eventsOf('payment.refund_destination_set', appointmentId)).toHaveLength(0);
      const good = pr(120_000);
      expect((await svc.client.setRefundDestination({ appointmentId, patientId, destination: good })).refund).toMatchObject({ destinationKind: 'bolt11', destination: good });
      const address = randomSegwitAddress('bc');
      expect((await svc.client.setRefundDestination({ appointmentId, patientId, destination: address })).refund).toMatchObject({ destinationKind: 'onchain', destination: address });
    });

    it("another patient's booking and a booking with nothing owed answer NOT_FOUND; after the payout started, REFUND_IN_PROGRESS", async () => {
      const { invoice, patientId, appointmentId } = await owedBack();
      await refused({ appointmentId, patientId: newId(), destination: 'bob@example.com' }, status.NOT_FOUND, 'BOOKING_NOT_FOUND');
      await refused({ appointmentId: newId(), patientId, destination: 'bob@example.com' }, status.NOT_FOUND, 'BOOKING_NOT_FOUND');
      await refused({ appointmentId: 'nope', patientId, destination: 'bob@example.com' }, status.INVALID_ARGUMENT, 'INVALID_APPOINTMENT_ID');
      const unpaid = invoiceRequest();
      await svc.client.createInvoice(unpaid);
      await refused({ appointmentId: unpaid.appointmentId, patientId: unpaid.patientId, destination: 'bob@example.com' }, status.NOT_FOUND, 'NO_REFUND_DUE');

      await svc.client.setRefundDestination({ appointmentId, patientId, destination: 'first@example.com' });
      await svc.db.query(`UPDATE "${svc.schema}".refunds SET status = 'paid' WHERE invoice_id = $1`, [invoice.id]);
      await refused({ appointmentId, patientId, destination: 'second@example.com' }, status.FAILED_PRECONDITION, 'REFUND_IN_PROGRESS');
      expect((await svc.client.getInvoice({ appointmentId })).refund).toMatchObject({ destination: 'first@example.com' });
    });

    it('identity.user_erased drops the destination (it can name the person) and keeps the refund owed', async () => {
      const { invoice, patientId, appointmentId } = await owedBack();
      await svc.client.setRefundDestination({ appointmentId, patientId, destination: 'ann.smith@example.com' });
      await svc.publish('identity.user_erased', patientId, { userId: patientId });
      const row = await eventually(async () => {
        const { rows } = await svc.db.query(`SELECT destination, destination_kind, sats, status FROM "${svc.schema}".refunds WHERE invoice_id = $1`, [invoice.id]);
        return rows[0]?.destination === null && rows[0];
      });
      expect(row).toEqual({ destination: null, destination_kind: 'lightning_address', sats: '120000', status: 'due' });
    });

    it('a BOLT11 given for an excess no longer fits once the booking is cancelled and all is owed: it is dropped', async () => {
      const appointmentId = newId();
      const req = invoiceRequest(appointmentId);
      const { invoice } = await svc.client.createInvoice(req);
      sim.payOnchain(providerIdOf(invoice!), 125_000);
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'settled')));
      await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[0]);
      const pr = createLightningInvoice({ amountSats: 5_000, description: 'excess', expirySeconds: 3600, network: 'bc' }).paymentRequest;
      expect((await svc.client.setRefundDestination({ appointmentId, patientId: req.patientId, destination: pr })).refund).toMatchObject({ sats: 5_000, destinationKind: 'bolt11' });
      await svc.publish('appointment.cancelled', appointmentId, { appointmentId, reason: '', wasPaid: true, cancelledBy: 'patient' });
      await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId).length === 2);
      expect((await svc.client.getInvoice({ appointmentId })).refund).toMatchObject({ sats: 125_000, status: 'due', destinationKind: '', destination: '' });
    });

    it('ten changes at the same instant: each answered, the stored destination is one of them, one event each', async () => {
      const { patientId, appointmentId } = await owedBack();
      const wanted = Array.from({ length: 10 }, (_, i) => `p${i}@example.com`);
      const answers = await Promise.all(wanted.map((destination) => svc.client.setRefundDestination({ appointmentId, patientId, destination })));
      expect(answers.map((a) => a.refund!.destination).sort()).toEqual([...wanted].sort());
      expect(wanted).toContain((await svc.client.getInvoice({ appointmentId })).refund!.destination);
      await eventually(async () => svc.eventsOf('payment.refund_destination_set', appointmentId).length === 10);
    });
  });

  describe('admin refund queue', () => {
    async function owedBackTo(destination?: string) {
      const { invoice } = await paidThroughWebhook(svc);
      const { rows } = await svc.db.query(`SELECT patient_id::text FROM "${svc.schema}".invoices WHERE id = $1`, [invoice.id]);
      await svc.publish('appointment.cancelled', invoice.appointmentId, { appointmentId: invoice.appointmentId, reason: '', wasPaid: true, cancelledBy: 'patient' });
      await eventually(async () => svc.eventsOf('payment.refund_requested', invoice.appointmentId)[0]);
      const patientId = rows[0].patient_id as string;
      if (destination) await svc.client.setRefundDestination({ appointmentId: invoice.appointmentId, patientId, destination });
      const refund = (await svc.client.getInvoice({ appointmentId: invoice.appointmentId })).refund!;
      return { invoice, patientId, appointmentId: invoice.appointmentId, refund };
    }
    /** Every refund of one status, through all pages of `limit`. */
    async function allOf(status: string, limit: number) {
      const out: payment.Refund[] = [];
      let cursor = '';
      do {
        const page = await svc.client.listRefunds({ status, limit, cursor });
        expect(page.refunds.length).toBeLessThanOrEqual(limit);
        out.push(...page.refunds);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    }
    const admin = newId();

    it('lists refunds owed with their destination; marks one paid once (same reference: the same answer; another: REFUND_ALREADY_PAID); the patient sees it', async () => {
      const { appointmentId, patientId, refund } = await owedBackTo('pat@example.com');
      const queued = (await allOf('due', 2)).find((r) => r.id === refund.id);
      expect(queued).toMatchObject({ appointmentId, sats: 120_000, status: 'due', destinationKind: 'lightning_address', destination: 'pat@example.com', paidAt: '', txReference: '' });

      const txReference = 'a'.repeat(64);
      const { refund: paid } = await svc.client.markRefundPaid({ refundId: refund.id, adminId: admin, txReference });
      expect(paid).toMatchObject({ id: refund.id, status: 'paid', txReference });
      expect(paid!.paidAt).not.toBe('');
      const event = await eventually(async () => svc.eventsOf('payment.refund_paid', appointmentId)[0]);
      expect(event.data).toEqual({ refundId: refund.id, invoiceId: refund.invoiceId, appointmentId, sats: 120_000, paidAt: paid!.paidAt });

      expect((await svc.client.markRefundPaid({ refundId: refund.id, adminId: admin, txReference })).refund).toEqual(paid);
      await expect(svc.client.markRefundPaid({ refundId: refund.id, adminId: admin, txReference: 'b'.repeat(64) })).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'REFUND_ALREADY_PAID' });
      await expect(svc.client.setRefundDestination({ appointmentId, patientId, destination: 'other@example.com' })).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'REFUND_IN_PROGRESS' });
      expect((await svc.client.getInvoice({ appointmentId })).refund).toEqual(paid);
      expect((await allOf('due', 50)).map((r) => r.id)).not.toContain(refund.id);
      expect((await allOf('paid', 1)).map((r) => r.id)).toContain(refund.id);
      await sleep(200);
      expect(svc.eventsOf('payment.refund_paid', appointmentId)).toHaveLength(1);
    });

    it('five admins marking it paid at the same instant with different references: one wins, the others are refused, one event', async () => {
      const { appointmentId, refund } = await owedBackTo('pat@example.com');
      const refs = Array.from({ length: 5 }, (_, i) => `txid-${i}-${'f'.repeat(56)}`);
      const results = await Promise.allSettled(refs.map((txReference) => svc.client.markRefundPaid({ refundId: refund.id, adminId: newId(), txReference })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'REFUND_ALREADY_PAID' });
      await eventually(async () => svc.eventsOf('payment.refund_paid', appointmentId).length === 1);
      await sleep(200);
      expect(svc.eventsOf('payment.refund_paid', appointmentId)).toHaveLength(1);
    });

    it('refuses to mark paid a refund with no destination, an unknown one, and bad input, with codes', async () => {
      const { refund } = await owedBackTo();
      const refused = (req: { refundId: string; adminId: string; txReference: string }, grpcStatus: number, code: string) =>
        expect(svc.client.markRefundPaid(req)).rejects.toMatchObject({ status: grpcStatus, code });
      await refused({ refundId: refund.id, adminId: admin, txReference: 'c'.repeat(64) }, status.FAILED_PRECONDITION, 'NO_REFUND_DESTINATION');
      await refused({ refundId: newId(), adminId: admin, txReference: 'c'.repeat(64) }, status.NOT_FOUND, 'REFUND_NOT_FOUND');
      await refused({ refundId: 'x', adminId: admin, txReference: 'c'.repeat(64) }, status.INVALID_ARGUMENT, 'INVALID_REFUND_ID');
      await refused({ refundId: refund.id, adminId: admin, txReference: 'abc\u0000defgh' }, status.INVALID_ARGUMENT, 'INVALID_TX_REFERENCE');
      await refused({ refundId: refund.id, adminId: admin, txReference: 'x'.repeat(201) }, status.INVALID_ARGUMENT, 'INVALID_TX_REFERENCE');
      await expect(svc.client.listRefunds({ status: 'lost', limit: 10, cursor: '' })).rejects.toMatchObject({ code: 'INVALID_REFUND_STATUS' });
      await expect(svc.client.listRefunds({ status: 'due', limit: 100_000, cursor: '' })).rejects.toMatchObject({ code: 'INVALID_LIMIT' });
      await expect(svc.client.listRefunds({ status: 'due', limit: 10, cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
      expect((await svc.client.getInvoice({ appointmentId: refund.appointmentId })).refund).toMatchObject({ status: 'due', txReference: '' });
    });
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

  describe('ledger', () => {
    const movements = async (appointmentId: string) =>
      (await svc.client.getLedger({ appointmentId })).entries.map((e) => [e.kind, e.sats, e.fiatMinor, e.currency, e.rate, e.refundId === '' ? '' : 'refund']);

    it('records each money movement with the state change: over-paid, cancelled (the refund raised), paid back; balanced at the end only', async () => {
      const appointmentId = newId();
      const req = invoiceRequest(appointmentId);
      const { invoice } = await svc.client.createInvoice(req);
      expect(await movements(appointmentId)).toEqual([['invoice_created', 120_000, 12_000, 'CHF', '100000.00', '']]);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'nothing_paid', balanced: true, currency: 'CHF' });

      sim.payOnchain(providerIdOf(invoice!), 125_000);
      const hook = await webhookFor(providerIdOf(invoice!), 'settled');
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', hook));
      await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId)[0]);
      // The provider's repeated webhook records nothing twice.
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', hook));
      await sleep(200);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'refund_outstanding', balanced: false, keptSats: 120_000, outstandingSats: 5_000, outstandingFiatMinor: 500 });

      await svc.publish('appointment.cancelled', appointmentId, { appointmentId, reason: '', wasPaid: true, cancelledBy: 'patient' });
      await eventually(async () => svc.eventsOf('payment.refund_requested', appointmentId).length === 2);
      const { refund } = await svc.client.setRefundDestination({ appointmentId, patientId: req.patientId, destination: 'pat@example.com' });
      await svc.client.markRefundPaid({ refundId: refund!.id, adminId: newId(), txReference: 'a'.repeat(64) });

      expect(await movements(appointmentId)).toEqual([
        ['invoice_created', 120_000, 12_000, 'CHF', '100000.00', ''],
        ['over', 125_000, 12_500, 'CHF', '100000.00', ''],
        ['refund_due', 5_000, 500, 'CHF', '100000.00', 'refund'],
        ['refund_due', 120_000, 12_000, 'CHF', '100000.00', 'refund'],
        ['refund_paid', 125_000, 12_500, 'CHF', '100000.00', 'refund'],
      ]);
      expect((await svc.client.getLedger({ appointmentId })).balance).toEqual({
        dueSats: 120_000,
        receivedSats: 125_000,
        refundDueSats: 125_000,
        refundPaidSats: 125_000,
        keptSats: 0,
        outstandingSats: 0,
        dueFiatMinor: 12_000,
        receivedFiatMinor: 12_500,
        keptFiatMinor: 0,
        outstandingFiatMinor: 0,
        state: 'refunded',
        balanced: true,
        currency: 'CHF',
      });
    });

    /** Waits for the booking's top-up (the second invoice), as GetInvoice shows it. */
    const topUpOf = (appointmentId: string) => eventually(async () => (await svc.client.getInvoice({ appointmentId })).topUp);
    const invoiceRows = async (appointmentId: string) =>
      (await svc.db.query(`SELECT kind, status FROM "${svc.schema}".invoices WHERE appointment_id = $1 ORDER BY id`, [appointmentId])).rows;

    it('an under-payment that ends while the booking is held: the rest becomes a top-up (a second invoice); paying it confirms once and the ledger balances', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId, newId(), 60, '80.00', 'EUR'));
      sim.payOnchain(providerIdOf(invoice!), 30_000);
      sim.expire(providerIdOf(invoice!));
      // Any of its webhooks will do: payment re-reads the checkout, which has ended underpaid.
      const underpaid = forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'underpaid'));
      await svc.client.ingestWebhook(underpaid);
      const requested = await eventually(async () => svc.eventsOf('payment.top_up_requested', appointmentId)[0]);
      expect(requested.data).toMatchObject({ invoiceId: invoice!.id, paidSats: 30_000, shortfallSats: 50_000, rest: { amount: '50.00', currency: 'EUR' } });

      const topUp = await topUpOf(appointmentId);
      expect(topUp).toMatchObject({ kind: 'top_up', status: INVOICE_STATUS_OPEN, amount: { amount: '50.00', currency: 'EUR' }, sats: 50_000, provider: 'swiss-bitcoin-pay' });
      expect(topUp.id).not.toBe(invoice!.id);
      expect((await svc.client.getInvoice({ appointmentId })).invoice).toMatchObject({ id: invoice!.id, kind: 'booking', status: INVOICE_STATUS_EXPIRED, paidSats: 30_000 });
      const announced = await eventually(async () => svc.eventsOf('payment.invoice_created', appointmentId).find((e) => e.data.invoiceId === topUp.id));
      expect(announced.data).toMatchObject({ topUpOf: invoice!.id, sats: 50_000, amount: { amount: '50.00', currency: 'EUR' } });
      // The slot stays held: nothing expired, nothing owed back.
      expect(svc.eventsOf('payment.expired', appointmentId)).toHaveLength(0);
      expect(svc.eventsOf('payment.refund_requested', appointmentId)).toHaveLength(0);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'short', balanced: false, keptSats: 30_000 });

      // The same webhooks again, twice at once: still one top-up and one confirmation.
      await svc.client.ingestWebhook({ ...underpaid, headers: { ...underpaid.headers } });
      sim.pay(providerIdOf(topUp));
      const settled = forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(topUp), 'settled'));
      await Promise.all([svc.client.ingestWebhook(settled), svc.client.ingestWebhook(settled)]);
      const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
      expect(confirmed.data).toMatchObject({ invoiceId: topUp.id, sats: 50_000 });
      await eventually(async () => (await svc.client.getInvoice({ appointmentId })).topUp?.status === INVOICE_STATUS_PAID);
      expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(1);
      expect(await invoiceRows(appointmentId)).toEqual([{ kind: 'booking', status: 'expired' }, { kind: 'top_up', status: 'paid' }]);
      expect(checkoutOf(appointmentId)).toHaveLength(2);
      expect(await movements(appointmentId)).toEqual([
        ['invoice_created', 80_000, 8_000, 'EUR', '100000.00', ''],
        ['under', 30_000, 3_000, 'EUR', '100000.00', ''],
        ['shortfall_carried', 50_000, 5_000, 'EUR', '100000.00', ''],
        ['top_up_created', 50_000, 5_000, 'EUR', '100000.00', ''],
        ['paid', 50_000, 5_000, 'EUR', '100000.00', ''],
      ]);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'paid', balanced: true, dueSats: 80_000, keptSats: 80_000 });
      expect(svc.eventsOf('payment.refund_requested', appointmentId)).toHaveLength(0);
    });

    it('a top-up that ends short: the slot is released and everything received (both invoices) is owed back once, in one refund', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
      sim.payOnchain(providerIdOf(invoice!), 80_000);
      sim.expire(providerIdOf(invoice!));
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'underpaid')));
      const topUp = await topUpOf(appointmentId);
      expect(topUp).toMatchObject({ amount: { amount: '40.00', currency: 'CHF' }, sats: 40_000 });

      sim.payOnchain(providerIdOf(topUp), 10_000);
      sim.expire(providerIdOf(topUp));
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(topUp), 'underpaid')));
      const expired = await eventually(async () => svc.eventsOf('payment.expired', appointmentId)[0]);
      expect(expired.data).toMatchObject({ invoiceId: topUp.id });
      const answer = await eventually(async () => {
        const a = await svc.client.getInvoice({ appointmentId });
        return a.refund?.sats === 90_000 ? a : undefined;
      });
      expect(answer.refund).toMatchObject({ invoiceId: invoice!.id, status: 'due', reason: 'paid less than due before the invoice ended' });
      expect(answer.topUp).toMatchObject({ status: INVOICE_STATUS_EXPIRED, paidSats: 10_000 });
      // The hold ending afterwards owes nothing more, and makes no second top-up.
      await svc.publish('appointment.expired', appointmentId, { appointmentId });
      await svc.publish('appointment.expired', appointmentId, { appointmentId });
      await sleep(300);
      expect((await svc.client.getInvoice({ appointmentId })).refund).toMatchObject({ sats: 90_000, status: 'due' });
      expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(0);
      expect(await invoiceRows(appointmentId)).toEqual([{ kind: 'booking', status: 'expired' }, { kind: 'top_up', status: 'expired' }]);
      const ledger = await svc.client.getLedger({ appointmentId });
      expect(ledger.entries.map((e) => [e.kind, e.sats, e.invoiceId === topUp.id ? 'top-up' : 'booking'])).toEqual([
        ['invoice_created', 120_000, 'booking'],
        ['under', 80_000, 'booking'],
        ['shortfall_carried', 40_000, 'booking'],
        ['top_up_created', 40_000, 'top-up'],
        ['under', 10_000, 'top-up'],
        ['refund_due', 10_000, 'top-up'],
        ['refund_due', 80_000, 'booking'],
      ]);
      expect(ledger.balance).toMatchObject({ state: 'refund_outstanding', outstandingSats: 90_000, keptSats: 0 });
    });

    it('an over-paid top-up confirms and owes its excess back; the booking cancelled afterwards owes back all of both invoices', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
      sim.payOnchain(providerIdOf(invoice!), 90_000);
      sim.expire(providerIdOf(invoice!));
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'underpaid')));
      const topUp = await topUpOf(appointmentId);
      expect(topUp).toMatchObject({ amount: { amount: '30.00', currency: 'CHF' }, sats: 30_000 });
      sim.payOnchain(providerIdOf(topUp), 45_000);
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(topUp), 'settled')));
      await eventually(async () => svc.eventsOf('payment.confirmed', appointmentId)[0]);
      const excess = await eventually(async () => (await svc.client.getInvoice({ appointmentId })).refund);
      expect(excess).toMatchObject({ invoiceId: invoice!.id, sats: 15_000, status: 'due', reason: 'paid more than due' });

      await svc.publish('appointment.cancelled', appointmentId, { appointmentId, reason: '', wasPaid: true, cancelledBy: 'patient' });
      await eventually(async () => (await svc.client.getInvoice({ appointmentId })).refund?.sats === 135_000);
      expect((await svc.client.getInvoice({ appointmentId })).topUp!.status).toBe(INVOICE_STATUS_REFUND_DUE);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'refund_outstanding', receivedSats: 135_000, outstandingSats: 135_000, keptSats: 0 });
      expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(1);
    });

    it('the hold ending before the top-up is paid: the top-up expires, what came in is owed back; the top-up paid after it ended is owed back too, never confirming', async () => {
      const appointmentId = newId();
      const { invoice } = await svc.client.createInvoice(invoiceRequest(appointmentId));
      sim.payOnchain(providerIdOf(invoice!), 70_000);
      sim.expire(providerIdOf(invoice!));
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'underpaid')));
      const topUp = await topUpOf(appointmentId);
      await svc.publish('appointment.expired', appointmentId, { appointmentId });
      const expired = await eventually(async () => svc.eventsOf('payment.expired', appointmentId)[0]);
      expect(expired.data).toMatchObject({ invoiceId: topUp.id });
      expect(await eventually(async () => (await svc.client.getInvoice({ appointmentId })).refund)).toMatchObject({ sats: 70_000, status: 'due' });
      expect((await svc.client.getInvoice({ appointmentId })).topUp!.status).toBe(INVOICE_STATUS_EXPIRED);
      // The patient pays the top-up anyway: owed back, no confirmation.
      sim.pay(providerIdOf(topUp));
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(topUp), 'settled')));
      await eventually(async () => (await svc.client.getInvoice({ appointmentId })).refund?.sats === 120_000);
      expect(svc.eventsOf('payment.confirmed', appointmentId)).toHaveLength(0);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'refund_outstanding', receivedSats: 120_000, outstandingSats: 120_000 });
    });

    it('a refund that grows after it was paid: a further refund for exactly the new money (the destination kept), in the queue, paid once; the ledger balances again', async () => {
      const appointmentId = newId();
      const req = invoiceRequest(appointmentId);
      const { invoice } = await svc.client.createInvoice(req);
      sim.payOnchain(providerIdOf(invoice!), 150_000);
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'settled')));
      await eventually(async () => (await svc.client.getInvoice({ appointmentId })).refund);
      const { refund: excess } = await svc.client.setRefundDestination({ appointmentId, patientId: req.patientId, destination: 'pat@example.com' });
      const admin = newId();
      await svc.client.markRefundPaid({ refundId: excess!.id, adminId: admin, txReference: 'c'.repeat(64) });
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'paid', balanced: true });

      // Cancelled after the excess was paid out: all 150 000 are owed, 30 000 of them already went back.
      const cancelled = { appointmentId, reason: '', wasPaid: true, cancelledBy: 'patient' };
      await svc.publish('appointment.cancelled', appointmentId, cancelled);
      const further = await eventually(async () => {
        const r = (await svc.client.getInvoice({ appointmentId })).refund;
        return r && r.id !== excess!.id ? r : undefined;
      });
      expect(further).toMatchObject({ sats: 120_000, status: 'due', destinationKind: 'lightning_address', destination: 'pat@example.com' });
      // The paid one is not edited.
      const { rows } = await svc.db.query(`SELECT id::text, sats::int, status, tx_reference FROM "${svc.schema}".refunds WHERE invoice_id = $1 ORDER BY created_at`, [invoice!.id]);
      expect(rows).toEqual([
        { id: excess!.id, sats: 30_000, status: 'paid', tx_reference: 'c'.repeat(64) },
        { id: further.id, sats: 120_000, status: 'due', tx_reference: null },
      ]);
      const queued = await svc.client.listRefunds({ status: 'due', limit: 200, cursor: '' });
      expect(queued.refunds.filter((r) => r.appointmentId === appointmentId).map((r) => [r.id, r.sats])).toEqual([[further.id, 120_000]]);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'refund_outstanding', outstandingSats: 120_000 });

      // The same cancellation again, and the provider's webhook again: nothing more is owed.
      await svc.publish('appointment.cancelled', appointmentId, cancelled);
      await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', await webhookFor(providerIdOf(invoice!), 'settled')));
      await sleep(300);
      const paidAgain = await svc.client.markRefundPaid({ refundId: further.id, adminId: admin, txReference: 'd'.repeat(64) });
      expect(paidAgain.refund).toMatchObject({ status: 'paid', sats: 120_000 });
      await expect(svc.client.markRefundPaid({ refundId: further.id, adminId: admin, txReference: 'e'.repeat(64) })).rejects.toMatchObject({ code: 'REFUND_ALREADY_PAID' });
      expect((await movements(appointmentId)).map(([kind, sats]) => [kind, sats])).toEqual([
        ['invoice_created', 120_000],
        ['over', 150_000],
        ['refund_due', 30_000],
        ['refund_paid', 30_000],
        ['refund_due', 120_000],
        ['refund_paid', 120_000],
      ]);
      expect((await svc.client.getLedger({ appointmentId })).balance).toMatchObject({ state: 'refunded', balanced: true, refundPaidSats: 150_000 });
      expect((await svc.client.getInvoice({ appointmentId })).refund).toMatchObject({ id: further.id, status: 'paid' });
    });

    it('is append-only: the database refuses to change or delete a movement', async () => {
      const appointmentId = newId();
      await svc.client.createInvoice(invoiceRequest(appointmentId));
      const table = `"${svc.schema}".ledger_entries`;
      await expect(svc.db.query(`UPDATE ${table} SET sats = 1 WHERE appointment_id = $1`, [appointmentId])).rejects.toThrow(/append-only \(UPDATE refused\)/);
      await expect(svc.db.query(`DELETE FROM ${table} WHERE appointment_id = $1`, [appointmentId])).rejects.toThrow(/append-only \(DELETE refused\)/);
      expect(await movements(appointmentId)).toEqual([['invoice_created', 120_000, 12_000, 'CHF', '100000.00', '']]);
      await expect(svc.client.getLedger({ appointmentId: 'nope' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_APPOINTMENT_ID' });
      expect((await svc.client.getLedger({ appointmentId: newId() }))).toMatchObject({ entries: [], balance: { state: 'nothing_paid', balanced: true, currency: '' } });
    });

    it('reconciliation report: per invoice in the range, our received amount against the provider\'s; a lost webhook is a mismatch; bad ranges refused', async () => {
      const from = new Date(Date.now() - 1_000).toISOString();
      const paid = await paidThroughWebhook(svc);
      // Paid at the provider, its webhook never forwarded (and this instance does not poll): we have nothing.
      const lostId = newId();
      const { invoice: lost } = await svc.client.createInvoice(invoiceRequest(lostId));
      sim.pay(providerIdOf(lost!), 'lightning');
      const open = (await svc.client.createInvoice(invoiceRequest())).invoice!;
      const to = new Date(Date.now() + 1_000).toISOString();
      const report = await svc.client.getReconciliation({ from, to });
      const row = (id: string) => report.rows.find((r) => r.invoiceId === id);
      expect(row(paid.invoice.id)).toMatchObject({ provider: 'swiss-bitcoin-pay', dueSats: 120_000, ledgerPaidSats: 120_000, ledgerPaidFiatMinor: 12_000, providerPaidSats: 120_000, providerState: 'paid', outcome: 'match' });
      expect(row(lost!.id)).toMatchObject({ appointmentId: lostId, ledgerPaidSats: 0, providerPaidSats: 120_000, providerState: 'paid', outcome: 'mismatch' });
      expect(row(open.id)).toMatchObject({ ledgerPaidSats: 0, providerPaidSats: 0, providerState: 'open', outcome: 'match' });
      expect(report.mismatches).toBeGreaterThanOrEqual(1);
      expect(report.truncated).toBe(false);

      const refused = (req: { from: string; to: string }, code: string) => expect(svc.client.getReconciliation(req)).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code });
      await refused({ from: to, to: from }, 'INVALID_RANGE');
      await refused({ from, to: from }, 'INVALID_RANGE');
      await refused({ from: '1900-01-01T00:00:00Z', to }, 'INVALID_RANGE');
      await refused({ from, to: '275760-09-13T00:00:00Z' }, 'INVALID_RANGE');
      await refused({ from: `${from}\u0000`, to }, 'INVALID_RANGE');
      await refused({ from: 'yesterday', to }, 'INVALID_RANGE');
      await refused({ from: '2026-01-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }, 'RANGE_TOO_WIDE');
    });
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

