// PostgreSQL backup and restore (docs/operations/postgres-backup-restore.md):
// - the restore drill (scripts/ops/restore-drill.sh) really runs: a throwaway PostgreSQL with WAL
//   archiving, a base backup, writes before and after a target time, a point-in-time restore, checks;
// - k8s/platform renders a CloudNativePG Cluster restored from its backups (the procedure's step).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_CHART, ROOT, find, helmPath, helmTemplate, must, parseManifests, valuesFiles } from './lib/tools';
import { validateAll } from './lib/validate';

const DRILL = join(ROOT, 'scripts/ops/restore-drill.sh');
const PROCEDURE = join(ROOT, 'docs/operations/postgres-backup-restore.md');

/** The ```yaml blocks of the procedure (indented ones included), in order. */
function yamlBlocksOfProcedure(): string[] {
  const text = readFileSync(PROCEDURE, 'utf8');
  return [...text.matchAll(/^( *)```yaml\n([\s\S]*?)^\1```$/gm)].map(([, indent, body]) =>
    body!.split('\n').map((l) => l.slice(indent!.length)).join('\n'),
  );
}

interface DrillReport {
  result: 'pass' | 'fail';
  target: 'time' | 'latest';
  restorePoint: string;
  lastCommitWanted: string;
  recoveredUntil: string;
  rpoSeconds: number;
  restoreSeconds: number;
  timeline: number;
  rows: { base: number; wal: number; late: number; deletedAfterTarget: number };
  checks: Record<string, 'ok' | 'fail'>;
}

interface DrillRun { code: number | null; stdout: string; stderr: string; report: DrillReport }

function runDrill(target: 'time' | 'latest'): Promise<DrillRun> {
  const dir = mkdtempSync(join(tmpdir(), 'restore-drill-test-'));
  const json = join(dir, 'report.json');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [DRILL, '--target', target], {
      cwd: ROOT,
      env: { ...process.env, RESTORE_DRILL_REPORT_JSON: json, RESTORE_DRILL_TIMEOUT: '240' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // SIGTERM lets the drill's trap stop its servers and remove its directory.
    const timer = setTimeout(() => child.kill('SIGTERM'), 280_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const report = JSON.parse(readFileSync(json, 'utf8')) as DrillReport;
        resolve({ code, stdout, stderr, report });
      } catch (err) {
        reject(new Error(`the drill wrote no report (exit ${code}):\n${stdout}\n${stderr}\n${String(err)}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('PostgreSQL restore drill', () => {
  test('point-in-time restore: everything committed before the target is back, nothing after it', async () => {
    const run = await runDrill('time');
    const { report } = run;
    if (run.code !== 0) console.log(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    expect(report.result).toBe('pass');
    expect(report.checks).toEqual({
      base_backup_verified: 'ok',
      after_target_commit_archived: 'ok', // the rows after the target were in the archive…
      rows_from_base_backup_present: 'ok',
      rows_from_wal_present: 'ok',
      last_commit_recovered: 'ok',
      state_equals_target: 'ok',
      after_target_absent: 'ok', // …and the restore left them out
      stopped_at_target: 'ok',
      outbox_consistent: 'ok',
      restored_writable: 'ok',
      source_archive_untouched: 'ok',
    });
    // What the checks stand on, restated from the report's numbers.
    expect(report.rows).toEqual({ base: 40, wal: 30, late: 0, deletedAfterTarget: 15 });
    expect(report.recoveredUntil).toBe(report.lastCommitWanted);
    expect(Date.parse(report.recoveredUntil.replace(' ', 'T').replace(/\+00$/, 'Z'))).toBeLessThan(
      Date.parse(report.restorePoint.replace(' ', 'T').replace(/\+00$/, 'Z')),
    );
    expect(report.rpoSeconds).toBe(0);
    expect(report.timeline).toBe(2);
    expect(report.restoreSeconds).toBeGreaterThan(0);
    // The human report says the same.
    expect(run.stdout).toMatch(/^ {2}RPO achieved {5}0\.000s/m);
    expect(run.stdout).toMatch(/^ {2}time to restore {2}[0-9.]+s/m);
    expect(run.stdout).toMatch(/^result: pass$/m);
    expect(run.stdout).not.toMatch(/^ {2}fail /m);
  }, 300_000);

  test('restore to the end of the archive (primary lost): the writes after that time are there too', async () => {
    // The same workload without a target: the late writes come back, so their absence above is the
    // target's doing and not a gap in the archive.
    const run = await runDrill('latest');
    const { report } = run;
    if (run.code !== 0) console.log(run.stdout, run.stderr);
    expect(run.code).toBe(0);
    expect(report.result).toBe('pass');
    expect(report.checks).toMatchObject({ late_writes_present: 'ok', state_equals_target: 'ok', last_commit_recovered: 'ok' });
    expect(report.checks).not.toHaveProperty('after_target_absent');
    expect(report.rows).toEqual({ base: 40 - 15, wal: 30, late: 20, deletedAfterTarget: 15 });
    expect(report.rpoSeconds).toBe(0);
  }, 300_000);
});

describe('k8s/platform: a CloudNativePG cluster restored from its backups', () => {
  const files = valuesFiles(PLATFORM_CHART, 'staging', 'ch');
  const template = (set: string[]) => helmTemplate(PLATFORM_CHART, files, { namespace: 'cryptocare-platform', release: 'cryptocare-platform', set });
  const restore = [
    'postgres.recovery.sourceServerName=cryptocare-pg',
    'postgres.recovery.targetTime=2026-05-04T09:58:00Z',
    'postgres.backup.serverName=cryptocare-pg-r1',
  ];

  beforeAll(() => {
    helmPath();
  }, 15 * 60_000);

  test('recovery bootstrap from the object store, to the target time, archiving under a new server name', () => {
    const r = template(restore);
    expect(r.stderr).toBe('');
    const objs = parseManifests(r.stdout);
    expect(validateAll(objs)).toEqual([]);
    const cluster = must(find(objs, 'Cluster', 'cryptocare-pg'), 'the Cluster');
    expect(cluster.spec.bootstrap).toEqual({
      recovery: { source: 'recovery-source', database: 'cryptocare', owner: 'cryptocare', recoveryTarget: { targetTime: '2026-05-04T09:58:00Z' } },
    });
    expect(cluster.spec.externalClusters).toEqual([
      {
        name: 'recovery-source',
        plugin: { name: 'barman-cloud.cloudnative-pg.io', parameters: { barmanObjectName: 'cryptocare-pg-backups', serverName: 'cryptocare-pg' } },
      },
    ]);
    expect(cluster.spec.plugins).toEqual([
      { name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'cryptocare-pg-backups', serverName: 'cryptocare-pg-r1' } },
    ]);
    // the names the services connect to stay the same: no DATABASE_URL changes
    expect(find(objs, 'Pooler', 'cryptocare-pg-pooler-rw')?.spec.cluster.name).toBe('cryptocare-pg');
    // a first base backup of the new timeline at once
    expect(find(objs, 'ScheduledBackup', 'cryptocare-pg-daily')?.spec.immediate).toBe(true);
  });

  test('without a target time the whole archive is replayed', () => {
    const objs = parseManifests(template([restore[0]!, restore[2]!]).stdout);
    expect(must(find(objs, 'Cluster', 'cryptocare-pg'), 'the Cluster').spec.bootstrap.recovery).not.toHaveProperty('recoveryTarget');
  });

  test('refuses a restore that would archive over the WAL it restores from, and one without a source', () => {
    const over = template([restore[0]!]);
    expect(over.status).not.toBe(0);
    expect(over.stderr).toContain('would archive over the WAL it restores from');
    const noSource = template(['postgres.recovery.targetTime=2026-05-04T09:58:00Z', restore[2]!]);
    expect(noSource.status).not.toBe(0);
    expect(noSource.stderr).toContain('postgres.recovery.sourceServerName is required');
  });

  test("the procedure's manifests are valid: the side-by-side Cluster and the in-place values", () => {
    const blocks = yamlBlocksOfProcedure();
    const sideBySide = parseManifests(must(blocks.find((b) => b.includes('kind: Cluster')), 'the side-by-side Cluster of section 5.2'));
    expect(validateAll(sideBySide)).toEqual([]);
    const pitr = must(find(sideBySide, 'Cluster', 'cryptocare-pg-pitr'), 'cryptocare-pg-pitr');
    expect(pitr.spec.plugins).toBeUndefined(); // a temporary copy archives nothing
    expect(pitr.spec.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: 'cryptocare-pg-backups', serverName: 'cryptocare-pg' });

    const dir = mkdtempSync(join(tmpdir(), 'restore-values-'));
    try {
      const values = join(dir, 'restore.yaml');
      writeFileSync(values, must(blocks.find((b) => b.startsWith('postgres:') && b.includes('recovery:')), 'the values of section 5.3'));
      const r = helmTemplate(PLATFORM_CHART, [...files, values], { namespace: 'cryptocare-platform', release: 'cryptocare-platform' });
      expect(r.stderr).toBe('');
      const objs = parseManifests(r.stdout);
      expect(validateAll(objs)).toEqual([]);
      const cluster = must(find(objs, 'Cluster', 'cryptocare-pg'), 'the Cluster');
      expect(cluster.spec.bootstrap.recovery.recoveryTarget.targetTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(cluster.spec.plugins[0].parameters.serverName).not.toBe(cluster.spec.externalClusters[0].plugin.parameters.serverName);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a cluster created normally is unchanged: initdb, archiving under its own name', () => {
    const objs = parseManifests(template([]).stdout);
    const cluster = must(find(objs, 'Cluster', 'cryptocare-pg'), 'the Cluster');
    expect(Object.keys(cluster.spec.bootstrap)).toEqual(['initdb']);
    expect(cluster.spec.externalClusters).toBeUndefined();
    expect(cluster.spec.plugins[0].parameters).toEqual({ barmanObjectName: 'cryptocare-pg-backups' });
  });
});
