import type { Logger } from 'pino';
import { createLogger } from './logger';

export type ShutdownStep = { name: string; run: () => Promise<unknown> };

/**
 * Graceful shutdown on SIGTERM/SIGINT: steps run in the order given (stop accepting, drain
 * in-flight work, commit offsets, close pools). A second signal or the time limit exits at once.
 */
export function onShutdown(logger: Logger, steps: ShutdownStep[], limitMs = 25_000): () => Promise<void> {
  let running: Promise<void> | undefined;
  const shutdown = () => {
    running ??= (async () => {
      const timer = setTimeout(() => {
        logger.error('shutdown took too long, exiting');
        process.exit(1);
      }, limitMs);
      timer.unref();
      for (const step of steps) {
        try {
          await step.run();
          logger.info({ step: step.name }, 'shutdown step done');
        } catch (err) {
          logger.error({ step: step.name, err }, 'shutdown step failed');
        }
      }
      // Last: export the spans still buffered (telemetry.ts; a no-op when tracing is off).
      try {
        const { currentTelemetry } = require('./telemetry') as typeof import('./telemetry');
        await currentTelemetry()?.shutdown();
      } catch (err) {
        logger.warn({ err }, 'telemetry flush failed');
      }
      clearTimeout(timer);
    })();
    return running;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (running) process.exit(1);
    logger.info({ signal }, 'shutting down');
    void shutdown().then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return shutdown;
}

/**
 * Runs a service's `main` as the process: stops gracefully on SIGTERM/SIGINT, and a start that
 * fails (a bad variable, an unreachable database) exits 1 with the reason.
 */
export function runAsProcess(name: string, start: () => Promise<{ stop(): Promise<void> }>): void {
  const parent = Number(process.env.STOP_WHEN_PARENT_EXITS);
  if (Number.isInteger(parent) && parent > 0) stopWhenParentExits(parent);
  start()
    .then((service) => onShutdown(createLogger(name), [{ name, run: () => service.stop() }]))
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}

/**
 * For processes a test or benchmark platform starts (libs/testing's startPlatform sets
 * STOP_WHEN_PARENT_EXITS to its own pid): once that parent is gone (a killed test run), the process
 * stops as on SIGTERM instead of running on unseen, holding its ports and taking CPU from the next
 * benchmark. Node has no parent-death signal, so the parent is checked every second (an orphan is
 * adopted by another process); by pid, as the parent may be gone before this process starts.
 */
export function stopWhenParentExits(parent: number, everyMs = 1_000): void {
  const check = () => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
}
