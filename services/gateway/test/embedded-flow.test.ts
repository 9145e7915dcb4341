import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, embeddedPortOffset, eventually, freePort, startEmbeddedDev, type EmbeddedDev } from '@cryptocare/testing';

/**
 * `make dev` as a user runs it: one process, embedded PostgreSQL, in-process bus and cache, the
 * simulators, the demo directory. Then a booking end to end, a stop, a start, and the data is there.
 */
describe('embedded mode (make dev)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-embedded-'));
  const offset = embeddedPortOffset();
  const gatewayUrl = `http://127.0.0.1:${8080 + offset}`;
  let dev: EmbeddedDev | undefined;
  let pgPort = 0;

  async function startDev() {
    pgPort ||= await freePort();
    dev = await startEmbeddedDev({ offset, pgPort, dataDir });
  }

  const stopDev = async () => dev?.stop();

  afterAll(async () => {
    await stopDev();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs a booking end to end, then keeps its data across a restart', async () => {
    await startDev();
    expect(dev!.output()).toContain(gatewayUrl.replace('127.0.0.1', 'localhost'));
    const api = new ApiClient(gatewayUrl);
    const email = 'embedded-patient@example.ch';
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email, password: 'patient-password-1', role: 'patient', displayName: 'Emma Bedded' });
    const patient = api.as(session.accessToken);

    const found = await patient.expect(200, 'GET', '/v1/professionals?country=FR&language=fr');
    expect(found.items.length).toBeGreaterThanOrEqual(2);
    const professional = found.items[0];
    const slots = await patient.expect(200, 'GET', `/v1/professionals/${professional.id}/slots`);
    const booked = await patient.expect(201, 'POST', '/v1/appointments', { professionalId: professional.id, start: slots.items[0].start });
    expect(booked.invoice.lightningInvoice).toMatch(/^lnbc/);
    expect(booked.invoice.qrSvg).toContain('<svg');
    const stream = patient.openEvents(`/v1/appointments/${booked.appointment.id}/events`);
    await eventually(async () => stream.events.some((e) => e.event === 'invoice_ready'));
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => stream.events.some((e) => e.event === 'meeting_ready'), 30_000);
    stream.close();
    expect(stream.events.map((e) => e.event)).toEqual(['invoice_ready', 'confirmed', 'meeting_ready']);

    await stopDev();
    await startDev();
    const again = await api.expect(200, 'POST', '/v1/auth/login', { email, password: 'patient-password-1' });
    const { appointment } = await api.as(again.accessToken).expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`);
    expect(appointment.status).toBe('confirmed');
    expect(appointment.meeting.joinUrl).toMatch(/^https?:\/\//);
    const directory = await api.expect(200, 'GET', '/v1/professionals?country=CH');
    expect(directory.items.length).toBe(4);
  }, 400_000);
});
