import type pg from 'pg';

/** Where a needle was found: `<service>.<table>.<column>`, and in how many rows. */
export interface ColumnHit {
  column: string;
  needle: string;
  rows: number;
}

/** Rows of a column that may hold a needle (e.g. an erased person's tombstone), as an SQL condition on the row. */
export interface ColumnExemption {
  service: string;
  table: string;
  column: string;
  rows: string;
}

/**
 * Every column of every table of the given services' schemas, cast to text (bytea through
 * escape), searched case-insensitively for each needle (plain substrings, no LIKE wildcards).
 * `schemas` maps a service to its schema, as a running platform's `schemas`. Fails when a schema
 * has no table (a wrong name would make the scan silently find nothing).
 */
export async function scanColumns(db: pg.Pool, schemas: Record<string, string>, needles: string[], exemptions: readonly ColumnExemption[] = []): Promise<ColumnHit[]> {
  const names = Object.values(schemas);
  const { rows: columns } = await db.query<{ table_schema: string; table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = ANY($1) ORDER BY 1, 2, 3`,
    [names],
  );
  const found = new Set(columns.map((c) => c.table_schema));
  const missing = names.filter((n) => !found.has(n));
  if (missing.length > 0) throw new Error(`no tables in schema(s) ${missing.join(', ')}`);
  const hits: ColumnHit[] = [];
  for (const c of columns) {
    const value = c.data_type === 'bytea' ? `encode(t."${c.column_name}", 'escape')` : `t."${c.column_name}"::text`;
    const service = Object.entries(schemas).find(([, s]) => s === c.table_schema)![0];
    const exempt = exemptions.find((x) => x.service === service && x.table === c.table_name && x.column === c.column_name);
    const { rows } = await db.query<{ needle: string; rows: number }>(
      `SELECT n.needle, count(*)::int AS rows
         FROM "${c.table_schema}"."${c.table_name}" t, unnest($1::text[]) AS n(needle)
        WHERE strpos(lower(${value}), lower(n.needle)) > 0 ${exempt ? `AND NOT (${exempt.rows})` : ''}
        GROUP BY n.needle`,
      [needles],
    );
    for (const r of rows) hits.push({ column: `${service}.${c.table_name}.${c.column_name}`, needle: r.needle, rows: r.rows });
  }
  return hits;
}
