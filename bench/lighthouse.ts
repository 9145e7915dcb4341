// Lighthouse on the web client (issue 11): accessibility and performance of the home page and a
// professional's page, on Lighthouse's mobile profile (emulated phone, simulated slow 4G and 4x CPU
// slowdown), in Debian's Chromium. The platform runs as `make dev` runs it (embedded mode, the
// gateway serving web/dist with its compression and cache headers).
// Run: `make bench-lighthouse` (never in tests; needs the registry once for `npx lighthouse`);
// writes bench/results/lighthouse-<date>.{json,md} (-2, -3… for another run the same day). Figures
// are recorded, not asserted. BENCH_LIGHTHOUSE_RUNS (3) runs per page; BENCH_LIGHTHOUSE_KEEP=<dir>
// keeps each run's report and its trace (what held the main thread: long-tasks, bootup-time).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, embeddedPortOffset, freePort, repoRoot, startEmbeddedDev } from '@cryptocare/testing';

const LIGHTHOUSE = process.env.BENCH_LIGHTHOUSE_VERSION ?? '13.5.0';
const CHROME = process.env.CHROME_PATH ?? '/usr/bin/chromium';
/** Lighthouse's figures vary from run to run: each page is measured this many times, the median kept. */
const RUNS = Number(process.env.BENCH_LIGHTHOUSE_RUNS ?? 3);
/** A directory to keep Lighthouse's full reports in (to see what blocks the main thread); by default they are deleted. */
const KEEP = process.env.BENCH_LIGHTHOUSE_KEEP;

interface PageResult {
  page: string;
  url: string;
  runs: Array<{ performance: number; accessibility: number; fcpMs: number; lcpMs: number; tbtMs: number; cls: number; speedIndexMs: number }>;
  /** Of the last run: what moved (layout shifts) and what the largest paint was, to know what to fix. */
  shifts?: unknown;
  lcpElement?: unknown;
}

/** One Lighthouse run; tried again once when Chromium's trace came back unusable (NO_NAVSTART happens). */
function lighthouse(url: string, out: string, attempt = 1): void {
  try {
    runLighthouse(url, out);
  } catch (err) {
    if (attempt >= 2) throw err;
    lighthouse(url, out, attempt + 1);
  }
}

function runLighthouse(url: string, out: string): void {
  execFileSync(
    'npx',
    [
      '-y',
      `lighthouse@${LIGHTHOUSE}`,
      url,
      '--only-categories=performance,accessibility',
      '--output=json',
      `--output-path=${out}`,
      '--chrome-flags=--headless=new --no-sandbox --disable-gpu',
      '--quiet',
      ...(KEEP ? ['--save-assets'] : []),
    ],
    { env: { ...process.env, CHROME_PATH: CHROME }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  execFileSync('npm', ['run', 'build', '-w', 'web'], { cwd: repoRoot, stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-lighthouse-'));
  const offset = embeddedPortOffset();
  const dev = await startEmbeddedDev({ offset, pgPort: await freePort(), dataDir });
  const base = `http://127.0.0.1:${8080 + offset}`;
  const results: PageResult[] = [];
  if (KEEP) mkdirSync(KEEP, { recursive: true });
  try {
    const { items } = await new ApiClient(base).expect(200, 'GET', '/v1/professionals?country=CH');
    const pages = [
      ['home', `${base}/`],
      ['professional', `${base}/professionals/${items[0].id}`],
    ] as const;
    for (const [page, url] of pages) {
      const result: PageResult = { page, url: url.replace(base, ''), runs: [] };
      for (let i = 0; i < RUNS; i++) {
        const out = path.join(KEEP ?? dataDir, `${page}-${i}.json`);
        lighthouse(url, out);
        const report = JSON.parse(readFileSync(out, 'utf8'));
        const audit = (id: string) => Number(report.audits[id]?.numericValue ?? NaN);
        result.runs.push({
          performance: Math.round(report.categories.performance.score * 100),
          accessibility: Math.round(report.categories.accessibility.score * 100),
          fcpMs: Math.round(audit('first-contentful-paint')),
          lcpMs: Math.round(audit('largest-contentful-paint')),
          tbtMs: Math.round(audit('total-blocking-time')),
          cls: Number(audit('cumulative-layout-shift').toFixed(3)),
          speedIndexMs: Math.round(audit('speed-index')),
        });
        const items = (id: string) => (report.audits[id]?.details?.items ?? []) as Array<Record<string, unknown>>;
        const nodeOf = (n: unknown) => (n as { selector?: string; snippet?: string } | undefined)?.selector ?? (n as { snippet?: string } | undefined)?.snippet;
        result.shifts = items('layout-shifts').map((i) => ({ score: i.score, node: nodeOf(i.node) }));
        result.lcpElement = items('largest-contentful-paint-element').flatMap((i) => ((i.items as Array<{ node?: unknown }> | undefined) ?? [i]).map((x) => nodeOf(x.node))).filter(Boolean);
      }
      results.push(result);
    }
  } finally {
    await dev.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const date = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
  const chromium = execFileSync(CHROME, ['--version']).toString().trim();
  const lines = [
    `# Lighthouse ${LIGHTHOUSE}, mobile profile — ${date}`,
    '',
    `Command: \`make bench-lighthouse\` (bench/lighthouse.ts; ${RUNS} runs per page, median shown). Machine: ${machine}. Browser: ${chromium}, headless.`,
    'Platform: `make dev` (embedded mode) on the same machine; the gateway serves web/dist.',
    '',
    '| page | performance | accessibility | FCP ms | LCP ms | TBT ms | CLS | Speed Index ms | performance per run |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const m = (k: keyof PageResult['runs'][number]) => median(r.runs.map((x) => x[k]));
      return `| ${r.page} (\`${r.url}\`) | ${m('performance')} | ${m('accessibility')} | ${m('fcpMs')} | ${m('lcpMs')} | ${m('tbtMs')} | ${m('cls')} | ${m('speedIndexMs')} | ${r.runs.map((x) => x.performance).join(', ')} |`;
    }),
    '',
  ];
  // A second run the same day does not overwrite the first (kept as the "before" of a change).
  let outBase = path.join(repoRoot, 'bench/results', `lighthouse-${date}`);
  for (let n = 2; existsSync(`${outBase}.md`); n++) outBase = path.join(repoRoot, 'bench/results', `lighthouse-${date}-${n}`);
  writeFileSync(`${outBase}.json`, JSON.stringify({ date, lighthouse: LIGHTHOUSE, machine, chromium, results }, null, 2) + '\n');
  writeFileSync(`${outBase}.md`, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
