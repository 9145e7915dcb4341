// What availability changes do to search between two vacuums, at the plan's scale: each change (a
// booking's event, the sweep as time passes: about 6 a second on the 50 000 directory,
// bench/results/time-passing-*) rewrites a profile's row, so every index gets new entries, the GIN
// ones in their pending list, which each search through the index reads whole, and the index-only
// walks meet pages no longer all-visible. The bench's search mix (bench/load/patient-journey.ts
// searchQuery, checked as the service checks it) is run through the store, one search at a time,
// after 0, 1 500 and 3 000 changes and after a VACUUM, with PostgreSQL's defaults for the GIN
// indexes and then with the migration's limit (services/search/prisma/migrations/20261204030000_*).
// Autovacuum is off for the table during the run, so that each phase is what its title says.
// Run: `make bench-directory-churn` (BENCH_QUERIES searches per phase, default 3 000).
import { execSync } from 'node:child_process';
import os from 'node:os';
import { checkSearch, type SearchCriteria } from '../services/search/src/domain/search-criteria';
import { resolveText, searchStatement } from '../services/search/src/store/directory-store';
import { searchQuery, type DirectorySample } from './load/patient-journey';
import { PROFESSIONALS, onSeededDirectory } from './seeded-directory';

const queries = Number(process.env.BENCH_QUERIES ?? 3_000);
const CHANGES = 1_500;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const figures = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${quantile(sorted, 0.5).toFixed(2)} / ${quantile(sorted, 0.95).toFixed(2)}`;
};

/** Which kind of search a query string is, as the report groups them. */
function shapeOf(params: URLSearchParams): string {
  if (params.has('q')) return 'words with a specialty';
  if (params.has('lat')) return 'a place';
  if (params.has('country')) return 'a country';
  return 'a specialty alone';
}

async function main() {
  await onSeededDirectory('directory-churn', async ({ schema, pool, store, now }) => {
    const professionals = `"${schema}".professionals`;
    await pool.query(`ALTER TABLE ${professionals} SET (autovacuum_enabled = false)`);
    await pool.query(`VACUUM (ANALYZE) ${professionals}`);

    // The directory as the load generator samples it (bench/load/directory-sample.ts), and the
    // searches it makes, checked into criteria as the service does.
    const reference = { specialties: new Set((await store.specialties()).map((s) => s.code)), currencyOf: new Map((await store.countries()).map((c) => [c.code, c.currency])) };
    const directory: DirectorySample = { professionalIds: [], specialties: [...reference.specialties], countries: [...reference.currencyOf.keys()], places: [] };
    for (const specialty of directory.specialties) {
      for (const p of (await store.search({ limit: 50, specialty })).items) directory.places.push({ city: p.city, latitude: p.latitude, longitude: p.longitude });
    }
    const searches: Array<[string, SearchCriteria]> = [];
    for (let i = 0; i < queries; i++) {
      const params = new URLSearchParams(searchQuery(directory));
      const number = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
      const checked = checkSearch(
        {
          query: params.get('q') ?? '',
          specialty: params.get('specialty') ?? '',
          country: params.get('country') ?? '',
          language: params.get('language') ?? '',
          latitude: number('lat'),
          longitude: number('lng'),
          radiusKm: number('radiusKm'),
          availableBefore: params.get('availableBefore') ?? '',
          maxPrice: params.get('maxPrice') ?? undefined,
          limit: 20,
          cursor: '',
        },
        reference,
      );
      if (!checked.ok) throw new Error(`the mix made a search the service refuses: ${checked.problem.code}`);
      searches.push([shapeOf(params), checked.value]);
    }
    const shapes = ['words with a specialty', 'a place', 'a country', 'a specialty alone'];

    const ginIndexes = (
      await pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = '${professionals}'::regclass AND am.amname = 'gin'`,
      )
    ).rows.map((r) => r.name);
    const wordsSearch = searchStatement(schema, { limit: 20, query: 'Zürich', specialty: 'dermatology' }, await resolveText(pool, schema, 'Zürich'));
    /** Pages one search for a specialty in Zürich reads (its index's pending list included). */
    const pagesRead = async () => {
      const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, number> }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${wordsSearch.sql}`, wordsSearch.params);
      const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
      return plan['Shared Hit Blocks']! + plan['Shared Read Blocks']!;
    };
    const ids = (await pool.query<{ id: string }>(`SELECT id::text AS id FROM ${professionals} WHERE verified ORDER BY md5(id::text) LIMIT 6000`)).rows.map((r) => r.id);
    let changed = 0;
    /** `n` availability changes, one statement each as the consumer and the sweep make them; ms per change. */
    const change = async (n: number) => {
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        await pool.query(`UPDATE ${professionals} SET next_available_at = next_available_at + interval '30 minutes', updated_at = now() WHERE id = $1::uuid`, [ids[changed++ % ids.length]]);
      }
      return (performance.now() - started) / n;
    };

    const lines = [
      `# Search while availability changes rewrite profiles, ${now.toISOString().slice(0, 10)} (commit ${execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim()})`,
      '',
      `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL on the same machine.`,
      `Command: \`make bench-directory-churn\`: ${PROFESSIONALS} profiles, the load benchmark's search mix (${queries} searches per phase, one at a time, through DirectoryStore.search), autovacuum off for the table during the run.`,
      'Times are p50 / p95 in ms; "pages read" is what one search for dermatology in Zürich reads (EXPLAIN BUFFERS), its index\'s pending list included.',
      '',
      `| GIN indexes | phase | one change | pages read | all searches | ${shapes.join(' | ')} |`,
      `|---|---|---|---|---|${shapes.map(() => '---|').join('')}`,
    ];
    const phase = async (settings: string, title: string, perChange?: number) => {
      for (const [, criteria] of searches.slice(0, 200)) await store.search(criteria); // warm
      const times = new Map<string, number[]>(shapes.map((s) => [s, []]));
      const all: number[] = [];
      for (const [shape, criteria] of searches) {
        const started = performance.now();
        await store.search(criteria);
        const ms = performance.now() - started;
        all.push(ms);
        times.get(shape)!.push(ms);
      }
      lines.push(`| ${settings} | ${title} | ${perChange === undefined ? '' : `${perChange.toFixed(2)} ms`} | ${await pagesRead()} | ${figures(all)} | ${shapes.map((s) => figures(times.get(s)!)).join(' | ')} |`);
      process.stderr.write(`${lines.at(-1)}\n`);
    };
    for (const [settings, option] of [
      ["PostgreSQL's default (4 MB pending)", 'RESET (gin_pending_list_limit)'],
      ['the migration (256 kB pending)', 'SET (gin_pending_list_limit = 256)'],
    ] as const) {
      for (const index of ginIndexes) await pool.query(`ALTER INDEX "${schema}"."${index}" ${option}`);
      await pool.query(`VACUUM ${professionals}`);
      await phase(settings, 'vacuumed');
      await phase(settings, `after ${CHANGES} changes`, await change(CHANGES));
      await phase(settings, `after ${2 * CHANGES} changes`, await change(CHANGES));
      await pool.query(`VACUUM ${professionals}`);
      await phase(settings, 'vacuumed again');
    }
    return lines;
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
