import { ApiClient, DEMO_PASSWORD, demoProfessionals, eventually, seedDemoDirectory, startPlatform, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * ARCHITECTURE section 4 end to end: every service its own process, real PostgreSQL, Redis and
 * Kafka, the provider simulators speaking the real APIs.
 */
describe('booking through the gateway (real PostgreSQL, Redis, Kafka; separate processes)', () => {
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
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `p-${Date.now()}-${Math.random()}@example.ch`, password: 'patient-password-1', role: 'patient', displayName: 'Pat Ient', consents: currentConsents() });
    return api.as(session.accessToken);
  }

  async function firstFreeSlot(patient: ApiClient, specialty: string, skip = 0) {
    const found = await patient.expect(200, 'GET', `/v1/professionals?specialty=${specialty}&country=CH`);
    expect(found.items.length).toBeGreaterThan(0);
    const professional = found.items[0];
    const slots = await patient.expect(200, 'GET', `/v1/professionals/${professional.id}/slots`);
    return { professional, slot: slots.items[skip] };
  }

  it('registers, searches, books, pays on the provider and gets the meeting link, with the SSE stream in order', async () => {
    const patient = await newPatient();
    const { professional, slot } = await firstFreeSlot(patient, 'general-practice');
    expect(professional).toMatchObject({ displayName: 'Dr. Anna Keller', verified: true, price: { amount: '120.00', currency: 'CHF' } });

    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: professional.id, start: slot.start });
    expect(booked.appointment).toMatchObject({ status: 'held', professionalId: professional.id, start: slot.start });
    expect(booked.invoice.lightningInvoice).toMatch(/^lnbc/);
    expect(booked.invoice.qrSvg).toContain('<svg');
    expect(booked.invoice.paymentUri).toMatch(/^(bitcoin|lightning):/i);
    expect(booked.invoice.sats).toBeGreaterThan(0);

    const stream = patient.openEvents(`/v1/appointments/${booked.appointment.id}/events`);
    const taken = await patient.call('POST', '/v1/appointments', { professionalId: professional.id, start: slot.start });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('SLOT_TAKEN');

    await eventually(async () => stream.events.some((e) => e.event === 'invoice_ready'));
    const paid = await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' });
    expect(paid.ok).toBe(true);

    const done = await eventually(async () => {
      const { appointment } = await patient.expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`);
      return appointment.status === 'confirmed' && appointment.meeting ? appointment : undefined;
    }, 30_000);
    expect(done.meeting.joinUrl).toMatch(/^https?:\/\//);
    await eventually(async () => stream.events.some((e) => e.event === 'meeting_ready'));
    stream.close();
    expect(stream.events.map((e) => e.event)).toEqual(['invoice_ready', 'confirmed', 'meeting_ready']);
    expect(stream.events[2]!.data.joinUrl).toBe(done.meeting.joinUrl);

    // Someone else cannot see it.
    const stranger = await newPatient();
    expect((await stranger.call('GET', `/v1/appointments/${booked.appointment.id}`)).status).toBe(404);
  }, 90_000);

  it.each(['payment', 'appointment', 'video'] as const)('loses nothing when %s is killed in the middle of the flow', async (service) => {
    const patient = await newPatient();
    const { professional, slot } = await firstFreeSlot(patient, 'cardiology');
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: professional.id, start: slot.start });
    await platform.kill(service);
    // The payment lands while the service is down; the provider retries its webhook, events wait in Kafka.
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000));
    await platform.restart(service);
    const done = await eventually(async () => {
      const { appointment } = await patient.expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`);
      return appointment.status === 'confirmed' && appointment.meeting ? appointment : undefined;
    }, 45_000);
    expect(done.meeting.joinUrl).toMatch(/^https?:\/\//);
  }, 120_000);
  it('exports everything held of a patient, then erases the account everywhere', async () => {
    const patient = await newPatient();
    const { professional, slot } = await firstFreeSlot(patient, 'dermatology');
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: professional.id, start: slot.start });
    await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' });
    await eventually(async () => (await patient.expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`)).appointment.status === 'confirmed');

    const exported = await patient.call('GET', '/v1/me/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    expect(exported.body.user.role).toBe('patient');
    expect(exported.body.appointments.map((a: { id: string }) => a.id)).toEqual([booked.appointment.id]);
    expect(exported.body.invoices).toEqual([expect.objectContaining({ appointmentId: booked.appointment.id, sats: booked.invoice.sats, status: 'paid' })]);

    // The professional's calendar names the patient (identity's display name).
    const dermatologist = demoProfessionals.find((p) => p.specialties.includes('dermatology'))!;
    const session = await api.expect(200, 'POST', '/v1/auth/login', { email: dermatologist.email, password: DEMO_PASSWORD });
    const calendar = api.as(session.accessToken);
    const named = (await calendar.expect(200, 'GET', '/v1/appointments?limit=100')).items.find((a: { id: string }) => a.id === booked.appointment.id);
    expect(named).toMatchObject({ patientId: exported.body.user.id, patientName: 'Pat Ient' });

    const erased = await patient.call('DELETE', '/v1/me');
    expect(erased.status).toBe(202);
    expect((await api.call('POST', '/v1/auth/login', { email: exported.body.user.email, password: 'patient-password-1' })).status).toBe(401);
    // The token of the erased account ended with it (revocation list), not when it expires.
    const after = await patient.call('GET', '/v1/me');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('TOKEN_REVOKED');
    // The professional keeps the booking in their calendar, without the patient's identity.
    const kept = await eventually(async () => {
      const { items } = await calendar.expect(200, 'GET', '/v1/appointments?limit=100');
      const booking = items.find((a: { id: string }) => a.id === booked.appointment.id);
      return booking?.patientId === '00000000-0000-0000-0000-000000000000' ? booking : undefined;
    });
    expect(kept.status).toBe('confirmed');
    expect(kept.patientName).toBeNull();
    // A professional's export holds the profile and the schedule.
    const own = await calendar.expect(200, 'GET', '/v1/me/export');
    expect(own.profile).toMatchObject({ id: session.user.id, verified: true });
    expect(own.schedule.rules.length).toBeGreaterThan(0);
    expect(own.invoices).toEqual([]);
  }, 90_000);
});
