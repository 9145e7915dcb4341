import { randomSegwitAddress } from '@cryptocare/simulators';
import { ApiClient, eventually, seedDemoDirectory, startPlatform, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * The money cases end to end through the gateway (every service its own process, real PostgreSQL,
 * Redis and Kafka, the Swiss Bitcoin Pay simulator paid on-chain for what it is asked to send).
 */
describe('money cases through the gateway: exact, over, under then top-up, under then ended, cancelled at the provider', () => {
  let platform: RunningPlatform;
  let api: ApiClient;

  beforeAll(async () => {
    platform = await startPlatform();
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
  }, 90_000);

  it('under-payment: a top-up within the invoice confirms; one that ends short releases the slot at once and owes back what came in', async () => {
    const patient = await newPatient();
    const topped = await book(patient);
    expect((await sendOnchain(topped.invoice.checkoutUrl, 50_000)).ok).toBe(true);
    expect((await sendOnchain(topped.invoice.checkoutUrl, 70_000)).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, topped.appointment.id)) === 'confirmed', 30_000);
    expect((await invoiceInExport(patient, topped.appointment.id))!.refund).toBeNull();

    const short = await book(patient);
    expect((await sendOnchain(short.invoice.checkoutUrl, 50_000)).ok).toBe(true);
    expect((await fetch(`${short.invoice.checkoutUrl}/expire`, { method: 'POST' })).ok).toBe(true);
    // Released now, not when the hold (an hour) would have ended.
    await eventually(async () => (await statusOf(patient, short.appointment.id)) === 'expired', 30_000);
    const shortInvoice = await eventually(async () => {
      const i = await invoiceInExport(patient, short.appointment.id);
      return i?.refund ? i : undefined;
    });
    expect(shortInvoice.refund).toMatchObject({ sats: 50_000, status: 'due', reason: 'paid less than due before the invoice ended' });
    const other = await newPatient();
    await other.expect(201, 'POST', '/v1/appointments', { professionalId: short.professionalId, start: short.start });
  }, 90_000);

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
  }, 90_000);

  it('a checkout cancelled at the provider releases the slot at once, with nothing owed', async () => {
    const patient = await newPatient();
    const cancelled = await book(patient);
    expect((await fetch(`${cancelled.invoice.checkoutUrl}/cancel`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => (await statusOf(patient, cancelled.appointment.id)) === 'expired', 30_000);
    expect((await invoiceInExport(patient, cancelled.appointment.id))!.refund).toBeNull();
  }, 60_000);
});
