import type { FastifyInstance } from 'fastify';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import { appointment, payment } from '@cryptocare/contracts';
import { currentConsents, eventually } from '@cryptocare/testing';
import { standInGateway } from './support/stand-in-gateway';

/**
 * The HTTP contract of the gateway itself (status codes, machine codes, validation, auth, raw
 * webhooks, rate limits) with the backends replaced by recording stand-ins. The real backends are
 * exercised end to end in booking-flow.test.ts.
 */
const patientId = '0192f1a0-0000-7000-8000-0000000000a1';
const professionalId = '0192f1a0-0000-7000-8000-000000000001';

describe('gateway HTTP surface', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  let app: FastifyInstance;
  let sign: (sub: string, role: string) => Promise<string>;
  let calls: Array<{ method: string; request: any }>;
  let behaviour: Record<string, (request: any) => Promise<any>>;

  beforeAll(async () => {
    g = await standInGateway({ authRateLimitPerMinute: 3 });
    ({ app, calls, behaviour } = g);
    sign = (sub, role) => g.sign(sub, role);
  });
  afterAll(() => g.close());
  beforeEach(() => g.reset());

  const book = async (token: string | undefined, body: unknown) =>
    app.inject({ method: 'POST', url: '/v1/appointments', payload: body as object, headers: token ? { authorization: `Bearer ${token}` } : {} });

  // As gRPC hands them over: every field of the message (ts-proto fills the defaults).
  const heldAppointment = appointment.Appointment.fromPartial({
    id: '0192f1a0-0000-7000-8000-00000000b001',
    patientId,
    professionalId,
    startAt: '2026-12-07T08:00:00.000Z',
    endAt: '2026-12-07T08:30:00.000Z',
    status: appointment.AppointmentStatus.APPOINTMENT_STATUS_HELD,
    holdExpiresAt: '2026-11-24T07:00:00.000Z',
    price: { amount: '120.00', currency: 'CHF' },
  });

  it('refuses a missing token with 401 and a wrong role with 403, before any backend call', async () => {
    const anonymous = await book(undefined, { professionalId, start: '2026-12-07T08:00:00Z' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    const asProfessional = await book(await sign(professionalId, 'professional'), { professionalId, start: '2026-12-07T08:00:00Z' });
    expect(asProfessional.statusCode).toBe(403);
    expect(asProfessional.json().error.code).toBe('FORBIDDEN');
    const forged = await book((await sign(patientId, 'patient')).slice(0, -3) + 'abc', { professionalId, start: '2026-12-07T08:00:00Z' });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('INVALID_TOKEN');
    expect(calls).toEqual([]);
  });

  it('answers bad input with 400 VALIDATION_FAILED and calls nothing', async () => {
    const token = await sign(patientId, 'patient');
    for (const body of [{ professionalId }, { professionalId: 'not-a-uuid', start: '2026-12-07T08:00:00Z' }, { professionalId, start: 'tomorrow' }, { professionalId, start: '2026-12-07T08:00:00Z', extra: 1 }]) {
      const res = await book(token, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect(calls).toEqual([]);
  });

  it('maps a backend refusal to its HTTP status with the same machine code', async () => {
    behaviour['appointment.book'] = async () => {
      throw new AppError(GrpcStatus.ALREADY_EXISTS, 'SLOT_TAKEN', 'this slot is already taken');
    };
    const res = await book(await sign(patientId, 'patient'), { professionalId, start: '2026-12-07T08:00:00Z' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'SLOT_TAKEN', message: 'this slot is already taken' } });

    behaviour['appointment.book'] = async () => {
      throw new AppError(GrpcStatus.UNAVAILABLE, 'SERVICE_UNAVAILABLE', 'unavailable');
    };
    const down = await book(await sign(patientId, 'patient'), { professionalId, start: '2026-12-07T08:00:00Z' });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('2');
  });

  it('keeps the booking when the payment provider is down: 201 with the invoice pending', async () => {
    behaviour['appointment.book'] = async () => ({ appointment: heldAppointment });
    behaviour['payment.createInvoice'] = async () => {
      throw new AppError(GrpcStatus.UNAVAILABLE, 'PAYMENT_PROVIDER_UNAVAILABLE', 'provider down');
    };
    const res = await book(await sign(patientId, 'patient'), { professionalId, start: '2026-12-07T08:00:00Z' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ appointment: { id: heldAppointment.id, status: 'held' }, invoice: null, invoicePending: true });
  });

  it('returns the invoice with a scannable QR code and passes the Idempotency-Key on', async () => {
    behaviour['appointment.book'] = async () => ({ appointment: heldAppointment });
    behaviour['payment.createInvoice'] = async () => ({
      invoice: payment.Invoice.fromPartial({ id: 'inv1', appointmentId: heldAppointment.id, status: 1, amount: { amount: '120.00', currency: 'CHF' }, sats: 120000, lightningInvoice: 'lnbc1200u1ptest', paymentUri: 'lightning:lnbc1200u1ptest', checkoutUrl: 'https://pay.example/c/1', expiresAt: '2026-11-24T06:00:00Z' }),
    });
    const res = await app.inject({ method: 'POST', url: '/v1/appointments', payload: { professionalId, start: '2026-12-07T08:00:00Z' }, headers: { authorization: `Bearer ${await sign(patientId, 'patient')}`, 'idempotency-key': 'key-42' } });
    expect(res.statusCode).toBe(201);
    expect(res.json().invoice).toMatchObject({ lightningInvoice: 'lnbc1200u1ptest', sats: 120000, status: 'open' });
    expect(res.json().invoice.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(calls.find((c) => c.method === 'appointment.book')!.request).toMatchObject({ patientId, idempotencyKey: 'key-42', startAt: '2026-12-07T08:00:00.000Z' });
  });

  it('hands webhook bodies to payment byte for byte', async () => {
    behaviour['payment.ingestWebhook'] = async () => ({ accepted: true, eventId: 'e1' });
    const raw = '{ "id":"chk_1",  "isPaid": true }\n';
    const res = await app.inject({ method: 'POST', url: '/webhooks/swiss-bitcoin-pay', payload: raw, headers: { 'content-type': 'application/json', 'sbp-sig': 'sha256=abc' } });
    expect(res.statusCode).toBe(200);
    const call = calls.find((c) => c.method === 'payment.ingestWebhook')!;
    expect(Buffer.from(call.request.rawBody).toString()).toBe(raw);
    expect(call.request).toMatchObject({ provider: 'swiss-bitcoin-pay', headers: expect.objectContaining({ 'sbp-sig': 'sha256=abc' }) });

    behaviour['payment.ingestWebhook'] = async () => {
      throw new AppError(GrpcStatus.UNAUTHENTICATED, 'INVALID_SIGNATURE', 'bad signature');
    };
    const forged = await app.inject({ method: 'POST', url: '/webhooks/swiss-bitcoin-pay', payload: raw, headers: { 'content-type': 'application/json' } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('INVALID_SIGNATURE');
  });

  it('rate-limits registration per client with 429 RATE_LIMITED', async () => {
    behaviour['identity.register'] = async () => {
      throw new AppError(GrpcStatus.ALREADY_EXISTS, 'EMAIL_TAKEN', 'taken');
    };
    const body = { email: 'x@example.ch', password: 'long-enough-1', role: 'patient', displayName: 'X', consents: currentConsents() };
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.inject({ method: 'POST', url: '/v1/auth/register', payload: body, remoteAddress: '203.0.113.9' })).statusCode);
    expect(statuses).toEqual([409, 409, 409, 429, 429]);
    const limited = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: body, remoteAddress: '203.0.113.9' });
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect((await app.inject({ method: 'POST', url: '/v1/auth/register', payload: body, remoteAddress: '203.0.113.10' })).statusCode).toBe(409);
  });

  it('serves the built web client at / when there is one', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'web-'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>CryptoCare</title>');
    const web = await standInGateway({ webRoot: root });
    const withWeb = web.app;
    const page = await withWeb.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>CryptoCare</title>');
    expect((await withWeb.inject({ method: 'GET', url: '/v1/nothing' })).json().error.code).toBe('ROUTE_NOT_FOUND');
    await web.close();
    expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
  });

  it('sheds load with 503 OVERLOADED and Retry-After when the event loop lags', async () => {
    const shedding = await standInGateway({ maxEventLoopDelayMs: 50 });
    const busy = shedding.app;
    await busy.ready();
    expect((await busy.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Sustained lag (the sampler averages over a second): 100 ms blocks, again and again.
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      const blockEnd = Date.now() + 100;
      while (Date.now() < blockEnd) {
        // busy on purpose: this is the overload
      }
      await new Promise((r) => setImmediate(r));
    }
    const shed = await eventually(async () => {
      const res = await busy.inject({ method: 'GET', url: '/v1/specialties' });
      return res.statusCode === 503 ? res : undefined;
    }, 3_000, 50);
    expect(shed.json().error.code).toBe('OVERLOADED');
    expect(shed.headers['retry-after']).toBe('5');
    await shedding.close();
  });

  it('publishes its OpenAPI document and answers unknown routes with a machine code', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/auth/register', '/v1/professionals', '/v1/appointments', '/v1/appointments/{id}/events', '/webhooks/swiss-bitcoin-pay']));
    const missing = await app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('ROUTE_NOT_FOUND');
  });
});
