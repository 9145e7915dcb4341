// The fault-injection suite and its invariant checker (docs/operations/faults.md).
//   npx tsx scripts/faults.ts run [--short] [--keep] [--out DIR]   (make faults: the full run)
//   npx tsx scripts/faults.ts check DIR/run.json                   (re-check a run kept with --keep)
// Exit status: 0 when no invariant is violated, 1 otherwise, 2 on a usage error.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { checkInvariants, figureRows, formatTable, readDatabases, readDeadLetters } from '../libs/testing/src/faults/invariants';
import { fullFaultRun, shortFaultRun } from '../libs/testing/src/faults/profiles';
import { runFaultSuite } from '../libs/testing/src/faults/suite';

const repoRoot = path.resolve(__dirname, '..');

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flag = (name: string) => rest.includes(name);
  const value = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  if (command === 'run') {
    const profile = flag('--short') ? shortFaultRun : fullFaultRun;
    const infraDir = path.join(repoRoot, '.data/faults-infra');
    const report = await runFaultSuite({ ...profile, infraDir, outDir: value('--out') ?? path.join(repoRoot, '.data/faults-run'), keepInfra: flag('--keep'), signal: interrupted.signal });
    return report.check.violations.length === 0 ? 0 : 1;
  }
  if (command === 'check' && rest[0]) {
    const run = JSON.parse(readFileSync(rest[0], 'utf8'));
    const db = await readDatabases(run.databaseUrl, run.schemas);
    const deadLetters = await readDeadLetters(run.kafkaBrokers, run.namespace);
    const check = checkInvariants({ ...db, deadLetters, providerInvoices: run.providerInvoices, providerMeetings: run.providerMeetings, bookedByClients: run.bookedByClients });
    console.log(formatTable('Invariants', [...figureRows(check.figures), ['violations', check.violations.length]]));
    for (const v of check.violations) console.log(`VIOLATION ${v.kind} ${v.subject}: ${v.detail}`);
    return check.violations.length === 0 ? 0 : 1;
  }
  console.error('usage: scripts/faults.ts run [--short] [--keep] [--out DIR] | check RUN.json');
  return 2;
}

// Ctrl-C or SIGTERM: the run is aborted and its clean-up (services, proxies, infrastructure) runs.
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`faults: ${signal}; tearing down`);
    interrupted.abort();
  });
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
