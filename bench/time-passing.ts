// What time passing costs the platform with no one using it, on the 50 000-professional directory:
// as slots stop being bookable, the earliest free slot that search shows must move on (docs/search.md,
// "The earliest free slot"). Schedules share a grid (slots on the hour and the half hour), so the
// moments to watch are the boundaries of a working hour in Europe (say 08:00-17:00 UTC on a
// weekday); a run should span one. The stack as `make bench-load` starts it (every service its own
// process, PostgreSQL, Redis, Kafka; the runtime of bench/load/service-runtime.ts) and no users.
// Every 30 s: the CPU of each process, how many professionals appointment republished (profiles
// whose availability event is newer than the window's start: this count works at any commit), how
// many search moved on itself (availability_moved_on_total), and appointment's backlog (schedules
// whose published slots need republishing).
// Run: `make bench-time-passing` (BENCH_MINUTES, default 15).
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { infraUrls, seedDemoDirectory, startPlatform } from '@cryptocare/testing';
import { seedDirectory } from '../scripts/seed';
import { measureCpu, pidsOf } from './load/process-cpu';
import { platformEnv, serviceRuntime } from './load/service-runtime';
import { coldRedisDatabase } from './load/cold-cache';

const minutes = Number(process.env.BENCH_MINUTES ?? 15);
const WINDOW_MS = 30_000;
const shown = ['search', 'appointment', 'postgresql', 'kafka', 'redis', 'gateway', 'machine (all)'] as const;

async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function main() {
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const runtime = await serviceRuntime();
  const platform = await startPlatform({ bundles: runtime.bundles, redisDatabase: await coldRedisDatabase(), logLevel: 'error', extraEnv: platformEnv(runtime) });
  const db = new pg.Client({ connectionString: infraUrls().databaseUrl });
  await db.connect();
  const lines: string[] = [];
  try {
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    const seeded = await seedDirectory({ databaseUrl: infraUrls().databaseUrl, professionals: 50_000, schemas: { search: platform.schemas.search, appointment: platform.schemas.appointment } });
    const { search, appointment } = platform.schemas;
    const backlog = async () => Number((await db.query(`SELECT count(*) FROM "${appointment}".schedules WHERE availability_stale_at < now()`)).rows[0].count);
    const republishedSince = async (since: Date) =>
      Number((await db.query(`SELECT count(*) FROM "${search}".professionals WHERE availability_as_of >= $1`, [since])).rows[0].count);
    const moved = () => counter(platform.metricsUrl('search'), 'availability_moved_on_total');

    lines.push(
      `# Time passing on the 50 000 directory, ${new Date().toISOString().slice(0, 10)} (commit ${commit})`,
      '',
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; services' runtime: ${runtime.summary}.`,
      `Seeded ${seeded.professionals} professionals and ${seeded.bookings} bookings in ${seeded.seconds.toFixed(0)} s; no users. Command: \`make bench-time-passing\` (BENCH_MINUTES=${minutes}).`,
      '',
      `| window ends (UTC) | republished by appointment | moved on by search | appointment's backlog | ${shown.join(' | ')} (cores) |`,
      `|---|---|---|---|${shown.map(() => '---').join('|')}|`,
    );
    const totals = { republished: 0, moved: 0, windows: 0 };
    const cpuSum: Record<string, number> = {};
    for (let left = minutes * 60_000; left > 0; left -= WINDOW_MS) {
      const start = new Date();
      const movedBefore = await moved();
      const cpu = measureCpu(pidsOf(platform));
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
      const used = cpu() as Record<string, number>;
      const row = { republished: await republishedSince(start), moved: (await moved()) - movedBefore, backlog: await backlog() };
      totals.republished += row.republished;
      totals.moved += row.moved;
      totals.windows += 1;
      for (const k of shown) cpuSum[k] = (cpuSum[k] ?? 0) + (used[k] ?? 0);
      const line = `| ${new Date().toISOString().slice(11, 19)} | ${row.republished} | ${row.moved} | ${row.backlog} | ${shown.map((k) => (used[k] ?? 0).toFixed(2)).join(' | ')} |`;
      lines.push(line);
      process.stdout.write(`${line}\n`);
    }
    lines.push(
      '',
      `Over ${totals.windows * 0.5} minutes: ${totals.republished} republished by appointment, ${totals.moved} moved on by search; ` +
        `mean CPU ${shown.map((k) => `${k} ${(cpuSum[k]! / totals.windows).toFixed(2)}`).join(', ')} cores.`,
    );
    const file = path.join(__dirname, 'results', `time-passing-${new Date().toISOString().slice(0, 10)}.md`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    process.stdout.write(`${lines.at(-1)}\nWritten to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await db.end();
    await platform.stop();
    runtime.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
