import type { Logger } from '@cryptocare/platform';
import type { BackgroundTask } from '@cryptocare/events';

/**
 * A background loop: runs `pass` every `everyMs` (never two passes at once in one process);
 * a pass that returns true (more work waiting) is followed at once by another. stop() waits for
 * the pass in flight.
 */
export function periodicTask(name: string, everyMs: number, pass: () => Promise<boolean>, logger: Logger): BackgroundTask & { wake(): void } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  const schedule = (delay: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void loop(), delay);
  };

  async function loop() {
    if (stopped || running) return;
    let more = false;
    running = pass()
      .then((m) => void (more = m))
      .catch((err) => logger.warn({ err, task: name }, 'background pass failed; will retry'));
    await running;
    running = undefined;
    schedule(more ? 0 : everyMs);
  }

  return {
    name,
    start() {
      stopped = false;
      schedule(Math.min(everyMs, 250));
    },
    wake() {
      if (!running) schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
