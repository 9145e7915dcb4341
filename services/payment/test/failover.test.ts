// Failover between the two providers (real PostgreSQL, both simulators): new invoices go to BTCPay
// while Swiss Bitcoin Pay is stopped, and back once it answers again; an invoice is always served by
// the provider that made it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { payment } from '@cryptocare/contracts';
import { registry } from '@cryptocare/platform';
import { createBtcpaySimulator, createSwissBitcoinPaySimulator, startWebhookReceiver, type BtcpaySimulator, type SwissBitcoinPaySimulator, type WebhookReceiver } from '@cryptocare/simulators';
import { eventually } from '@cryptocare/testing';
import { forwarded, invoiceRequest, startPayment, type PaymentInstance } from './support';

const SBP = { apiKey: 'sbp-key', apiSecret: 'sbp-secret' };
const BTCPAY = { apiKey: 'btcpay-key', storeId: 'FailoverStore1234567890abcdefghijkmnopqrstu', webhookSecret: 'btcpay-secret' };

describe('payment failover: Swiss Bitcoin Pay primary, BTCPay secondary', () => {
  let dir: string;
  let sbp: SwissBitcoinPaySimulator;
  let sbpPort: number;
  let btcpay: BtcpaySimulator;
  let hooks: WebhookReceiver;
  let svc: PaymentInstance;

  const startSbp = async (port = 0) => {
    // The state file lets a restarted simulator know the invoices it made before it stopped.
    sbp = createSwissBitcoinPaySimulator({ ...SBP, stateFile: path.join(dir, 'sbp.json'), webhookRetryDelaysMs: [50] });
    sbpPort = Number(new URL(await sbp.listen(port)).port);
  };
  const providerIdOf = (invoice: payment.Invoice) => invoice.checkoutUrl.slice(invoice.checkoutUrl.lastIndexOf('/') + 1);
  const failovers = async () =>
    (await registry.getSingleMetric('payment_provider_failovers_total')!.get()).values.find((v) => v.labels.from === 'swiss-bitcoin-pay' && v.labels.to === 'btcpay')?.value ?? 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'failover-'));
    hooks = await startWebhookReceiver();
    await startSbp();
    btcpay = createBtcpaySimulator({ ...BTCPAY, webhookUrl: hooks.url, webhookRetryDelaysMs: [50] });
    const btcpayBase = await btcpay.listen();
    svc = await startPayment({
      SBP_API_URL: `http://127.0.0.1:${sbpPort}`,
      SBP_API_KEY: SBP.apiKey,
      SBP_API_SECRET: SBP.apiSecret,
      BTCPAY_URL: btcpayBase,
      BTCPAY_API_KEY: BTCPAY.apiKey,
      BTCPAY_STORE_ID: BTCPAY.storeId,
      BTCPAY_WEBHOOK_SECRET: BTCPAY.webhookSecret,
      PUBLIC_BASE_URL: new URL(hooks.url).origin,
      PROVIDER_TIMEOUT_MS: '1000',
      PROVIDER_RETRIES: '1',
      PROVIDER_RETRY_DELAY_MS: '10',
      PROVIDER_BREAK_AFTER: '3',
      PROVIDER_HALF_OPEN_MS: '300',
      PENDING_INVOICE_EVERY_MS: '60000',
      RECONCILE_EVERY_MS: '600000',
      RECONCILE_MIN_AGE_MS: '600000',
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await Promise.all([sbp?.close(), btcpay?.close(), hooks?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('with the primary stopped, 50 bookings in a row get BTCPay invoices; the older invoice stays with its provider; new ones go back once it recovers', async () => {
    const before = (await svc.client.createInvoice(invoiceRequest())).invoice!;
    expect(before.provider).toBe('swiss-bitcoin-pay');
    const failoversBefore = await failovers();

    await sbp.close();
    const during: payment.Invoice[] = [];
    for (let i = 0; i < 50; i++) during.push((await svc.client.createInvoice(invoiceRequest())).invoice!);
    expect(during.map((i) => i.provider)).toEqual(Array(50).fill('btcpay'));
    expect(new Set(during.map((i) => i.id)).size).toBe(50);
    expect(await failovers()).toBe(failoversBefore + 50);
    // The switch is an event once, on the first invoice BTCPay made, saying why.
    const switched = await eventually(async () => svc.eventsOf('payment.provider_switched', during[0]!.appointmentId)[0]);
    expect(switched.data).toMatchObject({ fromProvider: 'swiss-bitcoin-pay', toProvider: 'btcpay', invoiceId: during[0]!.id, reason: expect.stringMatching(/^swiss-bitcoin-pay: /) });
    expect(during.slice(1).flatMap((i) => svc.eventsOf('payment.provider_switched', i.appointmentId))).toEqual([]);

    // An invoice made during the outage is served by BTCPay: its webhook confirms it.
    const duringOne = during[0]!;
    btcpay.pay(providerIdOf(duringOne), 'BTC-LN');
    const settled = await eventually(async () => hooks.received.find((h) => (h.json as { invoiceId?: string; type?: string })?.invoiceId === providerIdOf(duringOne) && (h.json as { type?: string }).type === 'InvoiceSettled'));
    await svc.client.ingestWebhook(forwarded('btcpay', settled));
    await eventually(async () => svc.eventsOf('payment.confirmed', duringOne.appointmentId).length === 1);

    // The primary is back (same address, same invoices): the invoice it made before the outage is
    // still honoured through its own webhook, and new invoices return to it.
    await startSbp(sbpPort);
    sbp.pay(providerIdOf(before));
    const sbpHook = await eventually(async () => hooks.received.find((h) => (h.json as { id?: string; status?: string })?.id === providerIdOf(before) && (h.json as { status?: string }).status === 'settled'));
    await svc.client.ingestWebhook(forwarded('swiss-bitcoin-pay', sbpHook));
    const confirmed = await eventually(async () => svc.eventsOf('payment.confirmed', before.appointmentId)[0]);
    expect(confirmed.data.invoiceId).toBe(before.id);

    const after = await eventually(async () => {
      const { invoice } = await svc.client.createInvoice(invoiceRequest());
      return invoice!.provider === 'swiss-bitcoin-pay' ? invoice : undefined;
    });
    expect(after!.provider).toBe('swiss-bitcoin-pay');
    const back = await eventually(async () => svc.eventsOf('payment.provider_switched', after!.appointmentId)[0]);
    expect(back.data).toMatchObject({ fromProvider: 'btcpay', toProvider: 'swiss-bitcoin-pay', invoiceId: after!.id, reason: 'swiss-bitcoin-pay answered again' });
  });

  it("honours Swiss Bitcoin Pay's transaction limits: an amount it caps goes to BTCPay; alone, it is refused with a code and the slot released", async () => {
    sbp.setTransactionLimit('EUR', { min: 1, max: 100 });
    const capped = (await svc.client.createInvoice(invoiceRequest(undefined, undefined, 60, '120.00', 'EUR'))).invoice!;
    expect(capped).toMatchObject({ provider: 'btcpay', amount: { amount: '120.00', currency: 'EUR' } });
    expect((await svc.client.createInvoice(invoiceRequest(undefined, undefined, 60, '80.00', 'EUR'))).invoice!.provider).toBe('swiss-bitcoin-pay');

    const alone = await startPayment({
      SBP_API_URL: `http://127.0.0.1:${sbpPort}`,
      SBP_API_KEY: SBP.apiKey,
      SBP_API_SECRET: SBP.apiSecret,
      PAYMENT_FAILOVER: 'false',
      BTCPAY_URL: btcpay.baseUrl!,
      BTCPAY_API_KEY: BTCPAY.apiKey,
      BTCPAY_STORE_ID: BTCPAY.storeId,
      BTCPAY_WEBHOOK_SECRET: BTCPAY.webhookSecret,
      PUBLIC_BASE_URL: new URL(hooks.url).origin,
      PENDING_INVOICE_EVERY_MS: '60000',
    });
    try {
      const req = invoiceRequest(undefined, undefined, 60, '120.00', 'EUR');
      await expect(alone.client.createInvoice(req)).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'PAYMENT_AMOUNT_OUTSIDE_LIMITS' });
      const released = await eventually(async () => alone.eventsOf('payment.expired', req.appointmentId)[0]);
      expect(released.data).toMatchObject({ appointmentId: req.appointmentId, invoiceId: '' });
      expect((await alone.db.query(`SELECT count(*)::int AS n FROM "${alone.schema}".pending_invoice_requests`)).rows[0].n).toBe(0);
    } finally {
      await alone.stop();
    }
  });
});
