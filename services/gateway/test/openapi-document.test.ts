import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { appointment, common, identity, payment } from '@cryptocare/contracts';
import { repoRoot } from '@cryptocare/testing';
import { openApiDocument } from '../src/openapi-document';
import { presentAppointment, presentInvoice, presentProfile, presentUser } from '../src/presenters';
import { presentRefund } from '../src/routes/appointments';
import { standInGateway } from './support/stand-in-gateway';

const run = promisify(execFile);

type Operation = { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };

/**
 * The OpenAPI document as a contract the web client is generated from: every operation named and
 * its success answers declared, clean under a real OpenAPI linter, and the committed client current.
 */
describe('the OpenAPI document', () => {
  let doc: { paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    doc = (await openApiDocument()) as typeof doc;
  });

  const operations = () => Object.entries(doc.paths).flatMap(([route, ops]) => Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${route}`, op })));

  it('names every operation (unique camelCase operationId) and declares its success response with a schema', () => {
    const all = operations();
    expect(all.length).toBeGreaterThan(40);
    const problems: string[] = [];
    const seen = new Map<string, string>();
    for (const { at, op } of all) {
      if (!op.operationId || !/^[a-z][A-Za-z0-9]+$/.test(op.operationId)) problems.push(`${at}: operationId ${String(op.operationId)}`);
      else if (seen.has(op.operationId)) problems.push(`${at}: operationId ${op.operationId} also names ${seen.get(op.operationId)}`);
      else seen.set(op.operationId, at);
      const successes = Object.keys(op.responses ?? {}).filter((code) => /^2\d\d$/.test(code));
      if (successes.length === 0) problems.push(`${at}: no 2xx response`);
      for (const code of successes.filter((c) => c !== '204')) {
        const content = op.responses![code]!.content ?? {};
        if (!Object.values(content).some((c) => c.schema !== undefined)) problems.push(`${at}: ${code} has no schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lints clean with Redocly (recommended rules, services/gateway/redocly.yaml)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const redocly = path.join(repoRoot, 'node_modules', '.bin', 'redocly');
    const config = path.join(repoRoot, 'services', 'gateway', 'redocly.yaml');
    // Exit 1 when it finds errors: the report is read either way.
    const out = await run(redocly, ['lint', file, '--config', config, '--format', 'json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).then(
      (r) => r.stdout,
      (err: { stdout?: string; stderr?: string }) => err.stdout || `${err.stderr}`,
    );
    const report = JSON.parse(out.slice(out.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string; severity: string; location?: Array<{ pointer?: string }> }> };
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? '?'}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toEqual(expect.objectContaining({ errors: 0, warnings: 0 }));
  });

  it('is what the committed web client was generated from (run `npm run gen:api` after changing a route)', async () => {
    // openapi-typescript's dependencies are ES modules jest cannot load: the script checks, in its own process.
    const outcome = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/gen-api.ts'), '--check'], { cwd: repoRoot }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(outcome).toEqual({ code: 0, stderr: '' });
  });
});

/**
 * fastify serialises each answer with its declared schema, which drops whatever the schema does
 * not declare: every field a presenter makes must come through, nulls and optional ones included.
 */
describe('answers serialised by their declared schemas', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  beforeAll(async () => {
    g = await standInGateway();
  });
  afterAll(() => g.close());
  beforeEach(() => g.reset());

  const patientId = randomUUID();
  const professionalId = randomUUID();
  const profile = {
    id: professionalId,
    displayName: 'Dr. Anna Muster',
    specialties: ['cardiology', 'general-practice'],
    languages: ['de', 'fr'],
    country: 'CH',
    city: 'Bern',
    latitude: 46.948,
    longitude: 7.4474,
    price: { amount: '120.00', currency: 'CHF' },
    consultationMinutes: 30,
    timeZone: 'Europe/Zurich',
    bio: 'Cardiologist',
    verified: true,
    nextAvailableAt: '2026-12-07T08:00:00.000Z',
    distanceKm: 3.14159,
  };
  const booked = {
    id: randomUUID(),
    patientId,
    professionalId,
    startAt: '2026-12-07T08:00:00.000Z',
    endAt: '2026-12-07T08:30:00.000Z',
    // Every field set, the no-show's included (it must come through too).
    status: appointment.AppointmentStatus.APPOINTMENT_STATUS_NO_SHOW,
    noShowBy: 'patient',
    holdExpiresAt: '2026-12-01T08:15:00.000Z',
    price: { amount: '120.00', currency: 'CHF' },
    meeting: { joinUrl: 'https://zoom.example/j/1', provider: 'zoom', password: 'pw' },
    createdAt: '2026-12-01T08:00:00.000Z',
    updatedAt: '2026-12-01T08:01:00.000Z',
    cancelReason: '',
  };
  const invoice = {
    id: randomUUID(),
    appointmentId: booked.id,
    status: payment.InvoiceStatus.INVOICE_STATUS_PAID,
    amount: { amount: '120.00', currency: 'CHF' },
    sats: 150_000,
    lightningInvoice: 'lnbc1500u1example',
    onchainAddress: 'bc1qexample',
    paymentUri: 'bitcoin:bc1qexample?amount=0.0015',
    checkoutUrl: 'https://pay.example/i/1',
    expiresAt: '2026-12-01T08:15:00.000Z',
    provider: 'btcpay',
    paidAt: '2026-12-01T08:05:00.000Z',
    kind: 'booking',
    paidSats: 150_000,
  };
  const refund = {
    id: randomUUID(),
    invoiceId: invoice.id,
    appointmentId: booked.id,
    sats: 150_000,
    reason: 'cancelled_by_professional',
    status: 'due',
    createdAt: '2026-12-02T08:00:00.000Z',
    destinationKind: 'lightning_address',
    destination: 'anna@wallet.example',
    destinationSetAt: '2026-12-02T09:00:00.000Z',
    paidAt: '',
    txReference: '',
    claimLink: 'https://btcpay.example/pull-payments/1',
  };
  const json = (value: unknown) => JSON.parse(JSON.stringify(value));
  const as = async (id: string, role: string) => ({ authorization: `Bearer ${await g.sign(id, role)}` });

  it('profiles (search page and one profile) keep every field, the distance included', async () => {
    g.behaviour['search.searchProfessionals'] = async () => ({ items: [profile], nextCursor: 'next' });
    g.behaviour['search.getProfile'] = async () => ({ profile });
    const page = await g.app.inject({ method: 'GET', url: '/v1/professionals?lat=46.9&lng=7.4' });
    expect(page.json()).toEqual({ items: [json(presentProfile(profile))], nextCursor: 'next' });
    expect(page.json().items[0].distanceKm).toBe(3.1);
    const one = await g.app.inject({ method: 'GET', url: `/v1/professionals/${professionalId}` });
    expect(one.json()).toEqual(json(presentProfile(profile)));
  });

  it('a booking keeps its appointment, invoice (QR code included) and refund', async () => {
    g.behaviour['appointment.getAppointment'] = async () => ({ appointment: booked });
    g.behaviour['payment.getInvoice'] = async () => ({ invoice, refund });
    const res = await g.app.inject({ method: 'GET', url: `/v1/appointments/${booked.id}`, headers: await as(patientId, 'patient') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ appointment: json(presentAppointment(booked)), invoice: json(await presentInvoice(invoice)), topUp: null, refund: json(presentRefund(refund)) });
    expect(res.json().invoice.qrSvg).toMatch(/^<svg/);
    expect(res.json().appointment).toMatchObject({ status: 'no_show', noShowBy: 'patient' });
  });

  it('a booking whose invoice ended under-paid shows its top-up: what was paid of the price, the rest, and the rest\'s invoice with its QR code', async () => {
    const held = { ...booked, status: appointment.AppointmentStatus.APPOINTMENT_STATUS_HELD, noShowBy: '', meeting: undefined };
    const short = { ...invoice, status: payment.InvoiceStatus.INVOICE_STATUS_EXPIRED, paidAt: '', sats: 120_000, paidSats: 80_000 };
    const topUp = { ...invoice, id: randomUUID(), kind: 'top_up', status: payment.InvoiceStatus.INVOICE_STATUS_OPEN, amount: { amount: '40.00', currency: 'CHF' }, sats: 40_400, paidAt: '', paidSats: 0, paymentUri: 'bitcoin:bc1qrest?amount=0.000404' };
    g.behaviour['appointment.getAppointment'] = async () => ({ appointment: held });
    g.behaviour['payment.getInvoice'] = async () => ({ invoice: short, topUp });
    const res = await g.app.inject({ method: 'GET', url: `/v1/appointments/${booked.id}`, headers: await as(patientId, 'patient') });
    expect(res.statusCode).toBe(200);
    expect(res.json().topUp).toEqual({
      invoice: json(await presentInvoice(topUp)),
      price: { amount: '120.00', currency: 'CHF' },
      paid: { amount: '80.00', currency: 'CHF' },
      rest: { amount: '40.00', currency: 'CHF' },
    });
    expect(res.json().topUp.invoice).toMatchObject({ status: 'open', sats: 40_400, qrSvg: expect.stringMatching(/^<svg/) });
  });

  it('a new booking keeps its invoice and says whether one is pending', async () => {
    const held = { ...booked, status: appointment.AppointmentStatus.APPOINTMENT_STATUS_HELD, noShowBy: '', meeting: undefined };
    g.behaviour['appointment.book'] = async () => ({ appointment: held });
    g.behaviour['payment.createInvoice'] = async () => ({ invoice: { ...invoice, status: payment.InvoiceStatus.INVOICE_STATUS_OPEN, paidAt: '' } });
    const res = await g.app.inject({ method: 'POST', url: '/v1/appointments', headers: await as(patientId, 'patient'), payload: { professionalId, start: held.startAt } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      appointment: json(presentAppointment(held)),
      invoice: json(await presentInvoice({ ...invoice, status: payment.InvoiceStatus.INVOICE_STATUS_OPEN, paidAt: '' })),
      invoicePending: false,
    });
  });

  it('the export keeps every record it gathers', async () => {
    const user = { id: patientId, email: 'p@example.ch', role: identity.Role.ROLE_PATIENT, displayName: 'Pat', region: common.Region.REGION_CH, createdAt: '2026-11-01T00:00:00.000Z', emailVerified: true };
    const session = { id: randomUUID(), sessionId: randomUUID(), createdAt: '2026-11-01T00:00:00.000Z', expiresAt: '2026-12-01T00:00:00.000Z', replacedAt: '', revokedAt: '2026-11-02T00:00:00.000Z' };
    const consent = { id: randomUUID(), kind: 'terms', version: '1', lang: 'en', sha256: 'ab'.repeat(32), action: 'granted', at: '2026-11-01T00:00:00.000Z' };
    g.behaviour['identity.getUser'] = async () => ({ user });
    g.behaviour['identity.listSessions'] = async () => ({ sessions: [session] });
    g.behaviour['identity.exportPersonalData'] = async () => ({ consents: [consent], audit: [] });
    g.behaviour['appointment.exportAppointments'] = async () => ({ items: [{ appointment: booked, cancelledBy: '', idempotencyKey: 'k-1' }], nextCursor: '' });
    const topUp = { ...invoice, id: randomUUID(), sats: 40_000 };
    g.behaviour['payment.getInvoice'] = async () => ({ invoice, refund, topUp });
    const res = await g.app.inject({ method: 'GET', url: '/v1/me/export', headers: await as(patientId, 'patient') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      exportedAt: expect.any(String),
      user: json(presentUser(user)),
      sessions: [{ ...session, replacedAt: null }],
      consents: [consent],
      audit: [],
      profile: null,
      schedule: null,
      appointments: [{ ...json(presentAppointment(booked)), cancelledBy: null, idempotencyKey: 'k-1' }],
      invoices: [
        { appointmentId: booked.id, kind: 'booking', ...json(await presentInvoice(invoice, { qrCode: false })), paidAt: invoice.paidAt, refund: json(presentRefund(refund)) },
        { appointmentId: booked.id, kind: 'top_up', ...json(await presentInvoice(topUp, { qrCode: false })), paidAt: topUp.paidAt, refund: null },
      ],
    });
  });

  it('a schedule keeps its rules and absences', async () => {
    const schedule = {
      professionalId,
      timeZone: 'Europe/Zurich',
      rules: [{ weekday: 1, start: '09:00', end: '12:00' }],
      slotMinutes: 30,
      bufferMinutes: 5,
      minimumNoticeMinutes: 60,
      horizonDays: 60,
      timeOff: [{ id: randomUUID(), startAt: '2026-12-24T00:00:00.000Z', endAt: '2026-12-27T00:00:00.000Z', reason: 'holidays' }],
    };
    g.behaviour['search.getProfile'] = async () => ({ profile: { ...profile, verified: false } });
    g.behaviour['appointment.setSchedule'] = async () => ({ schedule });
    const res = await g.app.inject({
      method: 'PUT',
      url: '/v1/professionals/me/schedule',
      headers: await as(professionalId, 'professional'),
      payload: { rules: schedule.rules, slotMinutes: 30, bufferMinutes: 5 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(schedule);
  });
});
