// Query plans at the plan's scale: 50 000 profiles of the seeded directory (libs/testing
// directory-seed, written by search's own seed module) in a test schema, and for every combination
// of the filters the API offers, in both orders and on a later page, EXPLAIN shows that an index
// serves it: never a sequential scan of the professionals table.
import pg from 'pg';
import { generateDirectory, prng } from '@cryptocare/testing/src/directory-seed';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import type { SearchCriteria } from '../src/domain/search-criteria';
import { chordKm } from '../src/domain/geo';
import { writeSeedProfessionals } from '../src/seed/seed-directory';
import { moveAvailabilityStatement, resolveText, searchStatement } from '../src/store/directory-store';

const PROFESSIONALS = 50_000;
jest.setTimeout(600_000);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  /** With EXPLAIN ANALYZE. */
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  'Heap Fetches'?: number;
  Plans?: PlanNode[];
}

/** The entries an executed walk read: those it returned and those its filters removed. */
const walked = (node: PlanNode) => (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0);

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe(`search query plans at ${PROFESSIONALS} profiles`, () => {
  let schema: string;
  let pool: pg.Pool;
  const now = new Date();

  beforeAll(async () => {
    schema = await migratedSchema('search');
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    // The earliest free slot as appointment would publish it: within the next weeks, none for some.
    const random = prng(7);
    const rows = (function* () {
      for (const p of generateDirectory({ professionals: PROFESSIONALS, seed: 13 })) {
        const next = random() < 0.08 ? null : now.getTime() + Math.floor(random() * 30 * 24) * 3_600_000;
        // With the slots after it, an hour apart, for the availability sweep.
        const laterAvailableAt = next === null ? [] : [1, 2, 3].map((h) => new Date(next + h * 3_600_000).toISOString());
        yield { ...p, nextAvailableAt: next === null ? null : new Date(next).toISOString(), laterAvailableAt, minimumNoticeMinutes: 60 };
      }
    })();
    expect(await writeSeedProfessionals(pool, schema, rows, now)).toBe(PROFESSIONALS);
    // With statistics, as the seed leaves them and autovacuum keeps them: the plans below are the
    // ones production gets, not those of a table the planner knows nothing about.
    await pool.query(`ANALYZE "${schema}".professionals`);
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** The search's statement as the store runs it: its words resolved first. */
  async function statement(criteria: SearchCriteria) {
    return searchStatement(schema, criteria, criteria.query ? await resolveText(pool, schema, criteria.query) : undefined);
  }

  /** The plan's nodes of a statement as it ran (EXPLAIN ANALYZE). */
  async function executedPlan(sql: string, params: unknown[]): Promise<PlanNode[]> {
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    return nodes(rows[0]!['QUERY PLAN'][0]!.Plan);
  }

  async function plan(criteria: SearchCriteria): Promise<PlanNode[]> {
    const { sql, params } = await statement(criteria);
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return nodes(rows[0]!['QUERY PLAN'][0]!.Plan);
  }

  const filters: Array<[string, Partial<SearchCriteria>]> = [
    ['query', { query: 'Kardiologie Zürich' }],
    ['specialty', { specialty: 'dermatology' }],
    ['language', { language: 'it' }],
    ['country', { country: 'AT' }],
    ['availableBefore', { availableBefore: new Date(now.getTime() + 2 * 86_400_000).toISOString() }],
    ['maxPrice', { maxPrice: '60.00' }],
  ];
  const places = [undefined, { latitude: 47.3769, longitude: 8.5417, radiusKm: 25 }];
  const combinations: Array<[string, SearchCriteria]> = [];
  for (let mask = 0; mask < 1 << filters.length; mask++) {
    for (const place of places) {
      for (const page of ['first', 'next'] as const) {
        const chosen = filters.filter((_, i) => mask & (1 << i));
        const criteria: SearchCriteria = Object.assign({ limit: 20 }, ...chosen.map(([, c]) => c));
        if (place) criteria.place = place;
        if (page === 'next') {
          const id = '7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
          criteria.after = place ? { by: 'distance', chordKm: 3.2, id } : { by: 'availability', nextAvailableAt: now.toISOString(), id };
        }
        combinations.push([`${chosen.map(([n]) => n).join('+') || 'no filter'}${place ? ' near Zürich' : ''}, ${page} page`, criteria]);
      }
    }
  }

  it(`serves each of the ${combinations.length} query shapes from an index (no sequential scan of the profiles)`, async () => {
    const seqScans: string[] = [];
    const used = new Set<string>();
    for (const [name, criteria] of combinations) {
      const planned = await plan(criteria);
      const scans = planned.filter((n) => n['Relation Name'] === 'professionals');
      expect(scans.length).toBeGreaterThan(0);
      if (scans.some((n) => n['Node Type'] === 'Seq Scan')) seqScans.push(name);
      for (const n of planned) if (n['Index Name']) used.add(n['Index Name']);
    }
    expect(seqScans).toEqual([]);
    // The indexes that exist for these filters are the ones the planner picks.
    expect([...used].sort()).toEqual(
      expect.arrayContaining(['professionals_nearest_idx', 'professionals_search_vector_idx', 'professionals_specialty_words_idx', 'professionals_soonest_idx', 'professionals_country_soonest_idx']),
    );
  });

  it('matches by trigrams only when no word is known', async () => {
    // The plan as JSON: index names, and the conditions where the trigram operator (<% or %>) shows.
    const planOf = async (criteria: SearchCriteria) => JSON.stringify(await plan(criteria));
    // Known words (places, a specialty in another language): full text alone, trigrams untouched.
    for (const query of ['Zürich', 'Kardiologie Genf', 'Paris']) {
      expect(await resolveText(pool, schema, query)).toMatchObject({ similarWords: [] });
      const planned = await planOf({ limit: 20, query, specialty: 'dermatology' });
      expect(planned).toContain('professionals_specialty_words_idx');
      expect(planned).not.toMatch(/<%|%>|professionals_search_text_idx/);
    }
    // Words outside the synonyms that profiles hold (a city, a name): full text alone too.
    for (const query of ['Bordeaux', 'Düsseldorf']) {
      const { rows } = await pool.query(`SELECT 1 FROM "${schema}".search_synonyms WHERE term = "${schema}".search_fold($1)`, [query]);
      expect(rows).toEqual([]);
      expect(await resolveText(pool, schema, query)).toMatchObject({ similarWords: [] });
      expect(await planOf({ limit: 20, query, specialty: 'general-practice' })).not.toMatch(/<%|%>|professionals_search_text_idx/);
    }
    // Websearch operators: full text only.
    expect(await resolveText(pool, schema, 'Zürich -Kardiologie')).toMatchObject({ similarWords: [] });
    // Typos: full text OR trigrams, never a sequential scan.
    expect(await resolveText(pool, schema, 'Kelller Genevve')).toMatchObject({ similarWords: ['Kelller', 'Genevve'] });
    for (const criteria of [{ limit: 20, query: 'Kelller' }, { limit: 20, query: 'dermatolgy', country: 'CH', language: 'de' }, { limit: 20, query: 'Genevve', place: { latitude: 46.2044, longitude: 6.1432, radiusKm: 25 } }]) {
      const planned = await planOf(criteria);
      expect(planned).toMatch(/<%|%>/);
      expect(planned).not.toContain('Seq Scan');
    }
  });

  it('finds words within a specialty from one index, not from the words of a whole city and the specialty apart', async () => {
    // A large city: its words alone match thousands of profiles, the specialty alone more than a thousand.
    for (const [query, specialty] of [['Paris', 'cardiology'], ['Zürich', 'dermatology'], ['Berlin', 'general-practice']] as const) {
      // With a language too, the planner costs this index and professionals_filters_idx (specialty and
      // language) ANDed with the words' bitmap about the same, and picks either by its sample (the
      // bench's schema: this one): any index then, as every shape above.
      for (const language of ['fr', 'it']) expect(JSON.stringify(await plan({ limit: 20, query, specialty, language }))).not.toContain('Seq Scan');
      for (const more of [{}, { maxPrice: '120.00' }, { availableBefore: new Date(now.getTime() + 3 * 86_400_000).toISOString() }]) {
        const planned = await plan({ limit: 20, query, specialty, ...more });
        const indexes = planned.map((n) => n['Index Name']).filter(Boolean);
        expect(indexes).toContain('professionals_specialty_words_idx');
        // The words' own bitmap (every profile of the city) is never built.
        expect(indexes).not.toContain('professionals_search_vector_idx');
      }
    }
  });

  it('walks nearest first no further than the radius, however rare the filters', async () => {
    // Dermatologists at most 80 near Winterthur: fewer than a page within 50 km. The walk used to
    // run on past the radius through the whole directory looking for the rest of the page.
    const place = { latitude: 47.4861, longitude: 8.7727, radiusKm: 50 };
    const criteria: SearchCriteria = { limit: 20, specialty: 'dermatology', maxPrice: '80.00', place };
    const { sql, params } = await statement(criteria);
    const found = (await pool.query(sql, params)).rowCount!;
    expect(found).toBeLessThan(20);
    const walk = (await executedPlan(sql, params)).find((n) => n['Index Name'] === 'professionals_nearest_idx')!;
    // The filters are read from the index: no heap page per profile walked.
    expect(walk['Node Type']).toBe('Index Only Scan');
    const read = walked(walk);
    const { rows: circle } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".professionals WHERE position OPERATOR(public.<->) "${schema}".earth_position($1, $2) <= $3`,
      [place.latitude, place.longitude, chordKm(place.radiusKm)],
    );
    // Every profile within the radius (verified or not), then a page of verified ones beyond it
    // (and the few unverified among them); without the stop it read twice the circle.
    expect(read).toBeLessThanOrEqual(circle[0]!.n + 50);
    expect(read).toBeGreaterThan(found);
  });

  it('walks nearest first and stops at a page, whatever the statistics say of the order', async () => {
    // A common specialty in a city: the page is found among the nearest few dozen profiles. Ordered
    // by distance and id, PostgreSQL read all 50 000 and sorted them (22 ms) once it had statistics.
    for (const radiusKm of [10, 25, 50]) {
      const criteria: SearchCriteria = { limit: 20, specialty: 'general-practice', place: { latitude: 47.3769, longitude: 8.5417, radiusKm } };
      const { sql, params } = await statement(criteria);
      const planned = await executedPlan(sql, params);
      const walk = planned.find((n) => n['Index Name'] === 'professionals_nearest_idx')!;
      expect(walk['Node Type']).toBe('Index Only Scan');
      expect(walked(walk)).toBeLessThan(200);
      expect(planned.map((n) => n['Node Type'])).not.toContain('Sort');
    }
  });

  it('walks availability order as an index-only scan, reading only the page from the table', async () => {
    // Without a place the search walks profiles earliest free slot first and tests each against the
    // filters: a rare combination walks thousands. The filters' columns are in the index, so the
    // walk reads no heap page; the page's profiles are then read by id.
    const shapes: Array<[SearchCriteria, string]> = [
      [{ limit: 20, specialty: 'cardiology' }, 'professionals_soonest_idx'],
      [{ limit: 20, specialty: 'dermatology', language: 'it', maxPrice: '80.00' }, 'professionals_soonest_idx'],
      [{ limit: 20, specialty: 'dermatology', country: 'AT', language: 'it' }, 'professionals_country_soonest_idx'],
    ];
    await pool.query(`VACUUM (ANALYZE) "${schema}".professionals`);
    for (const [criteria, index] of shapes) {
      const { sql, params } = await statement(criteria);
      const planned = await executedPlan(sql, params);
      const walk = planned.find((n) => n['Index Name'] === index);
      expect(walk).toMatchObject({ 'Node Type': 'Index Only Scan', 'Heap Fetches': 0 });
      // The walk tested more profiles than the page holds: the filters did their work in the index.
      expect(walked(walk!)).toBeGreaterThan(20);
      // No sort: the walk's order is the page's.
      expect(planned.map((n) => n['Node Type'])).not.toContain('Sort');
      // And the answer is the one the table gives, in the same order.
      const got = (await pool.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
      const conditions = ['verified'];
      const values: unknown[] = [];
      if (criteria.specialty) conditions.push(`$${values.push(criteria.specialty)} = ANY(specialties)`);
      if (criteria.language) conditions.push(`$${values.push(criteria.language)} = ANY(languages)`);
      if (criteria.country) conditions.push(`country = $${values.push(criteria.country)}`);
      if (criteria.maxPrice) conditions.push(`price_amount <= $${values.push(criteria.maxPrice)}::numeric`);
      const expected = await pool.query<{ id: string }>(
        `SELECT id::text FROM "${schema}".professionals WHERE ${conditions.join(' AND ')} ORDER BY next_available_at ASC NULLS LAST, id LIMIT 21`,
        values,
      );
      expect(got).toEqual(expected.rows.map((r) => r.id));
    }
  });

  it('finds the profiles whose earliest slot passed from their own index (the availability sweep)', async () => {
    // A day on: about one profile in thirty is due.
    const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${moveAvailabilityStatement(schema)}`, [
      new Date(now.getTime() + 86_400_000).toISOString(),
      1_000,
    ]);
    const planned = nodes(rows[0]!['QUERY PLAN'][0]!.Plan);
    expect(planned.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'professionals')).toEqual([]);
    expect(planned.some((n) => n['Index Name'] === 'professionals_availability_moves_at_idx')).toBe(true);
  });

  it('finds what people type in the seeded directory: spellings of cities and specialties agree', async () => {
    const count = async (criteria: Partial<SearchCriteria>) => {
      const { sql, params } = await statement({ limit: 50, ...criteria });
      return (await pool.query(sql, params)).rowCount;
    };
    const idsOf = async (criteria: Partial<SearchCriteria>) => {
      const { sql, params } = await statement({ limit: 50, ...criteria });
      return (await pool.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
    };
    // Every spelling of a city gives the same first page as the one the professionals wrote.
    // 50 asked: 51 rows, the last one telling that there are more pages.
    const zurich = await idsOf({ query: 'Zürich' });
    expect(zurich.length).toBe(51);
    for (const spelling of ['zurich', 'ZURICH', 'Zurigo', 'zuerich']) expect(await idsOf({ query: spelling })).toEqual(zurich);
    const geneve = await idsOf({ query: 'Genève' });
    expect(geneve.length).toBe(51);
    for (const spelling of ['geneve', 'Geneva', 'Genf', 'Ginevra']) expect(await idsOf({ query: spelling })).toEqual(geneve);
    const cardiology = await idsOf({ query: 'cardiology' });
    expect(cardiology.length).toBe(51);
    for (const spelling of ['cardio', 'cardiologie', 'Kardiologie', 'cardiologia', 'cardiologue']) expect(await idsOf({ query: spelling })).toEqual(cardiology);
    expect(await count({ query: 'Kardiologie Zürich', country: 'CH' })).toBeGreaterThan(0);
  });

  it('expands a place into each of its spellings once (each prefix term is one more partial match of the index)', async () => {
    const prefixes = async (query: string) => {
      const { rows } = await pool.query<{ q: string }>(`SELECT "${schema}".search_query($1)::text AS q`, [query]);
      return [...rows[0]!.q.matchAll(/'([^']+)':\*/g)].map((m) => m[1]);
    };
    expect((await prefixes('Zürich')).sort()).toEqual(['zuerich', 'zurich', 'zurigo']);
    expect((await prefixes('Kardiologie Genf')).sort()).toEqual(['cardiology', 'geneva', 'geneve', 'genf', 'ginevra', 'kardiologie']);
  });
  // Last: it rewrites profiles (and vacuums after).
  it('reads a bounded pending list in the words index while availability changes rewrite profiles', async () => {
    // Each availability change is a new version of the row and new entries in every GIN index of the
    // table, kept in the index's pending list, which every search through it reads whole. The
    // migration 20261204030000 bounds the lists at 256 kB (PostgreSQL's default: 4 MB).
    const { rows: gin } = await pool.query<{ relname: string; reloptions: string[] | null }>(
      `SELECT c.relname, c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = '"${schema}".professionals'::regclass AND am.amname = 'gin'`,
    );
    expect(gin.length).toBeGreaterThanOrEqual(6);
    for (const index of gin) expect([index.relname, index.reloptions]).toEqual([index.relname, expect.arrayContaining(['gin_pending_list_limit=256'])]);
    const { rows: table } = await pool.query<{ reloptions: string[] | null }>(`SELECT reloptions FROM pg_class WHERE oid = '"${schema}".professionals'::regclass`);
    expect(table[0]!.reloptions).toEqual(expect.arrayContaining(['autovacuum_vacuum_scale_factor=0.02']));

    // Words with a specialty: the web client's usual search, through professionals_specialty_words_idx.
    const pagesRead = async () => {
      const { sql, params } = await statement({ limit: 20, query: 'Zürich', specialty: 'dermatology' });
      const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
      const root = rows[0]!['QUERY PLAN'][0]!.Plan;
      return root['Shared Hit Blocks'] + root['Shared Read Blocks'];
    };
    await pool.query(`VACUUM "${schema}".professionals`);
    const before = await pagesRead();
    // 1 500 changes (the sweep moves about 5 000 profiles at each boundary of the working hours'
    // grid): with the default limit the words' index kept about 240 pages (1.9 MB) pending, and
    // this search read them all.
    await pool.query(`UPDATE "${schema}".professionals SET next_available_at = next_available_at + interval '30 minutes'
                       WHERE id IN (SELECT id FROM "${schema}".professionals WHERE verified AND next_available_at IS NOT NULL ORDER BY id LIMIT 1500)`);
    const after = await pagesRead();
    // At most the 32 pages of 256 kB more, and a few heap pages for the rows' new versions.
    expect(after - before).toBeLessThan(45);
    await pool.query(`VACUUM "${schema}".professionals`);
  });

  it('pages by place exactly when profiles share a place (ties in distance)', async () => {
    // Ten profiles at one address (a group practice) across page boundaries: every one of them is
    // listed once, in id order, over the pages. Last: moving them leaves pages not all-visible.
    const place = { latitude: 46.0037, longitude: 8.9511, radiusKm: 10 };
    const { rows: chosen } = await pool.query<{ id: string; latitude: number; longitude: number }>(
      `SELECT id, latitude, longitude FROM "${schema}".professionals WHERE verified AND specialties @> ARRAY['sexology'] ORDER BY id LIMIT 10`,
    );
    expect(chosen).toHaveLength(10);
    await pool.query(`UPDATE "${schema}".professionals SET latitude = $1, longitude = $2 WHERE id = ANY($3::uuid[])`, [place.latitude, place.longitude, chosen.map((r) => r.id)]);
    try {
      const seen: string[] = [];
      let after: SearchCriteria['after'];
      for (let page = 0; page < 5; page++) {
        const criteria: SearchCriteria = { limit: 3, specialty: 'sexology', place, ...(after ? { after } : {}) };
        const { sql, params } = await statement(criteria);
        const { rows } = await pool.query<{ id: string; chord_km: number }>(sql, params);
        seen.push(...rows.slice(0, 3).map((r) => r.id));
        if (rows.length <= 3) break;
        const last = rows[2]!;
        after = { by: 'distance', chordKm: Number(last.chord_km), id: last.id };
      }
      const atTheAddress = seen.filter((id) => chosen.some((c) => c.id === id));
      expect(atTheAddress).toEqual(chosen.map((r) => r.id));
      expect(new Set(seen).size).toBe(seen.length);
    } finally {
      for (const { id, latitude, longitude } of chosen) {
        await pool.query(`UPDATE "${schema}".professionals SET latitude = $2, longitude = $3 WHERE id = $1::uuid`, [id, latitude, longitude]);
      }
    }
  });
});
