import { randomSegwitAddress } from '@cryptocare/simulators';
import { ApiClient, eventually, seedDemoDirectory, startPlatform, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * The money cases end to end through the gateway (every service its own process, real PostgreSQL,
 * Redis and Kafka, the Swiss Bitcoin Pay simulator paid on-chain for what it is asked to send).
 */
describe('money cases through the gateway: exact, over, under then top-up (a second invoice), under then ended, refund grows, cancelled at the provider, late (slot free, slot taken), cancelled after payment', () => {
  let platform: RunningPlatform;
  let api: ApiClient;

  beforeAll(async () => {
    platform = await startPlatform({ btcpay: true });
    api = new ApiClient(platform.gatewayUrl);
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  async function newPatient() {
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `m-${Date.now()}-${Math.random()}@example.ch`, password: 'patient-password-1', role: 'patient', displayName: 'Pat Ient', consents: currentConsents() });
    return api.as(session.accessToken);
  }

  let slotIndex = 0;
  /** Books the next free slot of the first general practitioner (120.00 CHF = 120 000 sats in the simulator). */
  async function book(patient: ApiClient) {
    const found = await patient.expect(200, 'GET', '/v1/professionals?specialty=general-practice&country=CH');
    const professional = found.items[0];
    const slots = await patient.expect(200, 'GET', `/v1/professionals/${professional.id}/slots`);
    const slot = slots.items[slotIndex++];
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: professional.id, start: slot.start });
    expect(booked.invoice.sats).toBe(120_000);
    return { ...booked, professionalId: professional.id, start: slot.start };
  }
  const sendOnchain = (checkoutUrl: string, sats?: number) =>
    fetch(`${checkoutUrl}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'onchain', ...(sats === undefined ? {} : { sats }) }) });
  const statusOf = async (patient: ApiClient, id: string) => (await patient.expect(200, 'GET', `/v1/appointments/${id}`)).appointment.status as string;
  const invoiceInExport = async (patient: ApiClient, id: string) =>
    ((await patient.expect(200, 'GET', '/v1/me/export')).invoices as Array<{ appointmentId: string; status: string; refund: { sats: number; status: string; reason: string } | null }>).find((i) => i.appointmentId === id);

  /** The booking's ledger as its patient sees it. */
  const ledgerOf = async (patient: ApiClient, id: string) => (await patient.expect(200, 'GET', `/v1/appointments/${id}/ledger`)) as { entries: Array<{ kind: string; sats: number; fiatMinor: number; currency: string; rate: string }>; balance: { state: string; balanced: boolean; outstandingSats: number; keptSats: number } };
  const adminToken = async () => (await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken as string;
  const signInAdmin = async () => api.as(await adminToken());
  /** The patient says where the refund goes, an admin pays it out from the queue: the ledger then balances. */
  async function payBack(patient: ApiClient, id: string) {
    const { refund } = await patient.expect(200, 'PUT', `/v1/appointments/${id}/refund-destination`, { destination: 'pat@wallet.example.com' });
    const admin = await signInAdmin();
    await admin.expect(200, 'POST', `/v1/admin/refunds/${refund.id}/paid`, { txReference: `${id.replace(/-/g, '')}ff` });
    return refund as { sats: number };
  }

  it('exact and over-payment confirm; the excess is owed back and shown to the patient', async () => {
    const patient = await newPatient();
    const exact = await book(patient);
    expect((await sendOnchain(exact.invoice.checkoutUrl)).ok).toBe(true);
    const over = await book(patient);
    expect((await sendOnchain(over.invoice.checkoutUrl, 150_000)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, exact.appointment.id)) === 'confirmed' && (await statusOf(patient, over.appointment.id)) === 'confirmed', 30_000);
    expect((await invoiceInExport(patient, exact.appointment.id))!.refund).toBeNull();
    const overInvoice = await eventually(async () => {
      const i = await invoiceInExport(patient, over.appointment.id);
      return i?.refund ? i : undefined;
    });
    expect(overInvoice.refund).toMatchObject({ sats: 30_000, status: 'due', reason: 'paid more than due' });

    // The ledger: the exact one balances at once; the over-payment once its excess is paid back.
    expect(await ledgerOf(patient, exact.appointment.id)).toMatchObject({
      entries: [
        { kind: 'invoice_created', sats: 120_000, fiatMinor: 12_000, currency: 'CHF', rate: '100000.00' },
        { kind: 'paid', sats: 120_000, fiatMinor: 12_000 },
      ],
      balance: { state: 'paid', balanced: true },
    });
    expect((await ledgerOf(patient, over.appointment.id)).balance).toMatchObject({ state: 'refund_outstanding', balanced: false, outstandingSats: 30_000 });
    await payBack(patient, over.appointment.id);
    const overLedger = await ledgerOf(patient, over.appointment.id);
    expect(overLedger.entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['over', 150_000], ['refund_due', 30_000], ['refund_paid', 30_000]]);
    expect(overLedger.balance).toMatchObject({ state: 'paid', balanced: true, keptSats: 120_000 });
  }, 90_000);

  it('under-payment: a top-up within the invoice confirms; one that ends while held gets a second invoice for the rest, which confirms; a top-up that ends short releases the slot at once and owes back all that came in', async () => {
    const patient = await newPatient();
    const topped = await book(patient);
    expect((await sendOnchain(topped.invoice.checkoutUrl, 50_000)).ok).toBe(true);
    expect((await sendOnchain(topped.invoice.checkoutUrl, 70_000)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, topped.appointment.id)) === 'confirmed', 30_000);
    expect((await invoiceInExport(patient, topped.appointment.id))!.refund).toBeNull();
    expect(await ledgerOf(patient, topped.appointment.id)).toMatchObject({ entries: [{ kind: 'invoice_created' }, { kind: 'paid', sats: 120_000 }], balance: { state: 'paid', balanced: true } });

    /** Under-pays a booking's invoice, which then ends: the booking shows its top-up. */
    async function underpaidThenEnded(paidSats: number) {
      const booking = await book(patient);
      expect((await sendOnchain(booking.invoice.checkoutUrl, paidSats)).ok).toBe(true);
      expect((await fetch(`${booking.invoice.checkoutUrl}/expire`, { method: 'POST' })).ok).toBe(true);
      const shown = await eventually(async () => {
        const b = await patient.expect(200, 'GET', `/v1/appointments/${booking.appointment.id}`);
        return b.topUp ? b : undefined;
      }, 30_000);
      return { booking, shown };
    }

    // The second invoice: "you paid 80.00 of 120.00 CHF", the rest with its QR code; the slot stays held.
    const { booking: second, shown } = await underpaidThenEnded(80_000);
    expect(shown.appointment.status).toBe('held');
    expect(shown.invoice).toMatchObject({ status: 'expired' });
    expect(shown.topUp).toMatchObject({
      price: { amount: '120.00', currency: 'CHF' },
      paid: { amount: '80.00', currency: 'CHF' },
      rest: { amount: '40.00', currency: 'CHF' },
      invoice: { status: 'open', sats: 40_000, qrSvg: expect.stringMatching(/^<svg/) },
    });
    expect(shown.topUp.invoice.id).not.toBe(shown.invoice.id);
    expect((await sendOnchain(shown.topUp.invoice.checkoutUrl)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, second.appointment.id)) === 'confirmed', 30_000);
    const secondLedger = await ledgerOf(patient, second.appointment.id);
    expect(secondLedger.entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['under', 80_000], ['shortfall_carried', 40_000], ['top_up_created', 40_000], ['paid', 40_000]]);
    expect(secondLedger.balance).toMatchObject({ state: 'paid', balanced: true, keptSats: 120_000 });
    expect((await patient.expect(200, 'GET', `/v1/appointments/${second.appointment.id}`)).refund).toBeNull();
    // The patient's export lists both invoices of the booking, each with its kind.
    const exported = ((await patient.expect(200, 'GET', '/v1/me/export')).invoices as Array<{ appointmentId: string; kind: string; id: string; sats: number; status: string }>).filter((i) => i.appointmentId === second.appointment.id);
    expect(exported.map((i) => [i.kind, i.id, i.sats])).toEqual([['booking', shown.invoice.id, 120_000], ['top_up', shown.topUp.invoice.id, 40_000]]);

    // A top-up that ends short too: released now (not when the hold, an hour, would end), all of it owed back.
    const { booking: short, shown: shortShown } = await underpaidThenEnded(50_000);
    expect((await sendOnchain(shortShown.topUp.invoice.checkoutUrl, 10_000)).ok).toBe(true);
    expect((await fetch(`${shortShown.topUp.invoice.checkoutUrl}/expire`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, short.appointment.id)) === 'expired', 30_000);
    const shortInvoice = await eventually(async () => {
      const i = await invoiceInExport(patient, short.appointment.id);
      return i?.refund?.sats === 60_000 ? i : undefined;
    });
    expect(shortInvoice.refund).toMatchObject({ sats: 60_000, status: 'due', reason: 'paid less than due before the invoice ended' });
    const other = await newPatient();
    await other.expect(201, 'POST', '/v1/appointments', { professionalId: short.professionalId, start: short.start });
    expect((await ledgerOf(patient, short.appointment.id)).balance).toMatchObject({ state: 'refund_outstanding', balanced: false, keptSats: 0, outstandingSats: 60_000 });
    await payBack(patient, short.appointment.id);
    const shortLedger = await ledgerOf(patient, short.appointment.id);
    expect(shortLedger.entries.map((e) => [e.kind, e.sats])).toEqual([
      ['invoice_created', 120_000],
      ['under', 50_000],
      ['shortfall_carried', 70_000],
      ['top_up_created', 70_000],
      ['under', 10_000],
      ['refund_due', 10_000],
      ['refund_due', 50_000],
      ['refund_paid', 60_000],
    ]);
    expect(shortLedger.balance).toMatchObject({ state: 'refunded', balanced: true });
  }, 120_000);

  it('the patient says where the excess goes (shown in the booking and the export; bad or foreign requests refused with codes); an admin marks it paid once', async () => {
    const patient = await newPatient();
    const over = await book(patient);
    expect((await sendOnchain(over.invoice.checkoutUrl, 125_000)).ok).toBe(true);
    await eventually(async () => (await invoiceInExport(patient, over.appointment.id))?.refund ?? undefined, 30_000);
    const url = `/v1/appointments/${over.appointment.id}/refund-destination`;
    const set = await patient.expect(200, 'PUT', url, { destination: 'Pat@Wallet.Example.com' });
    expect(set.refund).toMatchObject({ sats: 5_000, status: 'due', destinationKind: 'lightning_address', destination: 'pat@wallet.example.com' });
    expect((await patient.expect(200, 'GET', `/v1/appointments/${over.appointment.id}`)).refund).toMatchObject({ destination: 'pat@wallet.example.com' });
    expect((await invoiceInExport(patient, over.appointment.id))!.refund).toMatchObject({ destinationKind: 'lightning_address', destination: 'pat@wallet.example.com' });

    // The simulator's invoices are mainnet (lnbc…): a regtest address is for another network.
    expect((await patient.expect(400, 'PUT', url, { destination: randomSegwitAddress('bcrt') })).error.code).toBe('WRONG_NETWORK');
    expect((await patient.expect(400, 'PUT', url, { destination: 'pat\u0000@example.com' })).error.code).toBeDefined();
    await patient.expect(400, 'PUT', url, { destination: 'pat@example.com', extra: 1 });
    await patient.expect(400, 'PUT', url, { destination: 'x'.repeat(5000) });
    const stranger = await newPatient();
    expect((await stranger.expect(404, 'PUT', url, { destination: 'thief@example.com' })).error.code).toBe('BOOKING_NOT_FOUND');
    expect((await patient.expect(200, 'GET', `/v1/appointments/${over.appointment.id}`)).refund).toMatchObject({ destination: 'pat@wallet.example.com' });

    // The admin queue lists it with its destination; marking it paid shows to the patient, once.
    await patient.expect(403, 'GET', '/v1/admin/refunds?status=due');
    const admin = api.as((await api.expect(200, 'POST', '/v1/auth/login', { email: 'admin@cryptocare.test', password: 'admin-password-1' })).accessToken);
    const queued = await eventually(async () => {
      const page = await admin.expect(200, 'GET', '/v1/admin/refunds?status=due&limit=200');
      return (page.items as Array<{ id: string; appointmentId: string; destination: string }>).find((r) => r.appointmentId === over.appointment.id);
    });
    expect(queued).toMatchObject({ id: set.refund.id, destination: 'pat@wallet.example.com', sats: 5_000 });
    await admin.expect(400, 'POST', `/v1/admin/refunds/${queued.id}/paid`, { txReference: 'bad\u0000reference' });
    await admin.expect(400, 'GET', '/v1/admin/refunds?status=lost');
    const txReference = 'e'.repeat(64);
    const paid = await admin.expect(200, 'POST', `/v1/admin/refunds/${queued.id}/paid`, { txReference });
    expect(paid.refund).toMatchObject({ status: 'paid', txReference });
    expect((await admin.expect(200, 'POST', `/v1/admin/refunds/${queued.id}/paid`, { txReference })).refund).toEqual(paid.refund);
    expect((await admin.expect(409, 'POST', `/v1/admin/refunds/${queued.id}/paid`, { txReference: 'd'.repeat(64) })).error.code).toBe('REFUND_ALREADY_PAID');
    expect((await patient.expect(200, 'GET', `/v1/appointments/${over.appointment.id}`)).refund).toMatchObject({ status: 'paid', txReference });
    expect((await patient.expect(409, 'PUT', url, { destination: 'late@example.com' })).error.code).toBe('REFUND_IN_PROGRESS');
    expect((await ledgerOf(patient, over.appointment.id)).balance).toMatchObject({ state: 'paid', balanced: true });
  }, 90_000);

  it('refund grows: an over-paid booking cancelled after its excess was paid back owes a further refund for exactly the rest, shown to the patient, paid from the admin queue once; the ledger balances again', async () => {
    const patient = await newPatient();
    const over = await book(patient);
    expect((await sendOnchain(over.invoice.checkoutUrl, 150_000)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, over.appointment.id)) === 'confirmed', 30_000);
    await eventually(async () => (await patient.expect(200, 'GET', `/v1/appointments/${over.appointment.id}`)).refund ?? undefined, 30_000);
    const excess = await payBack(patient, over.appointment.id);
    expect(excess.sats).toBe(30_000);
    expect((await ledgerOf(patient, over.appointment.id)).balance).toMatchObject({ state: 'paid', balanced: true });

    await patient.expect(200, 'POST', `/v1/appointments/${over.appointment.id}/cancel`, {});
    const further = await eventually(async () => {
      const { refund } = await patient.expect(200, 'GET', `/v1/appointments/${over.appointment.id}`);
      return refund && refund.status === 'due' ? refund : undefined;
    }, 30_000);
    // Exactly the money not paid back yet; where it goes is kept from the first refund.
    expect(further).toMatchObject({ sats: 120_000, destination: 'pat@wallet.example.com' });
    expect((await ledgerOf(patient, over.appointment.id)).balance).toMatchObject({ state: 'refund_outstanding', outstandingSats: 120_000 });
    const admin = await signInAdmin();
    const queued = await eventually(async () => {
      const page = await admin.expect(200, 'GET', '/v1/admin/refunds?status=due&limit=200');
      return (page.items as Array<{ id: string; appointmentId: string; sats: number }>).filter((r) => r.appointmentId === over.appointment.id);
    });
    expect(queued.map((r) => [r.id, r.sats])).toEqual([[further.id, 120_000]]);
    await admin.expect(200, 'POST', `/v1/admin/refunds/${further.id}/paid`, { txReference: 'f'.repeat(64) });
    expect((await admin.expect(409, 'POST', `/v1/admin/refunds/${further.id}/paid`, { txReference: '9'.repeat(64) })).error.code).toBe('REFUND_ALREADY_PAID');
    const ledger = await ledgerOf(patient, over.appointment.id);
    expect(ledger.entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['over', 150_000], ['refund_due', 30_000], ['refund_paid', 30_000], ['refund_due', 120_000], ['refund_paid', 120_000]]);
    expect(ledger.balance).toMatchObject({ state: 'refunded', balanced: true });
  }, 90_000);

  it('a checkout cancelled at the provider releases the slot at once, with nothing owed', async () => {
    const patient = await newPatient();
    const cancelled = await book(patient);
    expect((await fetch(`${cancelled.invoice.checkoutUrl}/cancel`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, cancelled.appointment.id)) === 'expired', 30_000);
    expect((await invoiceInExport(patient, cancelled.appointment.id))!.refund).toBeNull();
    expect((await ledgerOf(patient, cancelled.appointment.id)).balance).toMatchObject({ state: 'nothing_paid', balanced: true });
  }, 60_000);

  it('an over-payment to BTCPay (Swiss Bitcoin Pay failing): the excess goes out as a BTCPay pull payment the patient claims, then paid, the ledger balanced', async () => {
    const patient = await newPatient();
    // Swiss Bitcoin Pay refuses the next creations: the booking's invoice comes from BTCPay.
    platform.sbp.failNextCreates(1_000);
    const viaBtcpay = await book(patient).finally(() => platform.sbp.failNextCreates(0));
    expect(viaBtcpay.invoice.provider).toBe('btcpay');
    const paid = await fetch(`${viaBtcpay.invoice.checkoutUrl}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paymentMethodId: 'BTC-CHAIN', sats: 125_000 }) });
    expect(paid.ok).toBe(true);
    await eventually(async () => (await statusOf(patient, viaBtcpay.appointment.id)) === 'confirmed', 30_000);

    // Sent through BTCPay: the patient sees where to claim it; no destination to give, nothing for the admin queue.
    const sent = await eventually(async () => {
      const { refund } = await patient.expect(200, 'GET', `/v1/appointments/${viaBtcpay.appointment.id}`);
      return refund?.status === 'sent' ? refund : undefined;
    }, 30_000);
    expect(sent).toMatchObject({ sats: 5_000, claimLink: expect.stringMatching(/\/pull-payments\/[1-9A-HJ-NP-Za-km-z]+$/) });
    expect((await invoiceInExport(patient, viaBtcpay.appointment.id))!.refund).toMatchObject({ status: 'sent', claimLink: sent.claimLink });
    expect((await patient.expect(409, 'PUT', `/v1/appointments/${viaBtcpay.appointment.id}/refund-destination`, { destination: 'pat@wallet.example.com' })).error.code).toBe('REFUND_IN_PROGRESS');
    expect(platform.btcpay!.listPullPayments().filter((p) => p.name === sent.id)).toEqual([expect.objectContaining({ amount: '0.00005', currency: 'BTC' })]);
    expect((await ledgerOf(patient, viaBtcpay.appointment.id)).balance).toMatchObject({ state: 'refund_outstanding', outstandingSats: 5_000 });

    // The patient claims it at the link; BTCPay pays it (simulated): paid, and the ledger balances.
    expect((await fetch(`${sent.claimLink}/pay`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await patient.expect(200, 'GET', `/v1/appointments/${viaBtcpay.appointment.id}`)).refund?.status === 'paid', 30_000);
    const ledger = await ledgerOf(patient, viaBtcpay.appointment.id);
    expect(ledger.entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['over', 125_000], ['refund_due', 5_000], ['refund_paid', 5_000]]);
    expect(ledger.balance).toMatchObject({ state: 'paid', balanced: true });
  }, 90_000);

  it('late payments (BTCPay PaidLate): with the slot still free the booking confirms; with it taken all is owed back; a paid booking cancelled is paid back; each ledger balances', async () => {
    const patient = await newPatient();
    // Swiss Bitcoin Pay refuses the next creations: both invoices come from BTCPay, which takes late payments.
    platform.sbp.failNextCreates(1_000);
    const [stillFree, taken] = await (async () => [await book(patient), await book(patient)])().finally(() => platform.sbp.failNextCreates(0));
    expect([stillFree.invoice.provider, taken.invoice.provider]).toEqual(['btcpay', 'btcpay']);
    for (const b of [stillFree, taken]) expect((await fetch(`${b.invoice.checkoutUrl}/expire`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, stillFree.appointment.id)) === 'expired' && (await statusOf(patient, taken.appointment.id)) === 'expired', 30_000);
    // Released at once: another patient takes the second slot before the late payments land.
    const other = await newPatient();
    const winner = await other.expect(201, 'POST', '/v1/appointments', { professionalId: taken.professionalId, start: taken.start });
    const payLate = (checkoutUrl: string) =>
      fetch(`${checkoutUrl}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paymentMethodId: 'BTC-CHAIN', afterExpiration: true }) });
    expect((await payLate(stillFree.invoice.checkoutUrl)).ok).toBe(true);
    expect((await payLate(taken.invoice.checkoutUrl)).ok).toBe(true);

    // Slot free: confirmed late, with its meeting, nothing owed, the ledger balanced.
    await eventually(async () => (await statusOf(patient, stillFree.appointment.id)) === 'confirmed', 30_000);
    expect((await invoiceInExport(patient, stillFree.appointment.id))!.refund).toBeNull();
    expect((await ledgerOf(patient, stillFree.appointment.id)).balance).toMatchObject({ state: 'paid', balanced: true, keptSats: 120_000 });

    // Slot taken: the late payer's booking is cancelled and everything is owed back; the winner keeps the slot.
    await eventually(async () => (await statusOf(patient, taken.appointment.id)) === 'cancelled', 30_000);
    expect((await other.expect(200, 'GET', `/v1/appointments/${winner.appointment.id}`)).appointment.status).toBe('held');
    const lateRefund = await eventually(async () => (await patient.expect(200, 'GET', `/v1/appointments/${taken.appointment.id}`)).refund ?? undefined, 30_000);
    expect(lateRefund.sats).toBe(120_000);
    expect((await ledgerOf(patient, taken.appointment.id)).balance).toMatchObject({ balanced: false, outstandingSats: 120_000 });
    // Through BTCPay the refund goes out as a pull payment; the patient claims it and the ledger balances.
    const sent = await eventually(async () => {
      const { refund } = await patient.expect(200, 'GET', `/v1/appointments/${taken.appointment.id}`);
      return refund?.status === 'sent' ? refund : undefined;
    }, 30_000);
    expect((await fetch(`${sent.claimLink}/pay`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await ledgerOf(patient, taken.appointment.id)).balance.balanced, 30_000);
    expect((await ledgerOf(patient, taken.appointment.id)).entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['paid', 120_000], ['refund_due', 120_000], ['refund_paid', 120_000]]);

    // A paid booking the patient cancels: all is owed back, paid from the admin queue, the ledger balanced.
    const cancelled = await book(patient);
    expect((await sendOnchain(cancelled.invoice.checkoutUrl)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, cancelled.appointment.id)) === 'confirmed', 30_000);
    await patient.expect(200, 'POST', `/v1/appointments/${cancelled.appointment.id}/cancel`, { reason: 'cannot come' });
    await eventually(async () => (await patient.expect(200, 'GET', `/v1/appointments/${cancelled.appointment.id}`)).refund ?? undefined, 30_000);
    expect((await payBack(patient, cancelled.appointment.id)).sats).toBe(120_000);
    const cancelledLedger = await ledgerOf(patient, cancelled.appointment.id);
    expect(cancelledLedger.entries.map((e) => [e.kind, e.sats])).toEqual([['invoice_created', 120_000], ['paid', 120_000], ['refund_due', 120_000], ['refund_paid', 120_000]]);
    expect(cancelledLedger.balance).toMatchObject({ state: 'refunded', balanced: true, keptSats: 0 });
  }, 120_000);

  it("the ledger is the booking's patient's and the admins'; the reconciliation report (JSON and CSV) is the admins', and refuses bad ranges with codes", async () => {
    const from = new Date(Date.now() - 1_000).toISOString();
    const patient = await newPatient();
    const paid = await book(patient);
    expect((await sendOnchain(paid.invoice.checkoutUrl)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, paid.appointment.id)) === 'confirmed', 30_000);
    const to = new Date(Date.now() + 60_000).toISOString();

    const stranger = await newPatient();
    await stranger.expect(404, 'GET', `/v1/appointments/${paid.appointment.id}/ledger`);
    await patient.expect(400, 'GET', '/v1/appointments/not-a-uuid/ledger');
    const token = await adminToken();
    const admin = api.as(token);
    expect((await admin.expect(200, 'GET', `/v1/appointments/${paid.appointment.id}/ledger`)).balance).toMatchObject({ state: 'paid', balanced: true });

    const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    await patient.expect(403, 'GET', `/v1/admin/ledger/reconciliation?${range}`);
    const report = await admin.expect(200, 'GET', `/v1/admin/ledger/reconciliation?${range}`);
    expect(report.rows.find((r: { appointmentId: string }) => r.appointmentId === paid.appointment.id)).toMatchObject({
      provider: 'swiss-bitcoin-pay',
      currency: 'CHF',
      dueSats: 120_000,
      ledgerPaidSats: 120_000,
      ledgerPaidFiatMinor: 12_000,
      providerPaidSats: 120_000,
      providerState: 'paid',
      outcome: 'match',
    });
    const csv = await fetch(`${platform.gatewayUrl}/v1/admin/ledger/reconciliation?${range}&format=csv`, { headers: { authorization: `Bearer ${token}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('invoice_id,appointment_id,provider,provider_invoice_id,created_at,currency,due_sats,ledger_paid_sats,ledger_paid_fiat,provider_paid_sats,provider_state,outcome');
    expect(lines.find((l) => l.includes(paid.appointment.id))).toMatch(/,CHF,120000,120000,120\.00,120000,paid,match$/);
    expect(lines).toHaveLength(report.rows.length + 2); // the header, the rows, the final CRLF

    const bad = async (query: string, code?: string) => {
      const res = await admin.expect(400, 'GET', `/v1/admin/ledger/reconciliation?${query}`);
      expect(res.error.code).toEqual(code ?? expect.any(String));
    };
    await bad(`from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`, 'INVALID_RANGE');
    await bad(`from=1900-01-01T00:00:00Z&to=${encodeURIComponent(to)}`); // the gateway's date-time format already refuses it
    await bad(`from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z`, 'RANGE_TOO_WIDE');
    await bad(`from=${encodeURIComponent(from)}%00&to=${encodeURIComponent(to)}`);
    await bad(`from=yesterday&to=${encodeURIComponent(to)}`);
    await bad(`to=${encodeURIComponent(to)}`);
    await bad(`${range}&format=xlsx`);
  }, 90_000);
});
