// What one log line costs the thread that writes it: the last-defence scrub (scrubSecrets) alone,
// on lines with and without something to mask, and a whole access line as the gateway writes one
// per request (createAccessLogger, to a stream that drops it). Every process writes through these.
// Run: `make bench-log-line` (BENCH_LINES per case, default 200 000; the median of 5 rounds).
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createAccessLogger, scrubSecrets } from '../libs/platform/src/logger';

const linesPerRound = Number(process.env.BENCH_LINES ?? 200_000);
const id = '5b7c8a52-9d2c-4a59-9f0e-3b0c8c1d2e3f';
const accessFields = { reqId: id, req: { method: 'GET', url: `/v1/professionals/${id}`, route: '/v1/professionals/:id' }, res: { statusCode: 200 }, responseTime: 1.3 };
const traced = { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', trace_flags: '01' };
const line = (extra: Record<string, unknown>) =>
  `${JSON.stringify({ level: 'info', time: '2026-12-03T10:00:00.000Z', service: 'gateway', ...traced, ...accessFields, ...extra, msg: 'request completed' })}\n`;

const scrubCases: Array<[string, string]> = [
  ['an access line, nothing to mask', line({})],
  ['an error line quoting an email', line({ err: { message: 'duplicate key for alice@example.ch' } })],
  ['an error line quoting a JWT', line({ err: { message: 'bad token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln' } })],
  ['hostile: an error line quoting 20 000 letters and an @', line({ err: { message: `bad name ${'x'.repeat(20_000)}@` } })],
];

/** Median µs per call of `fn` over 5 rounds of `calls` calls. */
function microsPerCall(fn: () => unknown, calls = linesPerRound): number {
  const rounds = Array.from({ length: 5 }, () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    return Number(process.hrtime.bigint() - start) / calls / 1000;
  }).sort((a, b) => a - b);
  return Math.round(rounds[2]! * 100) / 100;
}

function main() {
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const rows: string[] = [];
  for (const [label, text] of scrubCases) {
    // The hostile line is far slower per call on the old pattern: fewer calls keep the round short.
    const calls = text.length > 10_000 ? 20 : linesPerRound;
    rows.push(`| scrubSecrets: ${label} (${text.length} characters) | ${microsPerCall(() => scrubSecrets(text), calls)} |`);
  }
  const dropped = new Writable({ write: (_chunk, _enc, done) => done() });
  const access = createAccessLogger('gateway', 'info', dropped as never);
  rows.push(`| the gateway's access line, written (createAccessLogger) | ${microsPerCall(() => access.info(accessFields, 'request completed'))} |`);
  const report = [
    `# Log line cost ${new Date().toISOString().slice(0, 10)} (commit ${commit})`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. Command: \`make bench-log-line\` (median of 5 rounds of ${linesPerRound} lines, 20 for the hostile one).`,
    '',
    '| case | µs per line |',
    '|---|---|',
    ...rows,
  ];
  process.stdout.write(`${rows.join('\n')}\n`);
  const file = path.join(__dirname, 'results', `log-line-${new Date().toISOString().slice(0, 10)}.md`);
  writeFileSync(file, `${report.join('\n')}\n`);
  process.stdout.write(`written to ${file}\n`);
}

main();
