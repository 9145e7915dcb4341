// The service image (Dockerfile, .dockerignore), skaffold.yaml and the images targets of
// deploy/Makefile.fragment, checked statically: no container engine runs here, so the build itself,
// its SBOM, scan and signature are CI's (make images, make push-images).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { SERVICES } from './lib/contract';
import { ROOT, run } from './lib/tools';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages[stages.length - 1];

describe('Dockerfile', () => {
  test('one parameterised multi-stage build: ARG SERVICE, npm install of the lockfile, the service build, a separate runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^ARG SERVICE$/m);
    expect(dockerfile).toContain('npm install --no-save --ignore-scripts');
    expect(dockerfile).toContain('npm run build -w "services/${SERVICE}"');
    // Every install takes the lockfile's versions and never rewrites it.
    const installs = dockerfile.split('\n').filter((l) => /^\s*(RUN .*)?npm install\b/.test(l.replace(/^RUN --mount=\S+ /, 'RUN ')));
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const line of installs) expect(line).toContain('--no-save');
  });

  test('the runtime image: Node LTS, no dev dependencies, non-root, tini as PID 1, no migrations at start', () => {
    // The exact Node of .node-version (the one make test runs on), and its major for distroless.
    const pinned = readFileSync(join(ROOT, '.node-version'), 'utf8').trim();
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_VERSION=${pinned.replace(/\./g, '\\.')}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_MAJOR=${pinned.split('.')[0]}$`, 'm'));
    expect(dockerfile).toMatch(/^ARG RUNTIME_IMAGE=gcr\.io\/distroless\/nodejs\$\{NODE_MAJOR\}-debian12:nonroot$/m);
    expect(dockerfile).toContain('npm install --no-save --omit=dev');
    expect(runtime).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/tini", "--"\]$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(runtime).not.toMatch(/migrate/);
    expect(runtime).not.toMatch(/^RUN /m); // nothing executes in the distroless stage
    expect(runtime).toContain('NODE_ENV=production');
    expect(instructions.filter((l) => l.startsWith('FROM')).length).toBe(stages.length);
  });

  test('.dockerignore keeps dependencies, VCS data, secrets and deployment files out of the context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', '**/dist', '.git', '**/.env', '.data', 'charts', 'k8s', 'terraform']) expect(ignore).toContain(entry);
  });

  test('the build has the consumed topics the services bundle (charts/cryptocare/files/consumers.json), and no other chart file', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignore.filter((l) => l.startsWith('!'))).toEqual(['!charts/cryptocare/files/consumers.json']);
    const copy = 'COPY charts/cryptocare/files/consumers.json charts/cryptocare/files/consumers.json';
    expect(dockerfile.split('\n')).toContain(copy);
    expect(dockerfile.indexOf(copy)).toBeLessThan(dockerfile.indexOf('npm run build -w "services/${SERVICE}"'));
    // ... at the path libs/contracts imports it from
    const source = readFileSync(join(ROOT, 'libs/contracts/src/consumers.ts'), 'utf8');
    const imported = source.match(/from '(\.[^']*consumers\.json)'/)?.[1];
    expect(imported && resolve(ROOT, 'libs/contracts/src', imported)).toBe(join(ROOT, 'charts/cryptocare/files/consumers.json'));
  });
});

describe('skaffold.yaml', () => {
  const config = parse(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8'));
  const services = readdirSync(join(ROOT, 'services'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

  test('builds one image per service from the Dockerfile with its SERVICE build arg', () => {
    expect(config.apiVersion).toMatch(/^skaffold\/v4beta\d+$/);
    const artifacts = config.build.artifacts;
    expect(artifacts.map((a: any) => a.docker.buildArgs.SERVICE).sort()).toEqual([...services].sort());
    expect(Object.keys(SERVICES).sort()).toEqual([...services].sort());
    for (const a of artifacts) {
      expect(a.image).toBe(`cryptocare-${a.docker.buildArgs.SERVICE}`);
      expect(a.docker.dockerfile).toBe('Dockerfile');
    }
  });

  test('dev and production profiles deploy the chart with existing values files for both regions', () => {
    const profiles = Object.fromEntries(config.profiles.map((p: any) => [p.name, p]));
    expect(Object.keys(profiles)).toEqual(expect.arrayContaining(['dev', 'production']));
    const releases = [config.deploy, ...config.profiles.map((p: any) => p.deploy)].flatMap((d: any) => d.helm.releases);
    for (const r of releases) {
      expect(existsSync(join(ROOT, r.chartPath))).toBe(true);
      for (const region of ['ch', 'eu']) {
        for (const f of r.valuesFiles) {
          const path = f.replace(/\{\{ default "ch" \.REGION \}\}/g, region);
          expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
        }
      }
      if (r.chartPath === 'charts/cryptocare') {
        for (const s of services) {
          expect(r.setValueTemplates[`services.${s}.image.repository`]).toBe(`{{.IMAGE_REPO_cryptocare_${s}}}`);
          expect(r.setValueTemplates[`services.${s}.image.tag`]).toBe(`{{.IMAGE_TAG_cryptocare_${s}}}`);
        }
      }
    }
    expect(profiles.production.deploy.helm.releases[0].valuesFiles[0]).toBe('charts/cryptocare/values-production.yaml');
  });
});

describe('make images / push-images: SBOM, scan, signature (printed with make -n: no container engine here)', () => {
  const make = (target: string, vars: string[] = []) => {
    const r = run('make', ['-n', '-f', 'deploy/Makefile.fragment', target, 'DEPLOY_SERVICES=gateway payment', 'TAG=t1', ...vars]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  };
  const pins = Object.fromEntries(readFileSync(join(ROOT, 'deploy/image-tools.env'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')));
  const script = readFileSync(join(ROOT, 'deploy/scripts/image-tools.sh'), 'utf8');

  test('the tools are pinned to exact versions and installed at those versions from their Go modules', () => {
    expect(Object.keys(pins).sort()).toEqual(['COSIGN_VERSION', 'SYFT_VERSION', 'TRIVY_VERSION']);
    for (const v of Object.values(pins)) expect(v).toMatch(/^v\d+\.\d+\.\d+$/);
    for (const [tool, module, pin] of [['syft', 'github.com/anchore/syft/cmd/syft', 'SYFT_VERSION'], ['cosign', 'github.com/sigstore/cosign/v3/cmd/cosign', 'COSIGN_VERSION'], ['trivy', 'github.com/aquasecurity/trivy/cmd/trivy', 'TRIVY_VERSION']]) {
      expect(script).toContain(`${tool}) VERSION=$${pin}; MODULE=${module} ;;`);
    }
    expect(script).toContain('go install "$MODULE@$VERSION"');
  });

  test('each image is built, then its SBOM written (SPDX and CycloneDX), then scanned, failing on HIGH/CRITICAL', () => {
    const out = make('images');
    for (const s of ['gateway', 'payment']) {
      const image = `ghcr.io/cryptocare/${s}:t1`;
      const build = out.indexOf(`-t ${image} -f Dockerfile .`);
      const sbom = out.indexOf(`"$(bash deploy/scripts/image-tools.sh syft)" scan docker:${image}`);
      const scan = out.indexOf(`"$(bash deploy/scripts/image-tools.sh trivy)" image --exit-code 1 --severity HIGH,CRITICAL --ignore-unfixed --no-progress \\\n  ${image}`);
      expect({ s, build: build >= 0, sbom: sbom > build, scan: scan > sbom }).toEqual({ s, build: true, sbom: true, scan: true });
      expect(out).toContain(`-o spdx-json=.data/sbom/${s}.spdx.json -o cyclonedx-json=.data/sbom/${s}.cdx.json`);
      // what runs is printed, with the pinned versions
      expect(out).toContain(`==> ${s}: SBOM with syft ${pins.SYFT_VERSION}`);
      expect(out).toContain(`==> ${s}: vulnerability scan with trivy ${pins.TRIVY_VERSION}: fails on HIGH or CRITICAL`);
    }
  });

  test('pushed images are signed by digest and their SBOM attached as a signed attestation: keyless by default, or with COSIGN_KEY', () => {
    const keyless = make('push-images');
    expect(keyless).toContain("digest=$(docker inspect --format '{{index .RepoDigests 0}}' ghcr.io/cryptocare/$s:t1)");
    expect(keyless).toContain('"$(bash deploy/scripts/image-tools.sh cosign)" sign --yes  $digest');
    expect(keyless).toContain('"$(bash deploy/scripts/image-tools.sh cosign)" attest --yes  --type spdxjson --predicate .data/sbom/$s.spdx.json $digest');
    expect(keyless.indexOf('docker push')).toBeLessThan(keyless.indexOf('cosign)" sign'));
    expect(keyless).toContain(`with cosign ${pins.COSIGN_VERSION} (keyless)`);
    const keyed = make('push-images', ['COSIGN_KEY=env://COSIGN_PRIVATE_KEY']);
    expect(keyed).toContain('sign --yes --key env://COSIGN_PRIVATE_KEY $digest');
    expect(keyed).toContain('attest --yes --key env://COSIGN_PRIVATE_KEY --type spdxjson');
    // push-images builds, SBOMs and scans first
    expect(keyed.indexOf('trivy)" image')).toBeLessThan(keyed.indexOf('docker push'));
    const verify = make('verify-images');
    expect(verify).toContain("verify --certificate-identity-regexp '^https://github.com/cryptocare/cryptocare/' --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/cryptocare/$s:t1");
    expect(verify).toContain('verify-attestation --type spdxjson');
  });
});
