import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../src/services';

/**
 * The advisory check of `make test` (scripts/tools/advisories.mjs) on saved `npm audit --omit=dev
 * --json` reports in npm's format: what fails the build, what an allow-list entry accepts and for
 * how long, and what happens when the advisory database cannot be asked.
 */
const script = path.join(repoRoot, 'scripts/tools/advisories.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'advisories-'));
let n = 0;
const file = (content: unknown) => {
  const f = path.join(dir, `${n++}.json`);
  writeFileSync(f, JSON.stringify(content));
  return f;
};

function check(report: unknown, allowList: unknown = { advisories: [] }, opts: { today?: string; env?: Record<string, string> } = {}) {
  const args = [script, '--report', file(report), '--allowlist', file(allowList), '--today', opts.today ?? '2026-12-01'];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ADVISORIES_REQUIRED: '', ...opts.env } });
  return { code: run.status, output: run.stdout + run.stderr };
}

const advisory = (severity: string) => ({
  source: 1109999,
  name: 'jwt-thing',
  dependency: 'jwt-thing',
  title: 'Signature not verified for some keys',
  url: 'https://github.com/advisories/GHSA-abcd-efgh-ijkl',
  severity,
  cwe: ['CWE-347'],
  range: '<2.4.1',
});
const report = (severity: string) => ({
  auditReportVersion: 2,
  vulnerabilities: {
    'jwt-thing': { name: 'jwt-thing', severity, isDirect: false, via: [advisory(severity)], effects: ['auth-kit'], range: '<2.4.1', nodes: ['node_modules/jwt-thing'], fixAvailable: true },
    'auth-kit': { name: 'auth-kit', severity, isDirect: true, via: ['jwt-thing'], effects: [], range: '1.0.0 - 1.3.0', nodes: ['node_modules/auth-kit'], fixAvailable: { name: 'auth-kit', version: '1.4.0', isSemVerMajor: false } },
  },
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 2, [severity]: 2 }, dependencies: { prod: 321, total: 321 } },
});
const accepted = (reviewBy: string, reason = 'only reached through the admin export, which never verifies tokens with it') => ({
  advisories: [{ id: 'GHSA-abcd-efgh-ijkl', package: 'jwt-thing', reason, added: '2026-11-20', reviewBy }],
});

describe('the advisory check of the runtime dependencies', () => {
  it('fails on a high or critical advisory and names it, where it is installed and the fix', () => {
    for (const severity of ['high', 'critical']) {
      const { code, output } = check(report(severity));
      expect(code).toBe(1);
      expect(output).toContain(`${severity.toUpperCase()} GHSA-abcd-efgh-ijkl jwt-thing <2.4.1`);
      expect(output).toContain('node_modules/jwt-thing');
      expect(output).toContain('1 to act on');
    }
  });

  it('passes on moderate and low advisories and on a clean report, counting them', () => {
    expect(check(report('moderate'))).toEqual({ code: 0, output: expect.stringContaining('moderate 2, low 0; 0 to act on') });
    expect(check({ auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: {}, dependencies: { prod: 300 } } }).code).toBe(0);
  });

  it('accepts an advisory of the allow-list until its review date, then fails again', () => {
    const before = check(report('critical'), accepted('2027-01-31'));
    expect(before.code).toBe(0);
    expect(before.output).toContain('accepted until 2027-01-31: critical GHSA-abcd-efgh-ijkl jwt-thing');
    const after = check(report('critical'), accepted('2027-01-31'), { today: '2027-02-01' });
    expect(after.code).toBe(1);
    expect(after.output).toContain('accepted until 2027-01-31, which has passed');
  });

  it('refuses an allow-list entry without a reason or dates, and one for another package', () => {
    expect(check(report('critical'), accepted('2027-01-31', 'ok')).code).toBe(1);
    expect(check(report('high'), { advisories: [{ id: 'GHSA-abcd-efgh-ijkl', package: 'jwt-thing', reason: 'does not reach us, we never call it' }] }).code).toBe(1);
    const other = check(report('high'), { advisories: [{ ...accepted('2027-01-31').advisories[0], package: 'auth-kit' }] });
    expect(other.code).toBe(1);
    expect(other.output).toContain('no longer matches anything');
  });

  it('says loudly when the advisory database cannot be asked, and fails then only when required', () => {
    const refused = { message: '405 Method Not Allowed - POST /-/npm/v1/security/advisories/bulk', statusCode: 405, error: { summary: '', detail: '' } };
    const lenient = check(refused);
    expect(lenient.code).toBe(0);
    expect(lenient.output).toContain('NOT CHECKED');
    expect(lenient.output).toContain('405 Method Not Allowed');
    expect(check(refused, undefined, { env: { ADVISORIES_REQUIRED: '1' } }).code).toBe(2);
  });

  it('ships an allow-list whose every entry is complete and not past its review date', () => {
    const list = JSON.parse(readFileSync(path.join(repoRoot, 'scripts/tools/advisories-allowlist.json'), 'utf8'));
    const today = new Date().toISOString().slice(0, 10);
    for (const e of list.advisories) {
      expect(e).toEqual({ id: expect.stringMatching(/^GHSA-/), package: expect.any(String), reason: expect.any(String), added: expect.any(String), reviewBy: expect.any(String) });
      expect(e.reviewBy >= today).toBe(true);
    }
  });
});
