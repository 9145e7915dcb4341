import type pg from 'pg';

/**
 * How much each index of the platform's schemas was read during a hold, from PostgreSQL's own
 * counters (pg_stat_user_indexes: walks and index entries read; no extension needed). Why: a plan
 * that reads a whole index for every request shows here at once. On 4 December search by place
 * read all 48 000 entries of professionals_nearest_idx a walk, and the report only showed
 * PostgreSQL's CPU (docs/performance-history.md, "4 December, morning").
 */
export interface IndexReads {
  walks: number;
  entries: number;
}

/** Counters by "service.index" (the schema's service suffix) for the given schemas. */
export async function indexReadsIn(db: Pick<pg.Pool, 'query'>, schemas: Record<string, string>): Promise<Record<string, IndexReads>> {
  const serviceOf = new Map(Object.entries(schemas).map(([service, schema]) => [schema, service]));
  const { rows } = await db.query<{ schema: string; index: string; walks: string; entries: string }>(
    `SELECT schemaname AS schema, indexrelname AS index, idx_scan AS walks, idx_tup_read AS entries
       FROM pg_stat_user_indexes WHERE schemaname = ANY($1::text[])`,
    [[...serviceOf.keys()]],
  );
  return Object.fromEntries(rows.map((r) => [`${serviceOf.get(r.schema)}.${r.index}`, { walks: Number(r.walks), entries: Number(r.entries) }]));
}

/** after - before, the indexes that were walked, most entries read first. */
export function indexReadsBetween(before: Record<string, IndexReads>, after: Record<string, IndexReads>): Array<[string, IndexReads]> {
  return Object.entries(after)
    .map(([index, a]): [string, IndexReads] => [index, { walks: a.walks - (before[index]?.walks ?? 0), entries: a.entries - (before[index]?.entries ?? 0) }])
    .filter(([, d]) => d.walks > 0)
    .sort((x, y) => y[1].entries - x[1].entries);
}

/** The `top` indexes that read the most entries: walks, and entries a walk. */
export function describeIndexReads(reads: Array<[string, IndexReads]>, top = 5): string {
  const figure = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
  return (
    reads
      .slice(0, top)
      .map(([index, r]) => `${index} ${figure(r.walks)} walks, ${figure(r.entries / r.walks)} entries each`)
      .join('; ') || 'none'
  );
}
