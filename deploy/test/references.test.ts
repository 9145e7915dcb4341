// Files the deployment files cite by path exist (skaffold.yaml once pointed at a document that did
// not): skaffold.yaml, deploy/Makefile.fragment, k8s/ and the chart's values and templates.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib/tools';

const ROOTS = ['charts', 'k8s', 'deploy', 'docs', 'terraform', 'scripts', 'services', 'libs', 'web', 'bench', 'proto'];
const CITED = new RegExp(`(?<![\\w./-])((?:${ROOTS.join('|')})/[\\w./-]*[\\w-]\\.(?:md|ya?ml|sh|json|ts|mjs|sql|tf|env))\\b`, 'g');
const TOP_FILES = /(?<![\w./-])(README\.md|Makefile|Dockerfile|skaffold\.yaml)(?![\w.-])/g;

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(ROOT.length + 1));
}

/** Repository paths a file cites, with the ones that do not exist. */
export function missingReferences(text: string): string[] {
  const cited = [...text.matchAll(CITED)].map((m) => m[1]!).filter((p) => !p.includes('<') && !p.includes('*'));
  const top = [...text.matchAll(TOP_FILES)].map((m) => m[1]!);
  return [...new Set([...cited, ...top])].filter((p) => !existsSync(join(ROOT, p)));
}

const SOURCES = [
  'skaffold.yaml',
  'deploy/Makefile.fragment',
  ...filesUnder('k8s'),
  ...filesUnder('charts/cryptocare').filter((f) => !f.includes('/files/dashboards/')),
  ...filesUnder('docs/runbooks'),
  'docs/edge-gateway.md',
  'docs/secrets.md',
  'docs/alerting.md',
];

describe('paths cited by the deployment files', () => {
  test.each(SOURCES)('%s cites only files that exist', (file) => {
    expect(missingReferences(readFileSync(join(ROOT, file), 'utf8'))).toEqual([]);
  });

  test('a citation of a missing file is found (the old skaffold.yaml comment)', () => {
    expect(missingReferences('installed once per cluster, outside this loop (deploy/README-deployment.md)')).toEqual(['deploy/README-deployment.md']);
    expect(missingReferences('see docs/secrets.md and charts/cryptocare/values-<env>.yaml')).toEqual([]);
  });
});
