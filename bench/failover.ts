// Failover, measured (issue #10: "with the primary provider's simulator stopped, 50 bookings in a row
// all get invoices (from the secondary) within the plan's 2 s"). The real platform: every service its
// own process against the local PostgreSQL, Redis and Kafka; Swiss Bitcoin Pay's and BTCPay's
// simulators over HTTP. Ten bookings with both providers up, then Swiss Bitcoin Pay's simulator is
// stopped (its port refuses connections) and one patient books 50 slots in a row through the gateway.
// Each booking is timed from its request until the patient has its invoice: the 201 itself, or, when
// the answer says the invoice is pending, the booking read again until it carries one.
// Run: `make bench-failover`; writes bench/results/failover-<date>.md and .json.
import os from 'node:os';
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiClient, currentConsents, seedDemoDirectory, startPlatform } from '@cryptocare/testing';
import { RouteStats } from './load/route-stats';
import { coldRedisDatabase } from './load/cold-cache';

const BOOKINGS = Number(process.env.BENCH_FAILOVER_BOOKINGS ?? 50);
const BEFORE = 10;
const PLAN_MS = 2_000;
const admin = { email: 'admin@cryptocare.test', password: 'admin-password-1' };

interface Timed {
  ms: number;
  provider: string;
  pending: boolean;
}

function summary(rows: Timed[]) {
  const latency = new RouteStats();
  for (const r of rows) latency.record(r.ms, 201);
  const { p50, p95, max } = latency.summary();
  const providers: Record<string, number> = {};
  for (const r of rows) providers[r.provider] = (providers[r.provider] ?? 0) + 1;
  return { bookings: rows.length, providers, pending: rows.filter((r) => r.pending).length, p50, p95, max, withinPlan: rows.filter((r) => r.ms <= PLAN_MS).length };
}

async function main() {
  const platform = await startPlatform({ redisDatabase: await coldRedisDatabase(), btcpay: true, logLevel: 'error', extraEnv: { gateway: { RATE_LIMIT_PER_MINUTE: '100000' } } });
  try {
    await seedDemoDirectory(platform.gatewayUrl, admin);
    const api = new ApiClient(platform.gatewayUrl);
    const session = await api.expect(201, 'POST', '/v1/auth/register', { email: `failover-${Date.now()}@example.ch`, password: 'patient-password-1', role: 'patient', displayName: 'Fail Over', consents: currentConsents() });
    const patient = api.as(session.accessToken);

    // Free slots across the directory, enough for every booking.
    const slots: Array<{ professionalId: string; start: string }> = [];
    const found = await patient.expect(200, 'GET', '/v1/professionals?limit=50');
    for (const p of found.items as Array<{ id: string }>) {
      const free = await patient.expect(200, 'GET', `/v1/professionals/${p.id}/slots`);
      for (const s of free.items as Array<{ start: string }>) slots.push({ professionalId: p.id, start: s.start });
      if (slots.length >= BEFORE + BOOKINGS) break;
    }
    if (slots.length < BEFORE + BOOKINGS) throw new Error(`only ${slots.length} free slots for ${BEFORE + BOOKINGS} bookings`);

    async function book(slot: { professionalId: string; start: string }): Promise<Timed> {
      const t0 = performance.now();
      const booked = await patient.expect(201, 'POST', '/v1/appointments', slot, { 'idempotency-key': randomUUID() });
      if (booked.invoice) return { ms: performance.now() - t0, provider: booked.invoice.provider, pending: false };
      for (;;) {
        const again = await patient.expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`);
        if (again.invoice) return { ms: performance.now() - t0, provider: again.invoice.provider, pending: true };
        if (performance.now() - t0 > 30_000) throw new Error(`no invoice after 30 s for ${booked.appointment.id}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    const before: Timed[] = [];
    for (const slot of slots.slice(0, BEFORE)) before.push(await book(slot));
    await platform.sbp.close(); // the primary is down: its port refuses connections
    const during: Timed[] = [];
    for (const slot of slots.slice(BEFORE, BEFORE + BOOKINGS)) during.push(await book(slot));

    const result = {
      date: new Date().toISOString(),
      commit: execSync('git rev-parse --short HEAD').toString().trim(),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      command: `make bench-failover (BENCH_FAILOVER_BOOKINGS=${BOOKINGS})`,
      before: summary(before),
      during: summary(during),
      samplesMs: during.map((r) => Math.round(r.ms * 10) / 10),
    };
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `| ${name} | ${s.bookings} | ${Object.entries(s.providers).map(([k, v]) => `${k} ${v}`).join(', ')} | ${s.pending} | ${s.p50} ms | ${s.p95} ms | ${s.max} ms | ${s.withinPlan}/${s.bookings} |`;
    const md = [
      `# Failover benchmark ${result.date.slice(0, 10)} (commit ${result.commit})`,
      '',
      `Machine: ${result.machine}; every service, PostgreSQL, Redis, Kafka, both simulators and this client on it.`,
      `Command: \`${result.command}\`. One patient books slots in a row through the gateway; each booking is timed until the patient has its invoice (the plan: 2 s).`,
      '',
      '| phase | bookings | invoices from | pending at first | p50 | p95 | max | within 2 s |',
      '|---|---|---|---|---|---|---|---|',
      row('both providers up', result.before),
      row('Swiss Bitcoin Pay stopped', result.during),
      '',
      `Each booking while stopped (ms, in order): ${result.samplesMs.join(' ')}`,
      '',
    ].join('\n');
    const out = path.join(__dirname, 'results', `failover-${result.date.slice(0, 10)}`);
    writeFileSync(`${out}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${out}.md`, md);
    process.stdout.write(`${md}\nwritten to ${path.relative(process.cwd(), out)}.{json,md}\n`);
  } finally {
    await platform.stop().catch(() => undefined); // the stopped simulator cannot be closed twice
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
