// What a hot read (and the outbox relay's pass) costs the service's own CPU through Prisma and through pg, at the plan's scale:
// 50 000 profiles of the seeded directory in a test schema, the same statements both ways, one
// query at a time (the database's own time is the same; what differs is the Node process's work:
// Prisma's query compiler (wasm) and result mapping against pg's). Why it matters: at 2 000 users
// the services' CPU is the limit (bench/results/load-*), and these reads are most of their calls.
// Run: `make bench-db-reads` (BENCH_QUERIES per shape and round, default 1 500).
import { execSync } from 'node:child_process';
import os from 'node:os';
import { createLogger } from '@cryptocare/platform';
import { InProcessBus, OutboxRelay, poolDatabase } from '@cryptocare/events';
import type { SearchCriteria } from '../services/search/src/domain/search-criteria';
import { resolveText, searchStatement } from '../services/search/src/store/directory-store';
import { PROFESSIONALS, onSeededDirectory } from './seeded-directory';

const queries = Number(process.env.BENCH_QUERIES ?? 1_500);

/** Node CPU and wall time per call of `run` over `queries` calls. */
async function measure(run: (i: number) => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  for (let i = 0; i < 100; i++) await run(i); // warm: compiled code, pooled connections
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < queries; i++) await run(i);
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / queries, wallMs: (performance.now() - start) / queries };
}

async function main() {
  await onSeededDirectory('db-reads', async ({ schema, pool, prisma, store, now }) => {
    const relayOn = (db: ConstructorParameters<typeof OutboxRelay>[0]['db']) => new OutboxRelay({ db, schema, bus: new InProcessBus(), logger: createLogger('bench', 'silent'), service: 'search' });
    const relays = { Prisma: relayOn(prisma), pg: relayOn(poolDatabase(pool)) };
    const ids = (await pool.query<{ id: string }>(`SELECT id::text AS id FROM "${schema}".professionals ORDER BY id LIMIT 1000`)).rows.map((r) => r.id);
    const searches: SearchCriteria[] = [
      { limit: 20, specialty: 'dermatology', country: 'DE' },
      { limit: 20, language: 'it' },
      { limit: 20, place: { latitude: 47.3769, longitude: 8.5417, radiusKm: 25 } },
      { limit: 20, query: 'Kardiologie Zürich' },
    ];
    // The words' meaning read once, as the store keeps it per replica: both sides then run one statement a search.
    const statements = await Promise.all(searches.map(async (c) => searchStatement(schema, c, c.query ? await resolveText(pool, schema, c.query) : undefined)));
    const shapes: Array<[string, Record<'Prisma' | 'pg', (i: number) => Promise<unknown>>]> = [
      [
        'profile by id',
        {
          Prisma: (i) => prisma.professional.findUnique({ where: { id: ids[i % ids.length]! } }),
          pg: (i) => store.find(ids[i % ids.length]!),
        },
      ],
      [
        'search page (4 filter shapes in turn)',
        {
          Prisma: (i) => {
            const { sql, params } = statements[i % statements.length]!;
            return prisma.$queryRawUnsafe(sql, ...params);
          },
          pg: (i) => store.search(searches[i % searches.length]!),
        },
      ],
      [
        // Each service's relay runs a pass at least four times a second, and after every commit.
        'outbox relay pass, nothing to publish',
        {
          Prisma: () => relays.Prisma.publishBatch(),
          pg: () => relays.pg.publishBatch(),
        },
      ],
    ];
    const lines = [
      `# Hot reads through Prisma and through pg, ${now.toISOString().slice(0, 10)} (commit ${execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim()})`,
      '',
      `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL on the same machine.`,
      `Command: \`make bench-db-reads\`: ${PROFESSIONALS} profiles, ${queries} queries per shape and round, one at a time, two rounds each way (alternating).`,
      '',
      '| read | way | round | service CPU per query | wall time per query |',
      '|---|---|---|---|---|',
    ];
    for (const [name, ways] of shapes) {
      for (const round of [1, 2]) {
        for (const way of ['Prisma', 'pg'] as const) {
          const { cpuMs, wallMs } = await measure(ways[way]);
          lines.push(`| ${name} | ${way} | ${round} | ${cpuMs.toFixed(3)} ms | ${wallMs.toFixed(3)} ms |`);
          process.stderr.write(`${lines.at(-1)}\n`);
        }
      }
    }
    return lines;
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
