import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually } from './infra';
import { repoRoot } from './services';

/**
 * `scripts/dev.ts` (what `make dev` runs) as a child process, on ports shifted by `offset` and with
 * its data in `dataDir`, ignoring any real-infrastructure variables of the test environment.
 */
export async function startEmbeddedDev(options: { offset: number; pgPort: number; dataDir: string }) {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/dev.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT_OFFSET: String(options.offset),
      EMBEDDED_PG_PORT: String(options.pgPort),
      DEV_DATA_DIR: options.dataDir,
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      REDIS_URL: '',
      KAFKA_BROKERS: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`dev exited: ${output.slice(-3000)}`);
    return output.includes('CryptoCare is running');
  }, 150_000, 250);
  return {
    output: () => output,
    /** Ctrl-C, as a user stops it; resolves once it has exited. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export type EmbeddedDev = Awaited<ReturnType<typeof startEmbeddedDev>>;
