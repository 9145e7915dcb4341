// A service started by a test platform stops once the process that started it is gone (a killed
// test run or benchmark), instead of running on unseen; started otherwise, it keeps running.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const fixture = path.join(__dirname, 'test-fixtures/long-running-service.ts');

/** Starts the fixture from a parent process that exits at once; returns the orphan's pid. */
function orphan(env: Record<string, string>): number {
  const parent = `
    const { spawn } = require('node:child_process');
    const env = { ...process.env, ...${JSON.stringify(env)} };
    if (env.STOP_WHEN_PARENT_EXITS === 'parent') env.STOP_WHEN_PARENT_EXITS = String(process.pid);
    const child = spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(fixture)}], { env, stdio: 'ignore' });
    child.unref();
    process.stdout.write(String(child.pid));`;
  return Number(execFileSync(process.execPath, ['-e', parent], { encoding: 'utf8' }));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function aliveAfter(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && alive(pid)) await new Promise((resolve) => setTimeout(resolve, 200));
  return alive(pid);
}

describe('stopWhenParentExits', () => {
  it('stops an orphaned service when STOP_WHEN_PARENT_EXITS names its parent, and leaves one alone otherwise', async () => {
    const watched = orphan({ STOP_WHEN_PARENT_EXITS: 'parent' });
    const unwatched = orphan({});
    try {
      expect(await aliveAfter(watched, 10_000)).toBe(false);
      expect(alive(unwatched)).toBe(true);
    } finally {
      for (const pid of [watched, unwatched]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
