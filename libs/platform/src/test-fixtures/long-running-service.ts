// A process that runs until stopped, as a service does (runAsProcess): for shutdown.test.ts.
import { runAsProcess } from '../shutdown';

runAsProcess('long-running-test-service', async () => {
  const keepAlive = setInterval(() => undefined, 60_000);
  return { stop: async () => clearInterval(keepAlive) };
});
