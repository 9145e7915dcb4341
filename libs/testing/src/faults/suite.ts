// The fault-injection suite: a stream of bookings with payments through the whole platform (every
// service its own process, on a PostgreSQL/Redis/Kafka set of its own) while faults are injected one
// after the other, then the invariant checker on what everything holds once the run has settled.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiClient } from '../api-client';
import { currentConsents } from '../consents';
import { seedDemoDirectory } from '../demo-directory';
import { backendServices, startPlatform, type RunningPlatform, type ServiceName } from '../platform';
import { checkInvariants, figureRows, formatTable, readDatabases, readDeadLetters, type CheckResult, type SystemState } from './invariants';
import { ownInfra, type OwnInfraPorts } from './own-infra';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

export interface FaultSuiteOptions {
  /** Bookings to make at least (answered 201); the run also lasts until every fault has been injected. */
  bookings: number;
  /** Concurrent virtual patients. */
  patients: number;
  /** SIGKILLs of each of the six services. */
  killsPerService: number;
  /** How long Kafka stays stopped in the long stop (the short one is a few seconds). */
  kafkaStopMs: number;
  /** How long a provider stays slow, answers 5xx, or a proxy adds latency. */
  faultWindowMs: number;
  /** The suite's own infrastructure directory (torn down at the end). */
  infraDir: string;
  ports?: OwnInfraPorts;
  /** Where the run's record goes (report, run.json); default infraDir/run. */
  outDir?: string;
  /** Time allowed for the run to settle after the last fault. */
  settleTimeoutMs?: number;
  /** Leaves the infrastructure running at the end (to inspect it, or `scripts/faults.ts check`). */
  keepInfra?: boolean;
  log?: (line: string) => void;
  /** Aborts the run (Ctrl-C): the clean-up still runs. */
  signal?: AbortSignal;
}

export interface InjectedFault {
  kind: string;
  startedAt: number;
  /** From the fault's end (the restart, the broker back) to a fresh booking confirmed with its meeting. */
  recoveryMs: number | undefined;
  /** For a fault never recovered from: where the probe's booking stood when the probe gave up. */
  stuckAt?: string;
}

export interface FaultSuiteReport {
  check: CheckResult;
  faults: InjectedFault[];
  clients: ClientFigures;
  durationMs: number;
  settleMs: number;
  text: string;
}

interface ClientFigures {
  booked: number;
  slotTaken: number;
  rejected: Record<string, number>;
  retries: number;
  paid: number;
  abandoned: number;
  cancelledBeforePaying: number;
  cancelledAfterPaying: number;
  giveUps: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ADMIN = { email: 'admin@cryptocare.test', password: 'admin-password-1' };

export async function runFaultSuite(opts: FaultSuiteOptions): Promise<FaultSuiteReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const t0 = Date.now();
  const infra = ownInfra(opts.infraDir, opts.ports);
  const outDir = opts.outDir ?? path.join(opts.infraDir, 'run');
  mkdirSync(outDir, { recursive: true });
  let platform: RunningPlatform | undefined;
  const proxies: TcpProxy[] = [];
  const aborted = new Promise<never>((_, reject) => {
    if (opts.signal?.aborted) reject(new Error('fault suite aborted'));
    opts.signal?.addEventListener('abort', () => reject(new Error('fault suite aborted')), { once: true });
  });
  aborted.catch(() => undefined);
  const abortable = <T>(work: Promise<T>) => Promise.race([work, aborted]);
  try {
    log(`faults: own infrastructure in ${opts.infraDir} (PostgreSQL ${infra.ports.pg}, Redis ${infra.ports.redis}, Kafka ${infra.ports.kafka})`);
    await abortable(infra.up());
    const pgProxy = await startTcpProxy({ host: '127.0.0.1', port: infra.ports.pg });
    const redisProxy = await startTcpProxy({ host: '127.0.0.1', port: infra.ports.redis });
    proxies.push(pgProxy, redisProxy);
    platform = await abortable(startPlatform({
      infra,
      serviceUrls: {
        databaseUrl: infra.databaseUrl.replace(`:${infra.ports.pg}/`, `:${pgProxy.address.port}/`),
        redisUrl: `redis://127.0.0.1:${redisProxy.address.port}`,
      },
      // A real provider retries for hours; the simulator's default gives up after 5 s.
      sbpWebhookRetryDelaysMs: [250, 1000, 2000, 4000, 8000, 15000, 30000],
      extraEnv: {
        // Short holds (2 min: payment wants an invoice to live 1 min at least) so abandoned
        // bookings expire within the run; a fast sweep.
        appointment: { INVOICE_TTL_MINUTES: '2', ONCHAIN_MARGIN_MINUTES: '0', HOLD_SWEEP_EVERY_MS: '1000' },
        payment: { RECONCILE_EVERY_MS: '2000', RECONCILE_MIN_AGE_MS: '3000' },
      },
    }));
    const p = platform;
    log(`faults: platform up (${backendServices.length + 1} processes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const api = new ApiClient(p.gatewayUrl);
    const professionals = await seedDemoDirectory(p.gatewayUrl, ADMIN);
    const slots = await collectSlots(api, professionals);
    log(`faults: ${professionals.length} professionals, ${slots.length} free slots`);

    const ledger: string[] = [];
    const clients: ClientFigures = { booked: 0, slotTaken: 0, rejected: {}, retries: 0, paid: 0, abandoned: 0, cancelledBeforePaying: 0, cancelledAfterPaying: 0, giveUps: 0 };
    const client = new Client(p.gatewayUrl, clients);
    let injecting = true;
    const loadStart = Date.now();

    const nextSlot = () => slots.shift();
    // One booking of a patient: book (retried with its Idempotency-Key), then pay, abandon or cancel.
    const oneBooking = async (patient: Patient, choice: number, waitConfirmed = false, stage: (at: string) => void = () => undefined): Promise<boolean> => {
      const slot = nextSlot();
      if (!slot) return false;
      stage('booking');
      const booked = await client.book(patient, slot);
      if (!booked) return true;
      stage(`booked ${booked.id}, waiting for its invoice`);
      ledger.push(booked.id);
      const early = Date.now() - loadStart < 30_000;
      if (early && choice < 0.08) {
        clients.abandoned++; // never paid: the hold must expire
        return true;
      }
      if (choice > 0.95) {
        if (await client.cancel(patient, booked.id)) clients.cancelledBeforePaying++;
        return true;
      }
      const checkoutUrl = booked.checkoutUrl ?? (await client.invoiceOf(patient, booked.id));
      if (!checkoutUrl) return true;
      stage(`booked ${booked.id}, paying`);
      if (await client.pay(checkoutUrl)) clients.paid++;
      else stage(`booked ${booked.id}, the payment was refused`);
      if (choice > 0.88) {
        if (await client.cancel(patient, booked.id)) clients.cancelledAfterPaying++;
        return true;
      }
      if (!waitConfirmed) return true;
      if (await client.confirmed(patient, booked.id, 180_000)) return true;
      stage(`booked ${booked.id}, paid, then ${await client.describe(patient, booked.id)}`);
      return false;
    };

    const patients = await Promise.all(Array.from({ length: opts.patients }, () => client.newPatient(api)));
    const load = Promise.all(
      patients.map(async (patient) => {
        while ((ledger.length < opts.bookings || injecting) && slots.length > 0) {
          await oneBooking(patient, Math.random());
          // Once the target is reached, a trickle keeps sagas in flight for the faults still to come.
          await sleep(ledger.length < opts.bookings ? Math.random() * 200 : 3_000 + Math.random() * 3_000);
        }
      }),
    );

    // A probe: a fresh booking, paid, confirmed with its meeting; the time it takes after a fault is the recovery time.
    const probePatient = await client.newPatient(api);
    const probe = async (): Promise<{ recoveryMs: number | undefined; stuckAt?: string }> => {
      const started = Date.now();
      let at = 'no free slot left';
      if (await oneBooking(probePatient, 0.5, true, (stage) => (at = stage))) return { recoveryMs: Date.now() - started };
      return { recoveryMs: undefined, stuckAt: at };
    };

    const faults: InjectedFault[] = [];
    const inject = async (kind: string, apply: () => Promise<void>) => {
      const startedAt = Date.now();
      log(`faults: ${new Date().toISOString()} ${kind} (bookings so far ${ledger.length})`);
      await apply();
      const { recoveryMs, stuckAt } = await probe();
      faults.push({ kind, startedAt, recoveryMs, ...(stuckAt ? { stuckAt } : {}) });
      log(`faults:   recovered in ${recoveryMs === undefined ? `NEVER (${stuckAt})` : `${(recoveryMs / 1000).toFixed(1)} s`}`);
      await sleep(500 + Math.random() * 1_000);
    };
    const window = opts.faultWindowMs;
    const schedule: Array<[string, () => Promise<void>]> = [
      // A short stop besides the long one; a run whose Kafka stop is short already (the CI run) skips
      // it: each Kafka fault costs about 35 s of recovery on two cores.
      ...(opts.kafkaStopMs > 10_000 ? [['kafka-stopped-short', async () => { await infra.stop('kafka'); await sleep(4_000); await infra.start('kafka'); }] as [string, () => Promise<void>]] : []),
      ['kafka-stopped-full', async () => { await infra.stop('kafka'); await sleep(opts.kafkaStopMs); await infra.start('kafka'); }],
      ['postgres-restarted', async () => { await infra.stop('postgres'); await infra.start('postgres'); }],
      ['redis-killed', async () => { await infra.kill('redis'); await sleep(2_000); await infra.start('redis'); }],
      ['webhooks-delayed-duplicated', async () => { p.sbp.setWebhookFaults({ delayMs: 3_000, duplicates: 2 }); await sleep(window); p.sbp.setWebhookFaults({}); }],
      ['providers-slow', async () => { p.sbp.setLatencyMs(2_000); p.zoom.setLatencyMs(2_000); await sleep(window); p.sbp.setLatencyMs(0); p.zoom.setLatencyMs(0); }],
      ['providers-5xx', async () => { p.sbp.failFor(window); p.zoom.failFor(window, 500); await sleep(window); }],
      ['postgres-latency-proxy', async () => { pgProxy.setLatencyMs(30); await sleep(window); pgProxy.setLatencyMs(0); }],
      ['postgres-cut-proxy', async () => { pgProxy.cut(); await sleep(3_000); pgProxy.restore(); }],
      ['redis-cut-proxy', async () => { redisProxy.cut(); await sleep(3_000); redisProxy.restore(); }],
    ];
    const services: ServiceName[] = ['gateway', ...backendServices];
    for (let i = 0; i < opts.killsPerService; i++) {
      for (const s of services) {
        schedule.push([`sigkill-${s}`, async () => { await sleep(Math.random() * 1_500); await p.kill(s); await sleep(500 + Math.random() * 2_000); await p.restart(s); }]);
      }
    }
    shuffle(schedule);
    const injector = (async () => {
      await sleep(5_000); // some bookings in flight first
      try {
        for (const [kind, apply] of schedule) await inject(kind, apply);
      } finally {
        injecting = false;
      }
    })();
    await abortable(Promise.all([injector, load]));
    log(`faults: load done: ${ledger.length} bookings in ${((Date.now() - loadStart) / 1000).toFixed(0)} s; settling`);

    // Settled: nothing in flight any more (webhooks delivered, holds ended, outboxes drained).
    const settleStart = Date.now();
    const settleTimeout = opts.settleTimeoutMs ?? 180_000;
    let check: CheckResult;
    for (;;) {
      check = checkInvariants(await abortable(readState(p, infra, ledger)));
      if (check.violations.length === 0 && check.figures.held === 0) break;
      if (Date.now() - settleStart > settleTimeout) break;
      await sleep(2_000);
    }
    const settleMs = Date.now() - settleStart;
    const text = report({ check, faults, clients, durationMs: Date.now() - t0, settleMs, opts });
    log(text);
    writeFileSync(path.join(outDir, 'report.txt'), text + '\n');
    writeFileSync(
      path.join(outDir, 'run.json'),
      JSON.stringify({ schemas: p.schemas, namespace: p.namespace, databaseUrl: infra.databaseUrl, kafkaBrokers: infra.kafkaBrokers, bookedByClients: ledger, providerInvoices: providerInvoices(p), providerMeetings: providerMeetings(p) }),
    );
    for (const s of ['gateway', ...backendServices] as ServiceName[]) writeFileSync(path.join(outDir, `${s}.log`), p.output(s));
    return { check, faults, clients, durationMs: Date.now() - t0, settleMs, text };
  } finally {
    await platform?.stop().catch((err) => log(`faults: platform stop: ${String(err)}`));
    for (const proxy of proxies) await proxy.close();
    if (!opts.keepInfra) await infra.down().catch((err) => log(`faults: infra down: ${String(err)}`));
  }
}

const providerInvoices = (p: RunningPlatform) => p.sbp.listInvoices().map((i) => ({ id: i.id, status: i.status }));
const providerMeetings = (p: RunningPlatform) => p.zoom.meetings.map((m) => ({ id: String(m.id) }));

async function readState(p: RunningPlatform, infra: { databaseUrl: string; kafkaBrokers: string[] }, ledger: string[]): Promise<SystemState> {
  const db = await readDatabases(infra.databaseUrl, p.schemas);
  const deadLetters = await readDeadLetters(infra.kafkaBrokers, p.namespace);
  return { ...db, deadLetters, providerInvoices: providerInvoices(p), providerMeetings: providerMeetings(p), bookedByClients: [...ledger] };
}

/** Every free slot of the professionals over the next eight weeks, shuffled (a slot is booked once). */
async function collectSlots(api: ApiClient, professionals: string[]): Promise<Array<{ professionalId: string; start: string }>> {
  const all: Array<{ professionalId: string; start: string }> = [];
  const day = 86_400_000;
  for (const professionalId of professionals) {
    for (let week = 0; week < 8; week++) {
      const from = new Date(Date.now() + 2 * 3_600_000 + week * 7 * day).toISOString();
      const to = new Date(Date.parse(from) + 7 * day).toISOString();
      const { items } = await api.expect(200, 'GET', `/v1/professionals/${professionalId}/slots?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      for (const s of items as Array<{ start: string }>) all.push({ professionalId, start: s.start });
    }
  }
  return shuffle(all);
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** A virtual patient: logs in again when its access token (15 min) has expired. */
class Patient {
  constructor(
    private readonly api: ApiClient,
    private readonly email: string,
    private session: ApiClient,
  ) {}

  async call(method: string, url: string, body?: unknown, headers?: Record<string, string>) {
    const res = await this.session.call(method, url, body, headers);
    if (res.status !== 401) return res;
    const login = await this.api.call('POST', '/v1/auth/login', { email: this.email, password: PATIENT_PASSWORD });
    if (login.status !== 200) return res;
    this.session = this.api.as(login.body.accessToken);
    return this.session.call(method, url, body, headers);
  }
}

const PATIENT_PASSWORD = 'patient-password-1';

/** A patient's client: retries what a busy or restarting platform answers, as a real app would. */
class Client {
  constructor(
    private readonly baseUrl: string,
    private readonly figures: ClientFigures,
  ) {}

  /** Retries network errors, 5xx and 429 for up to `forMs`; returns the last answer. */
  private async retrying(call: () => Promise<{ status: number; body: any }>, forMs = 90_000): Promise<{ status: number; body: any } | undefined> {
    const until = Date.now() + forMs;
    for (let attempt = 0; ; attempt++) {
      let res: { status: number; body: any } | undefined;
      try {
        res = await call();
        if (res.status < 500 && res.status !== 429) return res;
      } catch {
        // connection refused or reset: the gateway is restarting
      }
      if (Date.now() > until) {
        this.figures.giveUps++;
        return res;
      }
      this.figures.retries++;
      await sleep(Math.min(3_000, 250 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random() / 2));
    }
  }

  async newPatient(api: ApiClient): Promise<Patient> {
    const email = `patient-${Date.now()}-${Math.random().toString(36).slice(2)}@faults.example`;
    const res = await this.retrying(() => api.call('POST', '/v1/auth/register', { email, password: PATIENT_PASSWORD, role: 'patient', displayName: 'Virtual Patient', consents: currentConsents() }));
    if (res?.status === 201) return new Patient(api, email, api.as(res.body.accessToken));
    // A register answered 201 that the client never heard (gateway killed): log in instead.
    const login = await this.retrying(() => api.call('POST', '/v1/auth/login', { email, password: PATIENT_PASSWORD }));
    if (login?.status !== 200) throw new Error(`virtual patient: register ${res?.status}, login ${login?.status}`);
    return new Patient(api, email, api.as(login.body.accessToken));
  }

  async book(patient: Patient, slot: { professionalId: string; start: string }): Promise<{ id: string; checkoutUrl?: string } | undefined> {
    const key = `faults-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const res = await this.retrying(() => patient.call('POST', '/v1/appointments', slot, { 'idempotency-key': key }));
    if (res?.status === 201) {
      this.figures.booked++;
      return { id: res.body.appointment.id, checkoutUrl: res.body.invoice?.checkoutUrl };
    }
    if (res?.status === 409 && res.body?.error?.code === 'SLOT_TAKEN') this.figures.slotTaken++;
    else {
      const code = `${res?.status ?? 'no answer'} ${res?.body?.error?.code ?? ''}`.trim();
      this.figures.rejected[code] = (this.figures.rejected[code] ?? 0) + 1;
    }
    return undefined;
  }

  /** The checkout URL once the invoice exists (created late when the provider was down). */
  async invoiceOf(patient: Patient, id: string): Promise<string | undefined> {
    const until = Date.now() + 50_000;
    while (Date.now() < until) {
      const res = await this.retrying(() => patient.call('GET', `/v1/appointments/${id}`), 30_000);
      if (res?.status === 200 && res.body.invoice?.checkoutUrl) return res.body.invoice.checkoutUrl as string;
      if (res?.status === 200 && res.body.appointment.status !== 'held') return undefined;
      await sleep(1_000);
    }
    return undefined;
  }

  async pay(checkoutUrl: string): Promise<boolean> {
    const res = await this.retrying(async () => {
      const r = await fetch(`${checkoutUrl}/pay`, { method: 'POST' });
      return { status: r.status, body: await r.text() };
    });
    return res?.status === 200;
  }

  async cancel(patient: Patient, id: string): Promise<boolean> {
    const res = await this.retrying(() => patient.call('POST', `/v1/appointments/${id}/cancel`, { reason: 'fault suite' }));
    return res?.status === 200;
  }

  /** What a booking looks like to its patient (for a probe that gave up). */
  async describe(patient: Patient, id: string): Promise<string> {
    const res = await patient.call('GET', `/v1/appointments/${id}`).catch((err: unknown) => ({ status: 0, body: { error: String(err) } }));
    if (res.status !== 200) return `GET answered ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
    const { appointment, invoice } = res.body;
    return `status ${appointment.status}, meeting ${appointment.meeting ? 'ready' : 'none'}, invoice ${invoice?.status ?? 'none'}`;
  }

  async confirmed(patient: Patient, id: string, forMs: number): Promise<boolean> {
    const until = Date.now() + forMs;
    while (Date.now() < until) {
      const res = await patient.call('GET', `/v1/appointments/${id}`).catch(() => undefined);
      if (res?.status === 200 && res.body.appointment.status === 'confirmed' && res.body.appointment.meeting) return true;
      await sleep(250);
    }
    return false;
  }
}

function report(r: { check: CheckResult; faults: InjectedFault[]; clients: ClientFigures; durationMs: number; settleMs: number; opts: FaultSuiteOptions }): string {
  const byKind = new Map<string, InjectedFault[]>();
  for (const f of r.faults) {
    byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
  }
  const secs = (ms: number | undefined) => (ms === undefined ? 'never' : (ms / 1000).toFixed(1));
  const faultRows: Array<[string, string | number]> = [...byKind.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, list]) => {
      const times = list.map((f) => f.recoveryMs).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
      const never = list.length - times.length;
      const median = times[Math.floor(times.length / 2)];
      return [kind, `${list.length} x, recovery s median ${secs(median)} max ${secs(times.at(-1))}${never ? `, ${never} never` : ''}`];
    });
  const c = r.clients;
  const clientRows: Array<[string, string | number]> = [
    ['patients (concurrent)', r.opts.patients],
    ['bookings answered 201', c.booked],
    ['paid by the patient', c.paid],
    ['abandoned unpaid (hold must expire)', c.abandoned],
    ['cancelled before paying', c.cancelledBeforePaying],
    ['cancelled after paying (refund owed)', c.cancelledAfterPaying],
    ['slot taken (409)', c.slotTaken],
    ['other rejections', Object.entries(c.rejected).map(([k, v]) => `${k}: ${v}`).join(', ') || 0],
    ['client retries (5xx, 429, refused)', c.retries],
    ['client gave up after 90 s', c.giveUps],
  ];
  const kinds = new Map<string, number>();
  for (const v of r.check.violations) kinds.set(v.kind, (kinds.get(v.kind) ?? 0) + 1);
  const violationRows: Array<[string, string | number]> = [['violations', r.check.violations.length], ...[...kinds.entries()].map(([k, n]) => [`  ${k}`, n] as [string, number])];
  return [
    formatTable('Clients', clientRows),
    formatTable(`Faults injected (${r.faults.length})`, faultRows),
    formatTable('Invariants (after settling)', [...figureRows(r.check.figures), ...violationRows]),
    formatTable('Run', [
      ['duration (s)', (r.durationMs / 1000).toFixed(0)],
      ['settling after the last fault (s)', (r.settleMs / 1000).toFixed(1)],
    ]),
    ...r.faults.filter((f) => f.recoveryMs === undefined).map((f) => `NEVER RECOVERED ${f.kind} at ${new Date(f.startedAt).toISOString()}: ${f.stuckAt}`),
    ...r.check.violations.slice(0, 50).map((v) => `VIOLATION ${v.kind} ${v.subject}: ${v.detail}`),
    ...r.check.leaks.map((l) => `LEAK ${l.kind} ${l.subject}: ${l.detail}`),
  ].join('\n');
}

/**
 * For a failed run: each service's warnings and errors from `sinceMs` on, counted by message, with
 * the first few in full, out of the logs the run wrote to `outDir`.
 */
export function logDigest(outDir: string, sinceMs: number): string {
  const out: string[] = [];
  for (const s of ['gateway', ...backendServices] as ServiceName[]) {
    const file = path.join(outDir, `${s}.log`);
    if (!existsSync(file)) continue;
    const entries = readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          const e = JSON.parse(line) as { level?: string; time?: string; msg?: string };
          return e.level !== 'info' && e.level !== 'debug' && Date.parse(e.time ?? '') >= sinceMs ? [{ ...e, line }] : [];
        } catch {
          return [];
        }
      });
    const counts = new Map<string, number>();
    for (const e of entries) counts.set(e.msg ?? '', (counts.get(e.msg ?? '') ?? 0) + 1);
    out.push(`== ${s}: ${entries.length} warnings and errors`);
    for (const [msg, n] of [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`  ${n} x ${msg}`);
    for (const e of entries.slice(-5)) out.push(`  last: ${e.line.slice(0, 600)}`);
  }
  return out.join('\n');
}
