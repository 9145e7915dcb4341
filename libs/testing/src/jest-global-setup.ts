import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Integration tests run against real PostgreSQL, Redis and Kafka. `make test` starts them first;
 * this makes a bare `npx jest` work too: scripts/infra/up.sh is idempotent (fast when running)
 * and prints the variables the tests read.
 */
export default async function globalSetup(): Promise<void> {
  process.stderr.write(`\njest: Node ${process.version} (${process.execPath})\n`);
  if (process.env.CRYPTOCARE_SKIP_INFRA === '1') return;
  const root = path.resolve(__dirname, '../../..');
  const out = execFileSync('bash', [path.join(root, 'scripts/infra/up.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]!] = match[2]!;
  }
}
