import path from 'node:path';
import { applyMigrations } from '@cryptocare/platform';
import { infraUrls, uniqueName } from './infra';

export const repoRoot = path.resolve(__dirname, '../../..');

/** Applies a service's checked-in migrations to a fresh schema of the real PostgreSQL. */
export async function migratedSchema(service: string, databaseUrl = infraUrls().databaseUrl): Promise<string> {
  const schema = uniqueName(`t_${service}`);
  await applyMigrations({ serviceDir: path.join(repoRoot, 'services', service), databaseUrl, schema });
  return schema;
}
