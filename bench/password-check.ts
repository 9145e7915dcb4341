// What judging a new password costs identity's only thread (sign-up, password change and reset run
// zxcvbn synchronously), with the platform's limits and with zxcvbn-ts's defaults, on ordinary
// passwords and on ones crafted to explode its l33t matching; and whether the limits change a score.
// Run: `make bench-password-check` (BENCH_ROUNDS per password, default 5; the median is reported).
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JUDGING_LIMITS, strengthChecker, ZXCVBN_DEFAULT_LIMITS } from '../services/identity/src/domain/password-policy';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

/** A fixed pseudo-random string (the same in every run): `n` characters of `alphabet`. */
function scrambled(alphabet: string, n: number, seed: number): string {
  let state = seed;
  return Array.from({ length: n }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return alphabet[state % alphabet.length];
  }).join('');
}

const samples: Array<[string, string]> = [
  ['ordinary: xkcd passphrase', 'correct horse battery staple'],
  ['ordinary: the load benchmark\'s', 'Bench-patient-passphrase-2026!'],
  ['ordinary: l33t word', 'Tr0ub4dor&3'],
  ['ordinary: l33t common password', 'p@ssw0rd123'],
  ['crafted: "p4$$w0rd!1" x 10', 'p4$$w0rd!1'.repeat(10)],
  ['crafted: l33t words x 4', 'P@ssw0rd4dm1n$ecr3t!Adm1n1str4t0r'.repeat(4)],
  ['crafted: "a1" x 50', 'a1'.repeat(50)],
  ['crafted: 100 l33t characters', scrambled('4@8({[<369!1|70$5+%2', 100, 7)],
  ['crafted: 256 l33t characters', scrambled('4@8({[<369!1|70$5+%2', 256, 11)],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(checker: ReturnType<typeof strengthChecker>, password: string): { ms: number; score: number } {
  let score = 0;
  const times = Array.from({ length: rounds }, () => {
    const start = performance.now();
    score = checker.check(password).score;
    return performance.now() - start;
  });
  return { ms: Math.round(median(times) * 10) / 10, score };
}

function main() {
  const defaults = ZXCVBN_DEFAULT_LIMITS;
  const checkers = { shipped: strengthChecker(JUDGING_LIMITS), defaults: strengthChecker(defaults) };
  for (const checker of Object.values(checkers)) checker.check('warm up the lists');
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const lines = [
    `# Password check ${new Date().toISOString().slice(0, 10)} (commit ${commit})`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. Command: \`make bench-password-check\` (median of ${rounds} checks).`,
    `Limits: shipped ${JUDGING_LIMITS.l33tVariants} l33t variants of ${JUDGING_LIMITS.judgedLength} characters; zxcvbn-ts defaults ${defaults.l33tVariants} of ${defaults.judgedLength}.`,
    '',
    '| password | length | shipped: ms / score | zxcvbn defaults: ms / score |',
    '|---|---|---|---|',
  ];
  for (const [label, password] of samples) {
    const shipped = measure(checkers.shipped, password);
    const unbounded = measure(checkers.defaults, password);
    lines.push(`| ${label} | ${password.length} | ${shipped.ms} / ${shipped.score} | ${unbounded.ms} / ${unbounded.score} |`);
    process.stdout.write(`${lines.at(-1)}\n`);
  }
  const file = path.join(__dirname, 'results', `password-check-${new Date().toISOString().slice(0, 10)}.md`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  process.stdout.write(`written to ${file}\n`);
}

main();
