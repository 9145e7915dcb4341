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
