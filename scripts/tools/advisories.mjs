// Advisory check of the runtime dependencies (`make advisories`, part of `make test` and so of CI):
// `npm audit --omit=dev` asks the registry's advisory database about every package the services
// ship (dev tools excluded) and this fails on any high or critical advisory, unless an entry of
// scripts/tools/advisories-allowlist.json accepts it: one advisory (GHSA id) of one package, with a
// reason, the day it was added and the day it must be looked at again. An entry past that day fails
// the check, so an exception cannot outlive its reason unnoticed. docs/dependencies.md has the policy.
//
// Usage: node scripts/tools/advisories.mjs [--report audit.json] [--allowlist file] [--today YYYY-MM-DD]
//   --report  read a saved `npm audit --omit=dev --json` instead of asking the registry
// Exit: 0 clean (or accepted), 1 an advisory to act on or a bad/expired allow-list entry,
//       2 the advisory database could not be asked and ADVISORIES_REQUIRED=1.
// When the registry's audit endpoint cannot be reached (on the development machines and their CI the
// registry answers 405 to it), the check says loudly that it did NOT run and passes, unless
// ADVISORIES_REQUIRED=1 (set it wherever the endpoint is reachable).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FAILING = new Set(['high', 'critical']);

function option(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function auditReport() {
  const saved = option('--report');
  if (saved) return JSON.parse(readFileSync(saved, 'utf8'));
  // npm exits non-zero both on findings and on errors; the JSON says which.
  const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  try {
    return JSON.parse(run.stdout);
  } catch {
    return { error: { summary: (run.stderr || run.stdout || `npm audit exited ${run.status}`).trim() } };
  }
}

function loadAllowList(file, today) {
  const entries = JSON.parse(readFileSync(file, 'utf8')).advisories ?? [];
  const problems = [];
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const valid = [];
  for (const e of entries) {
    const what = `${e.id ?? '?'} (${e.package ?? '?'})`;
    const before = problems.length;
    if (!/^GHSA(-[0-9a-z]{4}){3}$/.test(e.id ?? '')) problems.push(`${what}: "id" must be a GHSA id`);
    if (!e.package) problems.push(`${what}: "package" is required`);
    if (!e.reason || String(e.reason).trim().length < 20) problems.push(`${what}: "reason" must say why it is acceptable`);
    if (!day.test(e.added ?? '')) problems.push(`${what}: "added" must be a date (YYYY-MM-DD)`);
    if (!day.test(e.reviewBy ?? '')) problems.push(`${what}: "reviewBy" must be a date (YYYY-MM-DD)`);
    else if (e.reviewBy < today) problems.push(`${what}: accepted until ${e.reviewBy}, which has passed: fix it or renew the entry with today's reason`);
    if (problems.length === before) valid.push(e);
  }
  return { entries, valid, problems };
}

/** Every advisory of the report (npm's v2 format), once, with the installed paths it affects. */
function advisoriesOf(report) {
  const byUrl = new Map();
  for (const vulnerability of Object.values(report.vulnerabilities ?? {})) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object') continue; // a string names another package of the report
      const id = /GHSA(-[0-9a-z]{4}){3}/.exec(via.url ?? '')?.[0] ?? `npm-${via.source}`;
      const known = byUrl.get(id) ?? { id, package: via.name, title: via.title, severity: via.severity, range: via.range, url: via.url, nodes: new Set(), fix: vulnerability.fixAvailable };
      for (const node of vulnerability.nodes ?? []) known.nodes.add(node);
      byUrl.set(id, known);
    }
  }
  return [...byUrl.values()];
}

const today = option('--today') ?? new Date().toISOString().slice(0, 10);
const allowListFile = option('--allowlist') ?? path.join(root, 'scripts/tools/advisories-allowlist.json');
const { entries, valid, problems } = loadAllowList(allowListFile, today);
const report = auditReport();

if (!report.vulnerabilities) {
  const why = report.error?.summary || report.message || JSON.stringify(report.error ?? report).slice(0, 300);
  const required = process.env.ADVISORIES_REQUIRED === '1';
  console.error(`advisories: NOT CHECKED: the registry's advisory database could not be asked (${why || `HTTP ${report.statusCode}`}).`);
  console.error(required ? 'advisories: ADVISORIES_REQUIRED=1, failing.' : 'advisories: passing without a check (set ADVISORIES_REQUIRED=1 where the endpoint is reachable).');
  for (const p of problems) console.error(`advisories: allow-list: ${p}`);
  process.exit(required ? 2 : problems.length > 0 ? 1 : 0);
}

const advisories = advisoriesOf(report);
const acted = [];
for (const a of advisories.filter((x) => FAILING.has(x.severity))) {
  const accepted = valid.find((e) => e.id === a.id && e.package === a.package);
  const where = [...a.nodes].join(', ');
  const fix = a.fix === true ? 'fix available (npm audit fix)' : a.fix && typeof a.fix === 'object' ? `fix: ${a.fix.name}@${a.fix.version}${a.fix.isSemVerMajor ? ' (major)' : ''}` : 'no fix released';
  if (accepted) {
    console.log(`advisories: accepted until ${accepted.reviewBy}: ${a.severity} ${a.id} ${a.package} ${a.range}: ${a.title} [${where}]; ${accepted.reason}`);
  } else {
    acted.push(a);
    console.error(`advisories: ${a.severity.toUpperCase()} ${a.id} ${a.package} ${a.range}: ${a.title} (${a.url}) in ${where}; ${fix}`);
  }
}
for (const e of entries) {
  if (!advisories.some((a) => a.id === e.id && a.package === e.package)) console.log(`advisories: allow-list entry ${e.id} (${e.package}) no longer matches anything: remove it`);
}
for (const p of problems) console.error(`advisories: allow-list: ${p}`);
const counts = report.metadata?.vulnerabilities ?? {};
const dependencies = report.metadata?.dependencies?.prod ?? report.metadata?.dependencies?.total;
console.log(
  `advisories: ${dependencies ?? '?'} runtime dependencies; critical ${counts.critical ?? 0}, high ${counts.high ?? 0}, moderate ${counts.moderate ?? 0}, low ${counts.low ?? 0}; ${acted.length} to act on`,
);
process.exit(acted.length > 0 || problems.length > 0 ? 1 : 0);
