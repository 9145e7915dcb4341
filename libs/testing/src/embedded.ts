import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { eventually } from './infra';
import { repoRoot } from './services';

/**
 * `scripts/dev.ts` (what `make dev` runs) as a child process, on ports shifted by `offset` and with
 * its data in `dataDir`, ignoring any real-infrastructure variables of the test environment; `env`
 * adds variables (e.g. a gateway's RATE_LIMIT_PER_MINUTE) as a user would set them in the shell.
 */
export async function startEmbeddedDev(options: { offset: number; pgPort: number; dataDir: string; env?: Record<string, string> }) {
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
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await eventually(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dev exited: ${output.slice(-3000)}`);
      return output.includes('CryptoCare is running');
    }, 150_000, 250);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  return {
    output: () => output,
    pid: child.pid!,
    /** Ctrl-C, as a user stops it; resolves once it has exited. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
    /** A crash (SIGKILL, as the OOM killer would): nothing of dev.ts gets to run; resolves once it is gone. */
    async crash() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export type EmbeddedDev = Awaited<ReturnType<typeof startEmbeddedDev>>;
